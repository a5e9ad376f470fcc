import Collectives
import TensorCore

/// How an evaluation splits its items over the data-parallel group: rank r takes the r-th of
/// `size` contiguous, nearly equal blocks, so every item is evaluated by exactly one rank and
/// nothing is dropped (Megatron's evaluation loaders drop the last incomplete batch when dp > 1;
/// here the counts are the same at every dp). Tensor-parallel ranks share a dp rank, hence a block.
public enum DataParallelShard {
    public static func range(count: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(count >= 0 && size > 0 && (0..<size).contains(rank), "shard of \(count) items, rank \(rank) of \(size)")
        return (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// Elementwise sums of `values` over `group` (rank order, so every rank gets the same bits).
    static func sum(_ values: [Double], over group: any Communicator) throws -> [Double] {
        guard group.size > 1 else { return values }
        let tensor = Tensor<Double>(shape: [values.count], values: values)
        try group.allReduce(tensor)
        return tensor.array
    }
}
