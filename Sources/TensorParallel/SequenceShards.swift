import TensorCore

/// The sequence-parallel layout of activations [b·s, h] (sequences one after another): rank r of
/// the group holds positions r·s/t ..< (r+1)·s/t of every sequence, as [b·s/t, h], Megatron's
/// [s/t, b, h] shard in our batch-major order. The collectives exchange the ranks' shards in rank
/// order ([t, b, s/t, h]); these functions move rows between that order and the sequences'.
extension TensorParallelGroup {
    /// full[i·s + rank·s/t + p] = part[i·s/t + p] from every rank: the whole sequences.
    /// `scratch` holds size × part.count elements.
    public func allGatherSequence<T>(_ part: Tensor<T>, into full: Tensor<T>, scratch: Tensor<T>,
                                     sequences: Int) throws {
        precondition(full.count == part.count * size && scratch.count == full.count,
                     "allGatherSequence: part \(part.shape), full \(full.shape), scratch \(scratch.shape)")
        if size == 1 {
            full.assign(part)
            return
        }
        try communicator.allGather(part, into: scratch)
        moveShards(scratch, full, sequences: sequences, width: part.lastDimension, toSequences: true)
    }

    /// part = this rank's shard of the sum over ranks of `full`. `full` keeps its values;
    /// `scratch` (full.count elements) takes them in rank order first.
    public func reduceScatterSequence<T>(_ full: Tensor<T>, into part: Tensor<T>, scratch: Tensor<T>,
                                         sequences: Int) throws {
        precondition(full.count == part.count * size && scratch.count == full.count,
                     "reduceScatterSequence: full \(full.shape), part \(part.shape), scratch \(scratch.shape)")
        if size == 1 {
            part.assign(full)
            return
        }
        moveShards(full, scratch, sequences: sequences, width: part.lastDimension, toSequences: false)
        try communicator.reduceScatter(scratch, into: part)
    }

    /// part = this rank's shard of `full`, with no communication.
    public func sliceSequence<T>(_ full: Tensor<T>, into part: Tensor<T>, sequences: Int) {
        precondition(full.count == part.count * size, "sliceSequence: full \(full.shape), part \(part.shape)")
        let block = part.count / sequences
        for i in 0..<sequences {
            (part.pointer + i * block).update(from: full.pointer + (i * size + rank) * block, count: block)
        }
    }

    /// Copies each (rank, sequence) block of s/t rows between the rank-order layout [t, b, s/t, w]
    /// and the sequences' layout [b, t, s/t, w].
    private func moveShards<T>(_ from: Tensor<T>, _ to: Tensor<T>, sequences: Int, width: Int, toSequences: Bool) {
        let block = from.count / (size * sequences)
        precondition(block % width == 0, "moveShards: \(from.count) elements in \(size) × \(sequences) blocks of rows of \(width)")
        for r in 0..<size {
            for i in 0..<sequences {
                let rankOrder = (r * sequences + i) * block, sequenceOrder = (i * size + r) * block
                let (src, dst) = toSequences ? (rankOrder, sequenceOrder) : (sequenceOrder, rankOrder)
                (to.pointer + dst).update(from: from.pointer + src, count: block)
            }
        }
    }
}
