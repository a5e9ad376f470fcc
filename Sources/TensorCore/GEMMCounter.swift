import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Counts the products `GEMM` issues (calls and 2·m·n·k FLOPs) on the threads it is installed on,
/// so a test can hold a step's GEMM work against the performance model's trace of that step.
///
/// Per thread, like `StepProfiler`: each rank thread installs its own, and `parallelChunks` carries
/// the caller's into the threads it runs chunks on. With none installed a product pays one
/// thread-local read.
public final class GEMMCounter: Sendable {
    private let flopCount = Atomic<Int>(0)
    private let callCount = Atomic<Int>(0)

    public init() {}

    /// 2·m·n·k summed over the products counted since the last `reset`.
    public var flops: Int { flopCount.load(ordering: .relaxed) }
    public var calls: Int { callCount.load(ordering: .relaxed) }

    public func reset() {
        flopCount.store(0, ordering: .relaxed)
        callCount.store(0, ordering: .relaxed)
    }

    @usableFromInline
    func add(m: Int, n: Int, k: Int) {
        flopCount.add(2 * m * n * k, ordering: .relaxed)
        callCount.add(1, ordering: .relaxed)
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Makes `counter` the calling thread's (nil removes it). The thread must keep it alive.
    public static func install(_ counter: GEMMCounter?) {
        pthread_setspecific(key, counter.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    }

    /// The calling thread's counter, if one is installed.
    @inlinable
    public static var current: GEMMCounter? {
        threadValue().map { Unmanaged<GEMMCounter>.fromOpaque($0).takeUnretainedValue() }
    }

    @usableFromInline
    static func threadValue() -> UnsafeMutableRawPointer? {
        pthread_getspecific(key)
    }

    /// Counts one m×n×k product on the calling thread's counter.
    @inlinable
    static func count(m: Int, n: Int, k: Int) {
        current?.add(m: m, n: n, k: k)
    }

    /// Runs `body` with `counter` installed (a chunk of a parallel loop counts into its caller's).
    @usableFromInline
    static func with(_ counter: GEMMCounter?, _ body: () -> Void) {
        guard let counter else { return body() }
        let saved = threadValue()
        install(counter)
        body()
        pthread_setspecific(key, saved)
    }
}
