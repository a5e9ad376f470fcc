/// Megatron's split of the padded vocabulary into contiguous ranges, one per TP rank.
public enum VocabUtility {
    /// The ids TP rank `rank` of `worldSize` owns: [rank·V/t, (rank+1)·V/t).
    public static func range(paddedVocabSize: Int, rank: Int, worldSize: Int) -> Range<Int> {
        precondition(worldSize > 0 && paddedVocabSize % worldSize == 0,
                     "VocabUtility: padded vocab \(paddedVocabSize) must be divisible by \(worldSize); pad it with VocabPadding")
        precondition((0..<worldSize).contains(rank), "VocabUtility: rank \(rank) outside 0..<\(worldSize)")
        let perRank = paddedVocabSize / worldSize
        return (rank * perRank)..<((rank + 1) * perRank)
    }
}
