import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// How many threads the elementwise and reduction kernels may use on the calling thread.
///
/// Per thread, not per process: the in-process engine runs each rank on its own thread and
/// gives each rank its share of the cores, while a single-rank run gives its one thread all of them.
public enum ComputeThreads {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The machine's online cores.
    public static let available: Int = Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// The calling thread's kernel thread count (the machine's cores unless set).
    public static var current: Int {
        let value = Int(bitPattern: pthread_getspecific(key))
        return value > 0 ? value : available
    }

    /// Sets the calling thread's kernel thread count.
    public static func set(_ n: Int) {
        precondition(n > 0, "ComputeThreads.set: thread count must be positive, got \(n)")
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: n))
    }

    /// Runs `body` with the calling thread's count at 1: a chunk of a parallel loop that calls
    /// a kernel runs that kernel on its own thread instead of dispatching again.
    @usableFromInline
    static func alone(_ body: () -> Void) {
        let saved = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        body()
        pthread_setspecific(key, saved)
    }
}

/// Splits `0..<count` into contiguous chunks run on up to `ComputeThreads.current` threads.
/// Work below `grain` elements a chunk stays on the calling thread: dispatch costs microseconds.
/// The chunk boundaries depend only on `count`, `grain` and the thread count, never on timing.
/// Kernels called inside a chunk run on that chunk's thread.
@inlinable
public func parallelChunks(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    StepProfiler.measure(.kernels) { runChunks(count, grain: grain, body) }
}

@inlinable
func runChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let threads = Swift.min(ComputeThreads.current, Swift.max(1, count / Swift.max(grain, 1)))
    if threads <= 1 {
        body(0..<count)
        return
    }
    let chunk = (count + threads - 1) / threads
    let counter = GEMMCounter.current
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = t * chunk
            let hi = Swift.min(count, lo + chunk)
            if lo < hi { ComputeThreads.alone { GEMMCounter.with(counter) { work.value(lo..<hi) } } }
        }
    }
}

/// Carries a value into concurrent work whose disjoint-range discipline the compiler cannot see.
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
