import TensorCore

/// Which machinery carries the collectives: rank threads in this process, or MPI processes.
public enum CollectiveEngine: String, Sendable, CaseIterable {
    case inProcess = "inprocess"
    case mpi

    /// Whether this process hosts world rank 0, the rank that prints a command's results: always
    /// in-process, one process of the job under MPI.
    public func hostsWorldRankZero() throws -> Bool {
        switch self {
        case .inProcess: true
        case .mpi: try MPIRuntime.worldRank() == 0
        }
    }

    /// Runs `body` on every rank this process hosts and returns their results by rank: all
    /// `worldSize` ranks in-process; under MPI the one rank this process is, after checking
    /// that mpirun started `worldSize` processes (nil accepts any number). Either way the ranks
    /// on one host share its cores: each computes with cores ÷ ranks-on-the-host threads.
    public func run<R: Sendable>(
        worldSize: Int?, timeout: Double = InProcessWorld.defaultTimeout,
        _ body: @escaping @Sendable (any Communicator) throws -> R
    ) throws -> [R] {
        switch self {
        case .inProcess:
            return try InProcessWorld.run(worldSize: worldSize ?? 1, timeout: timeout) { try body($0) }
        case .mpi:
            let world = try MPIRuntime.world(timeout: timeout)
            if let worldSize, worldSize != world.size {
                throw CollectiveError.worldSizeMismatch(requested: worldSize, launched: world.size)
            }
            ComputeThreads.set(Swift.max(1, ComputeThreads.available / (try MPIRuntime.ranksOnThisHost())))
            return [try body(world)]
        }
    }
}
