import TensorCore

/// The reductions a collective can apply elementwise across ranks.
public enum ReduceOp: String, Sendable, CaseIterable {
    case sum, max
}

/// The collective operations, as counters and error messages name them (MPI names).
public enum CollectiveOp: String, Sendable, CaseIterable, Comparable {
    case allReduce, allGather, reduceScatter, broadcast, barrier, split
    /// Point to point (pipeline stages): one rank's buffer to one peer, and its receipt.
    case send, recv

    public static func < (a: CollectiveOp, b: CollectiveOp) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A group of ranks that run collectives together: every member calls the same operations,
/// in the same order, with the same element counts.
///
/// Buffers are contiguous; ranks are numbered `0..<size` within the group. Every operation
/// throws a `CollectiveError` when the group cannot complete it (a mismatched call, a rank that
/// never arrives, a failed peer, an MPI error) rather than hanging.
///
/// One communicator belongs to one rank and is used from that rank's thread only.
///
/// ```swift
/// // Four ranks as threads (or `CollectiveEngine.mpi.run` under mpirun), grid tp 2 × dp 2:
/// let sums = try InProcessWorld.run(worldSize: 4) { world in
///     let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 2)
///     let partial = Tensor<Float>(shape: [3], values: [1, 2, 3])
///     try world.counters.withScope("layer0/mlp") {
///         try grid.tensorParallel.allReduce(partial)      // Megatron's g: sum over the TP group
///     }
///     #expect(world.counters.tally(.allReduce, scope: "layer0").calls == 1)
///     return partial.array                                // [2, 4, 6] on every rank
/// }
/// ```
public protocol Communicator: AnyObject, Sendable {
    /// This rank's index in the group, `0..<size`.
    var rank: Int { get }
    /// The number of ranks in the group.
    var size: Int { get }
    /// A short label for messages and counters ("world", "tp", "dp").
    var name: String { get }
    /// This rank's collective counters, shared by every communicator split from the same world.
    var counters: CommunicationCounters { get }

    /// Replaces `buffer` on every rank with the elementwise reduction over ranks, summed in
    /// rank order 0, 1, …, so every rank gets bit-identical results.
    func allReduce<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws

    /// Concatenates every rank's `input` in rank order into `output` (`size × input.count`).
    func allGather<T: TensorScalar>(
        _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>) throws

    /// Reduces `input` (`size × output.count`) across ranks and leaves block `rank` in `output`.
    func reduceScatter<T: TensorScalar>(
        _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>,
        op: ReduceOp) throws

    /// Copies rank `root`'s `buffer` into every other rank's `buffer`.
    func broadcast<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws

    /// Returns once every rank of the group has called it.
    func barrier() throws

    /// Hands a copy of `buffer` to group rank `peer` and returns without waiting for the
    /// receipt (a buffered send), so a pipeline schedule cannot deadlock on the order of its
    /// sends and receives. Messages between two ranks arrive in the order they were sent.
    func send<T: TensorScalar>(_ buffer: UnsafeBufferPointer<T>, to peer: Int) throws

    /// Fills `buffer` with the next message from group rank `peer`, waiting for it (with the
    /// engine's timeout); its element type and count must be the message's.
    func recv<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, from peer: Int) throws

    /// Splits the group like `MPI_Comm_split`: ranks passing the same `color` form a new group,
    /// ordered by `key` (ties by rank). Every rank of this group must call it.
    func split(color: Int, key: Int, name: String) throws -> any Communicator
}
