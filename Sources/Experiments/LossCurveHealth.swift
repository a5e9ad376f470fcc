/// Whether a training run diverged or stalled, read from its loss curve: what a comparison of
/// learning rates or depths (Figure 7) must know before it reads a final loss.
///
/// The windows are tenths of the logged points: the first, the one around the midpoint, the last.
public struct LossCurveHealth: Sendable, Equatable {
    /// A loss was NaN or infinite, or the run ended above where it started: the last tenth's
    /// mean above the lowest mean of `smoothing` consecutive points in the first tenth (a run
    /// that blows up within its first tenth counts, its early spike does not hide it; one lucky
    /// batch of a small-batch run does not make a falling curve look diverged) by more than
    /// `noiseMargin` standard errors of such a mean, taken from the last tenth's scatter: the
    /// lowest of many noisy windows lies below a flat curve's level, and a curve that never
    /// moved (a fine-tuning at ln 4) has stalled, not diverged.
    public var diverged: Bool
    /// The second half lowered the loss by less than `stallFraction` of the midpoint loss (last
    /// tenth's mean against the midpoint tenth's); false for a diverged run or a curve too short
    /// (under `shortestAssessed` points) to say.
    public var stalled: Bool
    /// (midpoint − last) / midpoint, the second half's relative improvement; nil when not assessed.
    public var secondHalfDrop: Double?

    public static let stallFraction = 0.01
    public static let noiseMargin = 3.0
    public static let shortestAssessed = 10

    /// Points averaged for the first tenth's lowest loss: a hundredth of the curve (30 of a
    /// 3000-step run, where single batches of 16 sequences scatter by ±0.3), at least one.
    public static func smoothing(points: Int) -> Int { Swift.max(1, points / 100) }

    /// `losses` in step order.
    public init(losses: [Double]) {
        let n = losses.count
        guard n > 0 else {
            (diverged, stalled, secondHalfDrop) = (false, false, nil)
            return
        }
        let tenth = Swift.max(1, n / 10)
        func mean(_ range: Range<Int>) -> Double { losses[range].reduce(0, +) / Double(range.count) }
        let window = Swift.min(tenth, Self.smoothing(points: n))
        let first = (0...(tenth - window)).map { mean($0..<($0 + window)) }.min()!, last = mean((n - tenth)..<n)
        let scatter = (losses[(n - tenth)..<n].reduce(0) { $0 + ($1 - last) * ($1 - last) } / Double(tenth)).squareRoot()
        diverged = losses.contains { !$0.isFinite } || last - first > Self.noiseMargin * scatter / Double(window).squareRoot()
        guard !diverged, n >= Self.shortestAssessed else {
            (stalled, secondHalfDrop) = (false, nil)
            return
        }
        let midStart = Swift.min(n - tenth, Swift.max(0, n / 2 - tenth / 2))
        let middle = mean(midStart..<(midStart + tenth))
        let drop = (middle - last) / Swift.abs(middle)
        secondHalfDrop = drop
        stalled = drop < Self.stallFraction
    }

    /// As recorded: `train.diverged` and `train.stalled` (0 or 1), `train.second_half_drop`.
    public var metrics: [String: Double] {
        var metrics = ["train.diverged": diverged ? 1.0 : 0, "train.stalled": stalled ? 1.0 : 0]
        if let secondHalfDrop { metrics["train.second_half_drop"] = secondHalfDrop }
        return metrics
    }
}

extension RunResult {
    /// The run with its `train.diverged`, `train.stalled` and `train.second_half_drop` read again
    /// from its stored loss curve, where its record carries them: a finished run follows the
    /// current definition without training again. Other runs are returned as they are.
    public func withCurrentHealth() -> RunResult {
        guard metrics["train.diverged"] != nil, !lossCurve.isEmpty else { return self }
        var result = self
        result.metrics = result.metrics.filter { $0.key != "train.second_half_drop" }
        result.metrics.merge(LossCurveHealth(losses: lossCurve.map { $0[1] }).metrics) { $1 }
        return result
    }
}
