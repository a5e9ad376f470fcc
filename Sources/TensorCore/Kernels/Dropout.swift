/// Inverted dropout: keep an element with probability 1 − p and scale kept ones by 1/(1 − p).
///
/// Element k of the tensors passed in is global element `offset + k`, and whether it is kept
/// depends only on (rng.seed, rng.stream, offset + k): a shard computing elements [a, b) of a
/// larger tensor passes offset a and gets the larger tensor's mask, whatever the thread count.
/// Backward regenerates the mask from the same generator, so no mask is stored.
/// Element i is kept when the top 24 bits of `rng.bits(at: i)` are ≥ round(p · 2^24), the same
/// test for Float and Double.
public enum Dropout {
    // out, x: [n]; out may be x.
    @inlinable
    public static func forward<T: TensorScalar>(
        out: Tensor<T>, x: Tensor<T>, probability p: Double, rng: CounterRNG, offset: Int = 0
    ) {
        precondition(out.count == x.count, "Dropout.forward: out \(out.shape) for x \(x.shape)")
        apply(out.pointer, x.pointer, count: x.count, probability: p, rng: rng, offset: offset)
    }

    // dx, dOut: [n]; dx is written and may be dOut. dx = dOut · mask / (1 − p).
    @inlinable
    public static func backward<T: TensorScalar>(
        dx: Tensor<T>, dOut: Tensor<T>, probability p: Double, rng: CounterRNG, offset: Int = 0
    ) {
        precondition(dx.count == dOut.count, "Dropout.backward: dx \(dx.shape) for dOut \(dOut.shape)")
        apply(dx.pointer, dOut.pointer, count: dOut.count, probability: p, rng: rng, offset: offset)
    }

    @inlinable
    static func apply<T: TensorScalar>(
        _ out: UnsafeMutablePointer<T>, _ x: UnsafeMutablePointer<T>, count: Int,
        probability p: Double, rng: CounterRNG, offset: Int
    ) {
        precondition(p >= 0 && p < 1, "Dropout: probability must be in [0, 1), got \(p)")
        let threshold = UInt64((p * 16_777_216).rounded())
        let scale = T(1 / (1 - p))
        parallelChunks(count, grain: 1 << 14) { range in
            for k in range {
                let keep = rng.bits(at: offset + k) >> 40 >= threshold
                out[k] = keep ? x[k] * scale : 0
            }
        }
    }
}
