import RealModule

/// A counter-based random number generator: draw `index` of stream `stream` under seed `seed` is
/// a pure function of the three, so any thread, rank or shard that knows an element's global
/// index draws the same number for it, and a backward pass can regenerate a dropout mask instead
/// of storing it.
///
/// Draw i is SplitMix64's output function applied to key + (i + 1)·γ, where γ is the golden-ratio
/// increment and the key mixes seed and stream: for a fixed key this is exactly the SplitMix64
/// sequence (which passes BigCrush), and distinct keys start it at unrelated points of its 2^64 cycle.
public struct CounterRNG: Sendable, Hashable {
    public let seed: UInt64
    public let stream: UInt64
    @usableFromInline let key: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        key = CounterRNG.mix(seed &+ CounterRNG.mix(stream &+ 0x632B_E59B_D9B4_E019))
    }

    @inlinable @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64 random bits for counter `index` (indices may be any Int, including negative ones).
    @inlinable @inline(__always)
    public func bits(at index: Int) -> UInt64 {
        CounterRNG.mix(key &+ (UInt64(bitPattern: Int64(index)) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// A uniform draw in [0, 1) with 53 random bits, from counter `index`.
    @inlinable
    public func uniform(at index: Int) -> Double {
        Double(bits(at: index) >> 11) * 0x1p-53
    }

    /// A standard normal draw by Box–Muller. Normal draw i consumes counters 2i and 2i + 1, so
    /// take uniforms and normals from different streams.
    @inlinable
    public func normal(at index: Int) -> Double {
        let u1 = (Double(bits(at: 2 &* index) >> 11) + 1) * 0x1p-53   // (0, 1]: log stays finite
        let u2 = Double(bits(at: 2 &* index &+ 1) >> 11) * 0x1p-53
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }
}
