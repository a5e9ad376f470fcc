import TensorCore

/// Builds full (master) parameter tensors from one seed, the same on every rank: a parameter's
/// draws depend on the seed and its name only, so a shard is an exact slice of the tp = 1 tensor
/// and adding a layer never shifts the draws of another.
public struct ParameterInitializer: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
    }

    /// N(0, std²) draws, stream chosen by `name`.
    public func normal<T>(_ name: String, shape: [Int], std: Double) -> Tensor<T> {
        let t = Tensor<T>(zeros: shape)
        RandomFill.normal(t, seed: seed, stream: streamID(name), std: std)
        return t
    }

    public func constant<T>(_ shape: [Int], _ value: T) -> Tensor<T> {
        let t = Tensor<T>(zeros: shape)
        t.fill(value)
        return t
    }
}

/// A stable 64-bit id for a name (FNV-1a): Swift's `Hasher` is seeded per process, which would
/// give every rank of an MPI run different draws.
public func streamID(_ name: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in name.utf8 {
        h ^= UInt64(byte)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}
