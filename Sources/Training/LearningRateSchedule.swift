import Foundation

/// How the learning rate falls after warmup.
public enum DecayStyle: String, Sendable, Codable, CaseIterable {
    case cosine, linear, constant
}

/// Megatron's `AnnealingLR`: a linear warmup from 0 to `maxRate` over `warmupSteps`, then a decay
/// to `minRate` that ends at `decaySteps` (counted from step 0, warmup included), then `minRate`.
/// `step` is the number of optimizer steps already taken, so with warmup the first update uses
/// rate 0, as in Megatron (its scheduler starts at `step(0)`).
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public var maxRate: Double
    public var minRate: Double
    public var warmupSteps: Int
    public var decaySteps: Int
    public var style: DecayStyle

    public init(maxRate: Double, minRate: Double = 0, warmupSteps: Int = 0, decaySteps: Int,
                style: DecayStyle = .cosine) {
        precondition(warmupSteps >= 0 && warmupSteps <= decaySteps && minRate <= maxRate,
                     "LearningRateSchedule: warmup \(warmupSteps), decay \(decaySteps), rates \(minRate)…\(maxRate)")
        self.maxRate = maxRate
        self.minRate = minRate
        self.warmupSteps = warmupSteps
        self.decaySteps = decaySteps
        self.style = style
    }

    public func rate(at step: Int) -> Double {
        if warmupSteps > 0 && step <= warmupSteps {
            return maxRate * Double(step) / Double(warmupSteps)
        }
        if style == .constant { return maxRate }
        if step > decaySteps { return minRate }
        // decaySteps == warmupSteps leaves nothing to decay over: the rate drops to the minimum.
        guard decaySteps > warmupSteps else { return minRate }
        let ratio = Double(step - warmupSteps) / Double(decaySteps - warmupSteps)
        let coefficient = style == .linear ? 1 - ratio : 0.5 * (cos(Double.pi * ratio) + 1)
        return minRate + coefficient * (maxRate - minRate)
    }
}
