/// out = a + b: the residual connection. On gradients it is also the join where two backward
/// paths meet (the stream's gradient plus the sublayer's), since input gradients are written,
/// not accumulated (see Conventions.swift).
public enum ResidualAdd {
    // out, a, b: [n]; out may be a or b.
    @inlinable
    public static func forward<T: TensorScalar>(out: Tensor<T>, a: Tensor<T>, b: Tensor<T>) {
        precondition(out.count == a.count && b.count == a.count,
                     "ResidualAdd.forward: out \(out.shape), a \(a.shape), b \(b.shape)")
        let o = out.pointer, ap = a.pointer, bp = b.pointer
        parallelChunks(a.count) { range in
            map8(range.count, o + range.lowerBound, ap + range.lowerBound, bp + range.lowerBound) { $0 + $1 }
        }
    }

    // dA, dB, dOut: [n]; both summands receive dOut unchanged (written; either may be dOut,
    // in which case nothing is copied).
    @inlinable
    public static func backward<T: TensorScalar>(dA: Tensor<T>, dB: Tensor<T>, dOut: Tensor<T>) {
        precondition(dA.count == dOut.count && dB.count == dOut.count,
                     "ResidualAdd.backward: dA \(dA.shape), dB \(dB.shape) for dOut \(dOut.shape)")
        for d in [dA, dB] where d.pointer != dOut.pointer {
            let dp = d.pointer, g = dOut.pointer
            parallelChunks(dOut.count) { range in
                (dp + range.lowerBound).update(from: g + range.lowerBound, count: range.count)
            }
        }
    }
}
