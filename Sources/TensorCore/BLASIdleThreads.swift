#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS's idle pool threads spin, calling `sched_yield`, for 2^28 cycles (about 0.1 s here)
/// after each product before they sleep. Beside other work every yield can hand a time slice to
/// another process, and on 2 cores the spinning took a core from the kernels that follow
/// (results/bench/README.md). With `OPENBLAS_THREAD_TIMEOUT=4` they sleep after 2^4 cycles.
/// Our products no longer wake the pool (`BLASThreads` holds OpenBLAS at one thread); only the
/// benches that measure OpenBLAS's own threads do.
///
/// OpenBLAS reads that variable when it loads, before `main`, and starts its pool then, so the
/// program sets it, has OpenBLAS read its environment again and restarts the pool. A value the
/// caller set is kept. The entry points are looked up at run time, so an OpenBLAS without them
/// is left as it is.
public enum BLASIdleThreads {
    /// The exponent OpenBLAS's threads use: they sleep after 2^exponent idle cycles.
    public static let sleepingExponent = 4

    /// Makes the pool sleep when idle. Call once at program start, before any product runs and
    /// before other threads exist: the pool is stopped and started again. Returns whether the
    /// pool was restarted with the setting (false when the caller set the variable, or this
    /// OpenBLAS lacks the entry points).
    @discardableResult
    public static func sleepWhenIdle() -> Bool {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil, let (readEnvironment, stop, start) = entryPoints else { return false }
        setenv("OPENBLAS_THREAD_TIMEOUT", "\(sleepingExponent)", 0)
        readEnvironment()
        _ = stop()
        _ = start()
        return true
    }

    /// Whether this OpenBLAS has what `sleepWhenIdle` calls.
    public static var canRestartPool: Bool { entryPoints != nil }

    private static var entryPoints: (@convention(c) () -> Void, @convention(c) () -> Int32, @convention(c) () -> Int32)? {
        guard let readEnvironment = function("openblas_read_env", as: (@convention(c) () -> Void).self),
              let stop = function("blas_thread_shutdown_", as: (@convention(c) () -> Int32).self),
              let start = function("blas_thread_init", as: (@convention(c) () -> Int32).self) else { return nil }
        return (readEnvironment, stop, start)
    }

    /// The exponent OpenBLAS read from its environment (0 when unset: its default, 28), nil when
    /// this OpenBLAS does not say.
    public static var timeoutExponent: Int? {
        function("openblas_thread_timeout", as: (@convention(c) () -> Int32).self).map { Int($0()) }
    }

    /// Process CPU seconds spent in the `seconds` after a product on every core, while this
    /// thread sleeps: what the pool's idle threads burn. Call when no other thread works.
    public static func cpuSecondsAfterProduct(seconds: Double = 0.25) -> Double {
        let n = 512
        let a = Tensor<Float>(shape: [n, n], values: [Float](repeating: 1, count: n * n))
        let c = Tensor<Float>(zeros: [n, n])
        return BLASThreads.measuringOwnThreads(ComputeThreads.available) {
            Float.blasGEMM(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a.pointer, lda: n,
                           b: a.pointer, ldb: n, beta: 0, c: c.pointer, ldc: n)
            let before = processCPUSeconds()
            usleep(UInt32(seconds * 1e6))
            return processCPUSeconds() - before
        }
    }

    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    private static func function<F>(_ name: String, as type: F.Type) -> F? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: type) }
    }
}
