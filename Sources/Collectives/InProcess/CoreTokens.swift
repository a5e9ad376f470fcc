#if canImport(Glibc)
import Glibc
#endif

/// When a world's ranks outnumber the cores: a rank computes only while it holds one of `count`
/// tokens (one per core) and hands it back while it waits in a collective or a receive, so at
/// most `count` of our threads are runnable. Four lock-step ranks on two cores otherwise leave
/// the scheduler to share the cores among all of them and any other process, and every
/// collective waits for the rank it served least. Tokens go to waiting ranks first come, first
/// served, so none starves.
///
/// A rank stops waiting for a token, and computes without one, at the world's failure or after
/// the world's timeout: the engine's failure propagation and deadlines stay those of its
/// collectives. Guarded by the fabric's lock.
final class CoreTokens: @unchecked Sendable {
    private var free: Int
    /// World ranks waiting for a token, in arrival order.
    private var line: [Int] = []
    private var holding: [Bool]
    private let condition = MonitorLock.Condition()

    init(count: Int, worldSize: Int) {
        free = count
        holding = Array(repeating: false, count: worldSize)
    }

    /// Takes a token for world rank `rank` once it is first in line and one is free; gives up at
    /// `deadline` or as soon as `abandon` says so. Call with `lock` held.
    func acquireLocked(rank: Int, lock: MonitorLock, until deadline: timespec, abandon: () -> Bool) {
        guard !holding[rank] else { return }
        line.append(rank)
        defer {
            line.removeAll { $0 == rank }
            condition.broadcast()
        }
        while !(line.first == rank && free > 0) {
            if abandon() || !condition.wait(on: lock, until: deadline) { return }
        }
        free -= 1
        holding[rank] = true
    }

    /// Gives back world rank `rank`'s token, if it holds one. Call with the lock held.
    func releaseLocked(rank: Int) {
        guard holding[rank] else { return }
        holding[rank] = false
        free += 1
        condition.broadcast()
    }

    /// Wakes every waiter, so that each looks at the world's failure. Call with the lock held.
    func wakeLocked() { condition.broadcast() }
}
