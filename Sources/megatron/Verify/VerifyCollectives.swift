import ArgumentParser
import Collectives
#if canImport(Glibc)
import Glibc
#endif

/// `megatron verify collectives`: the collective checks at each world size, in-process or
/// under mpirun, plus a rank that never arrives, which must end in a timeout.
struct VerifyCollectives: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectives",
        abstract: "Check every collective against its serial definition; exits non-zero on failure.",
        discussion: """
            In-process: runs each --world size as rank threads. MPI: run under mpirun, e.g. \
            `mpirun -np 4 megatron verify collectives --backend mpi`; --world, if given, must \
            match -np.
            """)

    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).")
    var backend: BackendOption = .inprocess

    @Option(help: "World sizes to check (in-process default: 1 2 3 4; MPI: the launched size).")
    var world: [Int] = []

    @Option(help: "Seconds the timeout check waits for its absent rank.")
    var timeout: Double = 0.5

    func validate() throws {
        if let bad = world.first(where: { $0 <= 0 }) { throw ValidationError("--world must be positive, got \(bad)") }
        if backend == .mpi && world.count > 1 {
            throw ValidationError("--backend mpi checks the one world mpirun launched; give at most one --world")
        }
        if !(timeout > 0) { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }

    func run() throws {
        switch backend {
        case .inprocess: try runInProcess()
        case .mpi: try runMPI()
        }
    }

    private func runInProcess() throws {
        var failed = false
        for size in world.isEmpty ? [1, 2, 3, 4] : world {
            var reports = try InProcessWorld.run(worldSize: size) { comm in
                var checks = CollectiveChecks(comm: comm)
                return try checks.run()
            }
            let late = InProcessWorld.results(worldSize: size, timeout: timeout) { comm in
                try TimeoutCheck.run(comm, away: 3 * timeout)
            }
            for (rank, outcome) in late.enumerated() {
                reports[rank].expect((try? outcome.get()) ?? false,
                                     "timeout check: rank \(rank) got \(outcome) instead of a timeout naming rank \(size - 1)")
            }
            failed = summarize(reports, engine: "inprocess", size: size) || failed
        }
        if failed { throw ExitCode.failure }
    }

    private func runMPI() throws {
        let comm: MPICommunicator
        do {
            comm = try MPIRuntime.world()
        } catch {
            print("verify collectives: \(error)")
            throw ExitCode.failure
        }
        if let size = world.first, size != comm.size {
            print("verify collectives: \(CollectiveError.worldSizeMismatch(requested: size, launched: comm.size))")
            throw ExitCode.validationFailure
        }
        do {
            var checks = CollectiveChecks(comm: comm)
            var report = try checks.run()
            let probe = try comm.splitGroup(color: 0, key: comm.rank, name: "timeout-probe")
            probe.timeout = timeout
            report.expect(try TimeoutCheck.run(probe, away: 2 * timeout), "timeout check: rank \(comm.rank) got no timeout")
            try TimeoutCheck.complete(probe)
            for failure in report.failures { print("[rank \(comm.rank)] FAILED \(failure)") }
            var failures = [Double(report.failures.count)]
            try failures.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
            if comm.rank == 0 {
                print("verify collectives (mpi, world \(comm.size)): \(report.checks) checks per rank, "
                      + "\(Int(failures[0])) failures over all ranks")
            }
            if failures[0] > 0 { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // The peers may be inside a collective this rank will never join: end the job.
            print("[rank \(comm.rank)] verify collectives: \(error)")
            MPIRuntime.abort(code: 1)
        }
    }

    /// Prints each rank's failures and a summary line; true if any check failed.
    private func summarize(_ reports: [CheckReport], engine: String, size: Int) -> Bool {
        for (rank, report) in reports.enumerated() {
            for failure in report.failures { print("[rank \(rank)] FAILED \(failure)") }
        }
        let failures = reports.reduce(0) { $0 + $1.failures.count }
        print("verify collectives (\(engine), world \(size)): \(reports[0].checks) checks per rank, \(failures) failures")
        return failures > 0
    }
}

/// The last rank stays away from a barrier: the others must time out naming it.
enum TimeoutCheck {
    /// True on the ranks that waited if they got the timeout naming the last rank; true on the
    /// absent rank, which stays busy for `away` seconds (it must not finish: a rank that returns
    /// is reported as finished, not late). Vacuously true at one rank.
    static func run(_ comm: any Communicator, away: Double) throws -> Bool {
        let absent = comm.size - 1
        guard comm.size > 1 else { return true }
        if comm.rank == absent {
            usleep(UInt32(away * 1e6))
            return true
        }
        do {
            try comm.barrier()
            return false
        } catch let CollectiveError.timeout(_, _, call, _, _, missing) {
            return call.op == .barrier && (missing.isEmpty || missing == [absent])
        } catch CollectiveError.peerFailed {
            return true  // in-process: another waiter timed out first and shut the world down
        }
    }

    /// MPI: the absent rank joins late so the others' abandoned exchange completes and the job
    /// can finalize; the barrier is also the world's proof that everyone got here.
    static func complete(_ probe: MPICommunicator) throws {
        if probe.size > 1 && probe.rank == probe.size - 1 {
            probe.timeout = 60
            try probe.barrier()
        }
    }
}
