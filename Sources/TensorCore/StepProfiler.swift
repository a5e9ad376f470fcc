#if canImport(Glibc)
import Glibc
#endif

/// Where a training step's wall-clock time goes: GEMMs, attention, other kernels,
/// communication, optimizer.
///
/// Per thread, like `ComputeThreads`: a benchmark installs a profiler on each rank thread, and
/// the code that does the work reports into whichever profiler its thread has. With none
/// installed, `measure` costs one thread-local read and runs the body.
///
/// The outermost phase wins: time inside `measure(.attention)` counts as attention even while
/// the attention's batched GEMMs and softmax run, and a kernel inside `measure(.optimizer)`
/// counts as optimizer. Time in no phase (the model's glue) is the step time minus the sum.
public final class StepProfiler: @unchecked Sendable {
    public enum Phase: Int, CaseIterable, Sendable {
        case gemm, attention, kernels, communication, optimizer

        public var name: String {
            switch self {
            case .gemm: "GEMMs"
            case .attention: "attention (batched GEMMs, softmax)"
            case .kernels: "other kernels"
            case .communication: "communication"
            case .optimizer: "optimizer"
            }
        }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private var totals = [UInt64](repeating: 0, count: Phase.allCases.count)
    private var open: Phase?
    private var openedAt: UInt64 = 0

    public init() {}

    /// Seconds spent in each phase since the last `reset`.
    public var seconds: [Phase: Double] {
        Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0, Double(totals[$0.rawValue]) * 1e-9) })
    }

    public func reset() {
        for i in totals.indices { totals[i] = 0 }
    }

    /// Makes `profiler` the calling thread's (nil removes it). The thread must keep it alive.
    public static func install(_ profiler: StepProfiler?) {
        pthread_setspecific(key, profiler.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    }

    /// The calling thread's profiler, if one is installed.
    @inlinable
    public static var current: StepProfiler? {
        threadValue().map { Unmanaged<StepProfiler>.fromOpaque($0).takeUnretainedValue() }
    }

    @usableFromInline
    static func threadValue() -> UnsafeMutableRawPointer? {
        pthread_getspecific(key)
    }

    /// Runs `body`, charging its time to `phase` unless an outer phase is already open.
    @inlinable
    public static func measure<R>(_ phase: Phase, _ body: () throws -> R) rethrows -> R {
        guard let profiler = current, profiler.begin(phase) else { return try body() }
        defer { profiler.end(phase) }
        return try body()
    }

    @usableFromInline
    func begin(_ phase: Phase) -> Bool {
        guard open == nil else { return false }
        open = phase
        openedAt = StepProfiler.now()
        return true
    }

    @usableFromInline
    func end(_ phase: Phase) {
        totals[phase.rawValue] &+= StepProfiler.now() &- openedAt
        open = nil
    }

    /// Monotonic nanoseconds.
    public static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
