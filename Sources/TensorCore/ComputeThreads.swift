import Dispatch
import Synchronization
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
/// The chunk boundaries depend only on `count`, `grain` and the thread count, never on timing;
/// which thread runs a chunk does (`claimInOrder`), and no kernel's result depends on that.
/// Kernels called inside a chunk run on that chunk's thread.
@inlinable
public func parallelChunks(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    StepProfiler.measure(.kernels) { runChunks(count, grain: grain, body) }
}

/// Chunks a parallel loop gives each of its threads: enough that a thread slowed by another
/// process on its core claims fewer of them while the others take the rest, few enough that a
/// chunk stays far above the cost of claiming it.
@usableFromInline let chunksPerThread = 4

@inlinable
func runChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let largest = Swift.max(1, count / Swift.max(grain, 1))
    let threads = Swift.min(ComputeThreads.current, largest)
    if threads <= 1 {
        body(0..<count)
        return
    }
    let chunks = Swift.min(largest, threads * chunksPerThread)
    let counter = GEMMCounter.current
    claimInOrder(chunks, threads: threads) { p in
        ComputeThreads.alone { GEMMCounter.with(counter) { body((p * count / chunks)..<((p + 1) * count / chunks)) } }
    }
}

/// Runs `body(0)`, …, `body(pieces - 1)` on `threads` threads (the caller and dispatch's
/// workers), each taking the next unclaimed piece when it finishes one. A static split makes
/// every thread wait for the one the scheduler served least; here a thread that shares its core
/// with another process simply runs fewer pieces, and one that starts late may find none left.
@usableFromInline
func claimInOrder(_ pieces: Int, threads: Int, _ body: (Int) -> Void) {
    let next = PieceCounter()
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: Swift.min(threads, pieces)) { _ in
            while true {
                let p = next.claim()
                guard p < pieces else { return }
                work.value(p)
            }
        }
    }
}

/// The next piece to claim, shared by the threads of one `claimInOrder`.
final class PieceCounter: Sendable {
    private let next = Atomic<Int>(0)

    func claim() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Carries a value into concurrent work whose disjoint-range discipline the compiler cannot see.
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
