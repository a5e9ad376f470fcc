import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs a world of ranks as threads of this process, each with its own communicator.
///
/// Each rank thread gets its share of the cores for the kernels and products (`ComputeThreads`),
/// so ranks × threads = cores.
/// A rank whose work throws poisons the world: its peers' collectives throw
/// `CollectiveError.peerFailed` at once instead of waiting for it.
public enum InProcessWorld {
    /// How long a collective waits for the last rank before it gives up: long enough for a rank
    /// that writes a checkpoint or evaluates while its peers wait, short enough that a hang is
    /// diagnosed within a minute.
    public static let defaultTimeout: Double = 60

    /// Runs `body` on `worldSize` rank threads and returns each rank's outcome, by world rank.
    public static func results<R: Sendable>(
        worldSize: Int, timeout: Double = defaultTimeout,
        _ body: @escaping @Sendable (InProcessCommunicator) throws -> R
    ) -> [Result<R, any Error>] {
        precondition(worldSize > 0, "InProcessWorld: worldSize must be positive, got \(worldSize)")
        precondition(timeout > 0, "InProcessWorld: timeout must be positive, got \(timeout)")
        let fabric = InProcessFabric(worldSize: worldSize, timeout: timeout)
        let world = InProcessGroup(fabric: fabric, label: GroupLabel(name: "world", worldRanks: Array(0..<worldSize)))
        fabric.lock.withLock { fabric.registerLocked(world) }
        defer { fabric.close() }

        let outcomes = UnsafeMutablePointer<Result<R, any Error>?>.allocate(capacity: worldSize)
        outcomes.initialize(repeating: nil, count: worldSize)
        defer {
            outcomes.deinitialize(count: worldSize)
            outcomes.deallocate()
        }
        let slots = OutcomeSlots(outcomes)
        let threadsPerRank = Swift.max(1, ComputeThreads.available / worldSize)

        let threads = (0..<worldSize).map { rank in
            startThread {
                ComputeThreads.set(threadsPerRank)
                let communicator = InProcessCommunicator(group: world, rank: rank, counters: CommunicationCounters())
                do {
                    let value = try body(communicator)
                    slots.pointer[rank] = .success(value)
                    fabric.markFinished(rank)
                } catch {
                    slots.pointer[rank] = .failure(error)
                    fabric.poison(.peerFailed(worldRank: rank, reason: "\(error)"))
                }
            }
        }
        for thread in threads { pthread_join(thread, nil) }
        return (0..<worldSize).map { outcomes[$0]! }
    }

    /// Runs `body` on `worldSize` rank threads and returns the ranks' results, by world rank.
    /// If any rank throws, rethrows the root cause: the lowest rank's error that is not merely
    /// the news of another rank's failure.
    public static func run<R: Sendable>(
        worldSize: Int, timeout: Double = defaultTimeout,
        _ body: @escaping @Sendable (InProcessCommunicator) throws -> R
    ) throws -> [R] {
        let outcomes = results(worldSize: worldSize, timeout: timeout, body)
        let errors = outcomes.compactMap { outcome -> (any Error)? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        if let first = errors.first {
            throw errors.first { error in
                if case CollectiveError.peerFailed = error { return false }
                return true
            } ?? first
        }
        return try outcomes.map { try $0.get() }
    }
}

/// Each rank thread writes only its own slot, and the joins order the writes before the reads.
private struct OutcomeSlots<R>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Result<R, any Error>?>
    init(_ pointer: UnsafeMutablePointer<Result<R, any Error>?>) { self.pointer = pointer }
}

/// Starts a joinable thread with an 8 MiB stack running `work`.
private func startThread(_ work: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box: @unchecked Sendable {
        let work: @Sendable () -> Void
        init(_ work: @escaping @Sendable () -> Void) { self.work = work }
    }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, 8 << 20)
    defer { pthread_attr_destroy(&attributes) }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(work)).toOpaque()
    let status = pthread_create(&thread, &attributes, { context in
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        box.work()
        return nil
    }, context)
    precondition(status == 0, "InProcessWorld: pthread_create failed with \(status)")
    return thread
}
