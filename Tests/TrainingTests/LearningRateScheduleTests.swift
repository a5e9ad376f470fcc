import Foundation
import Testing
import Training

@Suite struct LearningRateScheduleTests {
    @Test func warmupIsLinearFromZero() {
        let s = LearningRateSchedule(maxRate: 1e-3, minRate: 1e-5, warmupSteps: 10, decaySteps: 110, style: .cosine)
        #expect(s.rate(at: 0) == 0)
        #expect(abs(s.rate(at: 5) - 0.5e-3) < 1e-15)
        #expect(abs(s.rate(at: 10) - 1e-3) < 1e-15)
    }

    @Test func cosineFallsToTheMinimumAtTheDecayEnd() {
        let s = LearningRateSchedule(maxRate: 1e-3, minRate: 1e-5, warmupSteps: 10, decaySteps: 110, style: .cosine)
        // Half-way through the decay, cos(π/2) = 0: the midpoint of max and min.
        #expect(abs(s.rate(at: 60) - (1e-3 + 1e-5) / 2) < 1e-15)
        // A quarter of the way: min + (max − min)·(1 + cos(π/4))/2.
        #expect(abs(s.rate(at: 35) - (1e-5 + (1e-3 - 1e-5) * (1 + 0.5.squareRoot()) / 2)) < 1e-15)
        #expect(abs(s.rate(at: 110) - 1e-5) < 1e-15)
        #expect(s.rate(at: 500) == 1e-5)
    }

    @Test func linearAndConstant() {
        let linear = LearningRateSchedule(maxRate: 2e-4, minRate: 0, warmupSteps: 0, decaySteps: 100, style: .linear)
        #expect(linear.rate(at: 0) == 2e-4)
        #expect(abs(linear.rate(at: 25) - 1.5e-4) < 1e-15)
        #expect(abs(linear.rate(at: 100)) < 1e-15)
        let constant = LearningRateSchedule(maxRate: 2e-4, minRate: 1e-5, warmupSteps: 4, decaySteps: 100, style: .constant)
        #expect(abs(constant.rate(at: 2) - 1e-4) < 1e-15)
        #expect(constant.rate(at: 50) == 2e-4)
        #expect(constant.rate(at: 1000) == 2e-4)
    }
}
