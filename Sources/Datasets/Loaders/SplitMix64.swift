/// The loaders' random numbers: SplitMix64, keyed by (seed, epoch, sample, …) so every draw is
/// a pure function of its key — the same on every rank, at any dp size, after any resume.
/// Bounded draws are computed here rather than by the standard library, whose algorithms may
/// change between Swift versions and with them every shuffled order.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for the given key: the key words folded through the mixing function.
    public init(key: UInt64...) {
        var state: UInt64 = 0x243F_6A88_85A3_08D3
        for word in key { state = SplitMix64.mix(state ^ SplitMix64.mix(word &+ 0x9E37_79B9_7F4A_7C15)) }
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (multiply-high; the bias is below 2^-40 for the bounds used here).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A seeded Fisher–Yates permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        var index = count - 1
        while index > 0 {
            order.swapAt(index, below(index + 1))
            index -= 1
        }
        return order
    }
}
