/// Adds a bias vector to every row.
public enum BiasAdd {
    // out, x: [rows, n]; bias: [n]; out may be x.
    @inlinable
    public static func forward<T: TensorScalar>(out: Tensor<T>, x: Tensor<T>, bias: Tensor<T>) {
        let n = x.lastDimension
        precondition(out.count == x.count && bias.count == n,
                     "BiasAdd.forward: out \(out.shape), bias \(bias.shape) for x \(x.shape)")
        let o = out.pointer, xp = x.pointer, b = bias.pointer
        parallelChunks(x.rows, grain: rowGrain(n)) { range in
            for r in range { map8(n, o + r * n, xp + r * n, b) { $0 + $1 } }
        }
    }

    // out: [rows, n] gets bias: [n] in every row: the starting value of a product accumulated
    // onto it (GEMM beta 1), which adds the bias without a pass of its own.
    @inlinable
    public static func fill<T: TensorScalar>(out: Tensor<T>, bias: Tensor<T>) {
        let n = out.lastDimension
        precondition(bias.count == n, "BiasAdd.fill: bias \(bias.shape) for out \(out.shape)")
        let o = out.pointer, b = bias.pointer
        parallelChunks(out.rows, grain: rowGrain(n)) { range in
            for r in range { (o + r * n).update(from: b, count: n) }
        }
    }

    // dBias: [n] accumulates the column sums of dOut: [rows, n]. The input gradient is dOut
    // itself (dx = dOut), which needs no kernel.
    @inlinable
    public static func backward<T: TensorScalar>(dBias: Tensor<T>, dOut: Tensor<T>) {
        let n = dOut.lastDimension
        precondition(dBias.count == n, "BiasAdd.backward: dBias \(dBias.shape) for dOut \(dOut.shape)")
        let g = dOut.pointer, db = dBias.pointer
        parallelPartialSums(dOut.rows, grain: rowGrain(n), width: n, { range, partial in
            for r in range { map8(n, partial, partial, g + r * n) { $0 + $1 } }
        }, combine: { partial in
            map8(n, db, db, partial) { $0 + $1 }
        })
    }
}
