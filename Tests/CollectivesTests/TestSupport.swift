import TensorCore

/// Rank `rank`'s deterministic input in [-1, 1), with full mantissas so that summing in a
/// different order would change the bits.
func rankInput<T: TensorScalar>(_: T.Type = T.self, rank: Int, count: Int, seed: UInt64 = 7) -> [T] {
    var state = (seed &+ UInt64(rank) &* 0x9E37_79B9_7F4A_7C15) | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return T(Double(state >> 11) / Double(1 << 53) * 2 - 1)
    }
}

/// The reduction of every rank's input, element by element, combined in rank order.
func serialReduce<T: TensorScalar>(_ inputs: [[T]], max: Bool) -> [T] {
    var out = inputs[0]
    for input in inputs.dropFirst() {
        for i in out.indices { out[i] = max ? Swift.max(out[i], input[i]) : out[i] + input[i] }
    }
    return out
}

/// The bit patterns of `values`, for exact comparisons that also tell -0 from +0.
func bits<T: TensorScalar>(_ values: [T]) -> [UInt64] {
    values.map { v in
        if let f = v as? Float { return UInt64(f.bitPattern) }
        return (v as! Double).bitPattern
    }
}
