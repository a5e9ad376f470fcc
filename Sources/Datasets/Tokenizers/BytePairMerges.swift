/// The BPE merge list as a table from an adjacent pair of token ids to its merge: rank and
/// merged id packed as `rank << 32 | merged`, so the smallest packed value is the merge GPT-2
/// applies first and `BytePairMerges.none` (no merge) is larger than all of them.
struct BytePairMerges: Sendable {
    static let none = UInt64.max

    /// Slot i is `entries[2i]` (key: left << 32 | right, plus one; 0 marks an empty slot) and
    /// `entries[2i + 1]` (its merge): one cache line per probe.
    private var entries: [UInt64]
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        entries = [UInt64](repeating: 0, count: 2 * size)
        mask = size - 1
    }

    /// Records that `left right` merges into `merged` at `rank`; a later line for the same pair wins.
    mutating func insert(left: Int32, right: Int32, rank: Int32, merged: Int32) {
        let key = Self.key(left, right)
        var i = Self.slot(key, mask)
        while entries[2 * i] != 0 && entries[2 * i] != key { i = (i + 1) & mask }
        entries[2 * i] = key
        entries[2 * i + 1] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(merged))
    }

    /// `rank << 32 | merged` for the pair, or `none`.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> UInt64 {
        let key = Self.key(left, right)
        return entries.withUnsafeBufferPointer { entries in
            var i = Self.slot(key, mask)
            while true {
                let k = entries[2 * i]
                if k == key { return entries[2 * i + 1] }
                if k == 0 { return Self.none }
                i = (i + 1) & mask
            }
        }
    }

    /// Merges the byte-token ids in `symbols[0..<count]` the way GPT-2's `bpe()` does: while
    /// some adjacent pair has a merge, take the lowest-ranked one and merge all its occurrences
    /// left to right. Returns the new count. `pairs` and `changed` are scratch of `count` slots.
    func apply(_ symbols: UnsafeMutablePointer<Int32>, count: Int,
               pairs: UnsafeMutablePointer<UInt64>, changed: UnsafeMutablePointer<Bool>) -> Int {
        var n = count
        for i in 0..<(n - 1) { pairs[i] = merge(symbols[i], symbols[i + 1]) }
        pairs[n - 1] = Self.none
        while n > 1 {
            var best = Self.none
            for i in 0..<(n - 1) where pairs[i] < best { best = pairs[i] }
            if best == Self.none { break }
            let merged = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            var read = 0
            var write = 0
            while read < n {
                if pairs[read] == best {
                    symbols[write] = merged
                    changed[write] = true
                    read += 2
                } else {
                    symbols[write] = symbols[read]
                    pairs[write] = pairs[read]   // still right while the next symbol is unchanged
                    changed[write] = false
                    read += 1
                }
                write += 1
            }
            n = write
            for i in 0..<(n - 1) where changed[i] || changed[i + 1] {
                pairs[i] = merge(symbols[i], symbols[i + 1])
            }
            pairs[n - 1] = Self.none
        }
        return n
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        (UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))) &+ 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }
}
