/// Parameter initialization from a seed. Element k of `tensor` receives the draw of global index
/// `offset + k`, so initializing the full (master) tensor and slicing it gives every shard
/// exactly what initializing the shard with its own offset gives; the values are drawn in Double
/// and rounded, so Float and Double tensors hold the same numbers.
public enum RandomFill {
    /// tensor[k] = mean + std · N(0,1) draw (offset + k) of (seed, stream).
    @inlinable
    public static func normal<T: TensorScalar>(
        _ tensor: Tensor<T>, seed: UInt64, stream: UInt64 = 0,
        mean: Double = 0, std: Double, offset: Int = 0
    ) {
        let rng = CounterRNG(seed: seed, stream: stream)
        let p = tensor.pointer
        parallelChunks(tensor.count, grain: 1 << 13) { range in
            for k in range { p[k] = T(mean + std * rng.normal(at: offset + k)) }
        }
    }

    /// tensor[k] = low + (high − low) · U[0,1) draw (offset + k) of (seed, stream).
    @inlinable
    public static func uniform<T: TensorScalar>(
        _ tensor: Tensor<T>, seed: UInt64, stream: UInt64 = 0,
        low: Double = 0, high: Double = 1, offset: Int = 0
    ) {
        let rng = CounterRNG(seed: seed, stream: stream)
        let p = tensor.pointer
        parallelChunks(tensor.count, grain: 1 << 13) { range in
            for k in range { p[k] = T(low + (high - low) * rng.uniform(at: offset + k)) }
        }
    }
}
