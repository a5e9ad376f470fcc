/// The smoothing of a loss curve: sₜ = α·xₜ + (1 − α)·sₜ₋₁ from s₀ = x₀, with α = 2 / (span + 1)
/// (pandas' `ewm(span:)`, adjust=False). The span follows the curve's length, so a 1,000-step
/// curve averages over about 40 steps and a 12-step one is left as it is.
import Foundation

struct ExponentialMovingAverage {
    let span: Int

    var alpha: Double { 2 / Double(span + 1) }

    /// About a 25th of the curve, at least one step (no smoothing).
    init(steps: Int) {
        span = Swift.max(1, Int((Double(steps) / 25).rounded()))
    }

    func smoothed(_ values: [Double]) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(values.count)
        for x in values {
            out.append(out.last.map { alpha * x + (1 - alpha) * $0 } ?? x)
        }
        return out
    }

    /// "EMA over a 40-step span, α = 0.049" for captions.
    var description: String {
        span == 1 ? "no smoothing (1-step span)" : "EMA over a \(span)-step span, α = \(String(format: "%.2g", alpha))"
    }
}
