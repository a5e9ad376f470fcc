/// Where a loader stands: the epoch and the global batch within it. The same on every rank, so
/// a checkpoint records one position and a resumed run continues with the exact next batch.
public struct LoaderPosition: Codable, Sendable, Equatable, Hashable {
    public var epoch: Int
    public var batch: Int

    public init(epoch: Int, batch: Int) {
        self.epoch = epoch
        self.batch = batch
    }

    public static let start = LoaderPosition(epoch: 0, batch: 0)
}

/// Which samples each data-parallel rank reads. Each epoch visits every sample once in a
/// seeded order (or file order); a global batch is `microBatch × dpSize` consecutive entries
/// of it, and rank r takes the r-th slice. The last incomplete global batch is dropped, as
/// Megatron does, so every rank sees the same number of batches. Tensor-parallel ranks pass
/// their dp rank and therefore read the same samples.
public struct ShardedSampleOrder: Sendable {
    public let sampleCount: Int
    public let microBatch: Int
    public let dpRank: Int
    public let dpSize: Int
    public let seed: UInt64
    public let shuffles: Bool

    public var globalBatch: Int { microBatch * dpSize }
    public var batchesPerEpoch: Int { sampleCount / globalBatch }

    /// `what` names the data in the error when there is not even one global batch.
    public init(sampleCount: Int, microBatch: Int, dpRank: Int, dpSize: Int, seed: UInt64, shuffles: Bool,
                what: String) throws {
        precondition(microBatch > 0 && dpSize > 0 && (0..<dpSize).contains(dpRank), "batch and grid validated by the caller")
        guard sampleCount >= microBatch * dpSize else {
            throw DataFileError(file: what, field: "samples",
                                problem: "\(sampleCount) samples, fewer than one global batch of \(microBatch * dpSize)",
                                fix: "use a smaller batch or sequence length, or more data")
        }
        self.sampleCount = sampleCount
        self.microBatch = microBatch
        self.dpRank = dpRank
        self.dpSize = dpSize
        self.seed = seed
        self.shuffles = shuffles
    }

    public func epochOrder(_ epoch: Int) -> [Int] {
        guard shuffles else { return Array(0..<sampleCount) }
        var generator = SplitMix64(key: seed, UInt64(epoch), 0x5348_5546)
        return generator.permutation(sampleCount)
    }

    /// This rank's sample indices for the batch at `position`, given that epoch's order.
    public func samples(at position: LoaderPosition, order: [Int]) -> ArraySlice<Int> {
        let start = position.batch * globalBatch + dpRank * microBatch
        return order[start..<start + microBatch]
    }

    public func advanced(_ position: LoaderPosition) -> LoaderPosition {
        position.batch + 1 < batchesPerEpoch
            ? LoaderPosition(epoch: position.epoch, batch: position.batch + 1)
            : LoaderPosition(epoch: position.epoch + 1, batch: 0)
    }
}

/// The order with the current epoch's permutation cached, and the position that moves on.
struct SampleCursor {
    let order: ShardedSampleOrder
    private(set) var position: LoaderPosition
    private var epochOrder: [Int]

    init(order: ShardedSampleOrder, position: LoaderPosition) throws {
        guard position.batch >= 0, position.batch < order.batchesPerEpoch, position.epoch >= 0 else {
            throw DataFileError(file: "loader position", field: "(epoch \(position.epoch), batch \(position.batch))",
                                problem: "outside an epoch of \(order.batchesPerEpoch) batches",
                                fix: "resume with the batch size, dp size and data the position was recorded with")
        }
        self.order = order
        self.position = position
        self.epochOrder = order.epochOrder(position.epoch)
    }

    /// This rank's samples of the current batch, with the epoch they belong to; then moves on.
    mutating func next() -> (epoch: Int, samples: ArraySlice<Int>) {
        let current = position
        let samples = order.samples(at: current, order: epochOrder)
        position = order.advanced(current)
        if position.epoch != current.epoch { epochOrder = order.epochOrder(position.epoch) }
        return (current.epoch, samples)
    }
}
