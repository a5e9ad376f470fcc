/// One rank's side of a collective, as the group checks it against the other ranks'.
public struct CollectiveCall: Sendable, Equatable, CustomStringConvertible {
    public let op: CollectiveOp
    public let reduce: ReduceOp?
    /// The element type's name ("float32", "float64"), empty for barrier and split.
    public let dtype: String
    /// allReduce and broadcast: the buffer; allGather: each rank's input; reduceScatter: each
    /// rank's output block.
    public let count: Int
    /// broadcast: the root; send and recv: the peer (group ranks).
    public let root: Int?

    public init(op: CollectiveOp, reduce: ReduceOp? = nil, dtype: String = "", count: Int = 0, root: Int? = nil) {
        self.op = op
        self.reduce = reduce
        self.dtype = dtype
        self.count = count
        self.root = root
    }

    public var description: String {
        var s = op.rawValue
        if let reduce { s += "(\(reduce.rawValue))" }
        if let root { s += op == .send ? " to \(root)" : op == .recv ? " from \(root)" : "(root \(root))" }
        switch op {
        case .barrier, .split: break
        case .allGather, .reduceScatter: s += " of \(count) \(dtype) per rank"
        case .allReduce, .broadcast: s += " of \(count) \(dtype)"
        case .send, .recv: s += " of \(count) \(dtype)"
        }
        return s
    }
}

/// A group of ranks as messages name it: its label and the world ranks of its members.
public struct GroupLabel: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// World rank of each group rank.
    public let worldRanks: [Int]

    public init(name: String, worldRanks: [Int]) {
        self.name = name
        self.worldRanks = worldRanks
    }

    public var description: String { "group \(name) (world ranks \(worldRanks))" }
}

/// Why a collective could not complete. Every case names the operation, the ranks and the sizes
/// involved, and what usually fixes it.
public enum CollectiveError: Error, Equatable, CustomStringConvertible {
    /// The ranks reached the `sequence`-th collective of the group with different calls
    /// (indexed by group rank).
    case mismatch(group: GroupLabel, sequence: Int, calls: [CollectiveCall])
    /// `missing` (group ranks) did not reach the collective that `waiting` were in within `seconds`.
    case timeout(group: GroupLabel, sequence: Int, call: CollectiveCall, seconds: Double,
                 waiting: [Int], missing: [Int])
    /// `ranks` (group ranks) returned from their work without joining the collective the others wait in.
    case ranksFinished(group: GroupLabel, sequence: Int, call: CollectiveCall, ranks: [Int])
    /// World rank `worldRank` failed, so the world was shut down; `reason` is its error.
    case peerFailed(worldRank: Int, reason: String)
    /// A call whose arguments cannot work on any group (wrong output size, root out of range).
    case invalidArguments(group: GroupLabel, rank: Int, call: CollectiveCall, reason: String)
    /// An element type the engine has no wire type for.
    case unsupportedType(dtype: String, engine: String)
    /// A run asked for `requested` ranks but the launcher started `launched`.
    case worldSizeMismatch(requested: Int, launched: Int)
    /// An MPI function returned an error code.
    case mpi(function: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case let .mismatch(group, sequence, calls):
            let lines = calls.enumerated().map { "  rank \($0.offset): \($0.element)" }
            return "collective mismatch at call #\(sequence) on \(group): the ranks called\n"
                + lines.joined(separator: "\n")
                + "\nEvery rank of a group must issue the same collectives, in the same order, with the same sizes."
        case let .timeout(group, sequence, call, seconds, waiting, missing):
            let absent = missing.isEmpty ? "some rank" : "ranks \(missing)"
            return "\(call) (call #\(sequence) on \(group)): \(absent) did not arrive within "
                + "\(seconds) s while ranks \(waiting) waited. A rank skipped this collective, is stuck, "
                + "or needs longer (raise the timeout)."
        case let .ranksFinished(group, sequence, call, ranks):
            return "\(call) (call #\(sequence) on \(group)): ranks \(ranks) finished their work without "
                + "calling it. Every rank of a group must issue the same collectives."
        case let .peerFailed(worldRank, reason):
            return "world rank \(worldRank) failed, so the world was shut down: \(reason)"
        case let .invalidArguments(group, rank, call, reason):
            return "\(call) on \(group), rank \(rank): \(reason)"
        case let .unsupportedType(dtype, engine):
            return "the \(engine) engine has no collective for element type \(dtype); use float32 or float64"
        case let .worldSizeMismatch(requested, launched):
            return "\(requested) ranks were asked for but \(launched) were launched; "
                + "run `mpirun -np \(requested)` or ask for \(launched)"
        case let .mpi(function, code, message):
            return "\(function) failed with MPI error \(code): \(message)"
        }
    }
}
