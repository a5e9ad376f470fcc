import TensorCore

/// What the ranks of one in-process world share: the lock every rendezvous takes, the groups
/// (so a failure can wake all of them), which ranks have finished, and the first failure.
///
/// A failure poisons the whole world, not just one group: a rank waiting in a DP collective
/// must learn that a rank of another TP group died, or it would wait out its timeout.
final class InProcessFabric: @unchecked Sendable {
    let worldSize: Int
    let timeout: Double
    /// Every rank has a core of its own, so a waiting rank may watch for its peers briefly
    /// before it sleeps (`InProcessGroup.spinNanoseconds`); otherwise it sleeps at once.
    let ranksFitCores: Bool
    let lock = MonitorLock()
    /// Guarded by `lock`, as is everything below.
    private(set) var failure: CollectiveError?
    private(set) var finished: [Bool]
    private var groups: [InProcessGroup] = []

    init(worldSize: Int, timeout: Double) {
        self.worldSize = worldSize
        self.timeout = timeout
        ranksFitCores = worldSize <= ComputeThreads.available
        finished = Array(repeating: false, count: worldSize)
    }

    /// Registers a new group so that `poison` can wake its waiters. Call with `lock` held.
    func registerLocked(_ group: InProcessGroup) {
        groups.append(group)
    }

    /// Records the first failure and wakes every waiter. Call with `lock` held.
    func poisonLocked(_ error: CollectiveError) {
        if failure == nil { failure = error }
        for group in groups { group.condition.broadcast() }
    }

    func poison(_ error: CollectiveError) {
        lock.withLock { poisonLocked(error) }
    }

    /// Drops the groups once the ranks are done, breaking the group → fabric → group cycle.
    func close() {
        lock.withLock { groups.removeAll() }
    }

    /// World rank `rank` returned from its work: collectives still waiting for it cannot complete.
    func markFinished(_ rank: Int) {
        lock.withLock {
            finished[rank] = true
            for group in groups { group.condition.broadcast() }
        }
    }
}
