/// How far one rank's evaluation has come, reported after every batch so a long run can show
/// a progress line. Counts are this rank's items (windows, examples, questions).
public struct EvaluationProgress: Sendable, Equatable {
    public let unit: String
    public let done: Int
    public let total: Int
    public let elapsedSeconds: Double

    public init(unit: String, done: Int, total: Int, elapsedSeconds: Double) {
        self.unit = unit
        self.done = done
        self.total = total
        self.elapsedSeconds = elapsedSeconds
    }

    /// Items per second so far.
    public var rate: Double { elapsedSeconds > 0 ? Double(done) / elapsedSeconds : 0 }

    /// Seconds left at the rate so far; nil before anything is done.
    public var remainingSeconds: Double? { done > 0 ? Double(total - done) / rate : nil }

    /// "windows 120/480  35.2/s  ETA 0:10".
    public var line: String {
        let eta = remainingSeconds.map(Self.clock) ?? "?"
        let rounded = (rate * 10).rounded() / 10
        return "\(unit) \(done)/\(total)  \(rounded)/s  ETA \(eta)"
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        let mmss = (m < 10 && h > 0 ? "0" : "") + "\(m):" + (s < 10 ? "0" : "") + "\(s)"
        return h > 0 ? "\(h):\(mmss)" : mmss
    }
}

/// Receives progress after every batch, on the evaluating rank's thread.
public typealias EvaluationProgressHandler = @Sendable (EvaluationProgress) -> Void

/// Times a rank's loop and reports to the handler, if there is one.
struct ProgressReporter {
    let unit: String
    let total: Int
    let handler: EvaluationProgressHandler?
    private let start = ContinuousClock.now
    private(set) var done = 0

    init(unit: String, total: Int, handler: EvaluationProgressHandler?) {
        self.unit = unit
        self.total = total
        self.handler = handler
    }

    mutating func advance(by count: Int) {
        done += count
        guard let handler else { return }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        handler(EvaluationProgress(unit: unit, done: done, total: total, elapsedSeconds: seconds))
    }
}
