#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with condition variables on the monotonic clock, so waits end at a deadline
/// no matter how the wall clock moves.
final class MonitorLock: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// A condition variable to wait on while holding this lock.
    final class Condition: @unchecked Sendable {
        private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        init() {
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            cond.initialize(to: pthread_cond_t())
            pthread_cond_init(cond, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(cond)
            cond.deallocate()
        }

        /// Waits (the lock held) until woken or `deadline`; false when the deadline passed.
        func wait(on lock: MonitorLock, until deadline: timespec) -> Bool {
            var deadline = deadline
            return pthread_cond_timedwait(cond, lock.mutex, &deadline) != ETIMEDOUT
        }

        func broadcast() { pthread_cond_broadcast(cond) }
    }
}

/// Now plus `seconds` on the monotonic clock.
func monotonicDeadline(after seconds: Double) -> timespec {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    let whole = seconds.rounded(.down)
    var nanoseconds = Int(now.tv_nsec) + Int((seconds - whole) * 1e9)
    var secs = Int(now.tv_sec) + Int(whole)
    if nanoseconds >= 1_000_000_000 {
        nanoseconds -= 1_000_000_000
        secs += 1
    }
    return timespec(tv_sec: secs, tv_nsec: nanoseconds)
}
