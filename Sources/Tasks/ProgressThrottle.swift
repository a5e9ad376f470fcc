import Foundation

/// Lets progress reports through at most once per interval, and always the last one, so a long
/// evaluation prints a readable trickle of progress lines. Safe to call from any rank thread.
public final class ProgressThrottle: @unchecked Sendable {
    private let interval: Duration
    private let lock = NSLock()
    private var last: ContinuousClock.Instant?

    public init(interval: Duration = .seconds(5)) {
        self.interval = interval
    }

    /// A handler that passes the reports due to `show`.
    public func handler(_ show: @escaping @Sendable (EvaluationProgress) -> Void) -> EvaluationProgressHandler {
        { progress in
            if self.isDue(progress) { show(progress) }
        }
    }

    func isDue(_ progress: EvaluationProgress) -> Bool {
        let now = ContinuousClock.now
        lock.lock()
        defer { lock.unlock() }
        guard last.map({ now - $0 >= interval }) ?? true || progress.done == progress.total else { return false }
        last = now
        return true
    }
}
