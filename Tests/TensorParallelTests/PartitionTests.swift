import Testing
import TensorCore
import TensorParallel

@Suite struct PartitionTests {
    @Test func strideThreeKeepsEachRanksQKVBlocks() {
        // Rows of a fused [Q; K; V] weight, h = 4, t = 2: rank r must get Q rows, K rows and
        // V rows of its own heads, in that order.
        let full = Tensor<Float>(shape: [12, 1], values: (0..<12).map(Float.init))
        let split = Partition.split(dimension: 0, stride: 3)
        #expect(split.shard(full, rank: 0, size: 2).array == [0, 1, 4, 5, 8, 9])
        #expect(split.shard(full, rank: 1, size: 2).array == [2, 3, 6, 7, 10, 11])
    }

    @Test(arguments: [(0, 1), (1, 1), (0, 3), (1, 2)])
    func placeInvertsShard(dimension: Int, stride: Int) {
        let full = Tensor<Double>(shape: [12, 12], values: (0..<144).map(Double.init))
        let partition = Partition.split(dimension: dimension, stride: stride)
        let rebuilt = Tensor<Double>(zeros: [12, 12])
        for rank in 0..<2 {
            let shard = partition.shard(full, rank: rank, size: 2)
            #expect(shard.shape == partition.shardShape(full.shape, size: 2))
            partition.place(shard, rank: rank, size: 2, into: rebuilt)
        }
        #expect(rebuilt.array == full.array)
    }
}
