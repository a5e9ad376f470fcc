import Collectives
import TensorCore

/// The ranks that share one copy of the model, each holding a shard of every split weight.
/// Every collective is skipped when the group has one rank, so tp = 1 runs the serial model.
public struct TensorParallelGroup: @unchecked Sendable {
    public let communicator: any Communicator
    /// Sequence parallelism (Korthikanti et al. 2022): the layer norms, dropouts and residual adds
    /// between the tensor-parallel regions run on this rank's shard of the sequence instead of
    /// redundantly on the whole of it. Without effect on a group of one rank.
    public let sequenceParallel: Bool

    public init(_ communicator: any Communicator, sequenceParallel: Bool = false) {
        self.communicator = communicator
        self.sequenceParallel = sequenceParallel
    }

    /// True where the activations outside the tensor-parallel regions are sequence shards.
    public var shardsSequence: Bool { sequenceParallel && size > 1 }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }

    /// Sums `tensor` over the group in place (bit-identical on every rank).
    public func allReduce<T>(_ tensor: Tensor<T>, op: ReduceOp = .sum) throws {
        if size > 1 { try communicator.allReduce(tensor, op: op) }
    }

    /// out[n, r·w ..< (r+1)·w] = rank r's part[n, 0 ..< w]: concatenation along the last dimension.
    /// `scratch` holds size × part.count elements (the ranks' parts, rank-major).
    public func allGatherLastDimension<T>(_ part: Tensor<T>, into out: Tensor<T>, scratch: Tensor<T>) throws {
        let w = part.lastDimension, rows = part.rows
        precondition(out.rows == rows && out.lastDimension == w * size && scratch.count == part.count * size,
                     "allGatherLastDimension: part \(part.shape), out \(out.shape), scratch \(scratch.shape)")
        if size == 1 {
            out.assign(part)
            return
        }
        try communicator.allGather(part, into: scratch)
        for r in 0..<size {
            let src = scratch.pointer + r * part.count
            for n in 0..<rows {
                (out.pointer + n * w * size + r * w).update(from: src + n * w, count: w)
            }
        }
    }

    /// part[n, 0 ..< w] = full[n, rank·w ..< (rank+1)·w]: this rank's block of the last dimension.
    public func sliceLastDimension<T>(_ full: Tensor<T>, into part: Tensor<T>) {
        let w = part.lastDimension, rows = part.rows
        precondition(full.rows == rows && full.lastDimension == w * size,
                     "sliceLastDimension: full \(full.shape), part \(part.shape)")
        for n in 0..<rows {
            (part.pointer + n * w).update(from: full.pointer + n * w * size + rank * w, count: w)
        }
    }
}
