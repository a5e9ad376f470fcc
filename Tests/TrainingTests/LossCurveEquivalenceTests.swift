import Testing
import Training

@Suite struct LossCurveEquivalenceTests {
    /// Issue 4's invariant: 20 steps from one seed, dropout on, the same loss curve at
    /// tp × dp ∈ {1×1, 2×1, 4×1, 1×2, 2×2}.
    @Test(arguments: LossCurveEquivalence.Family.allCases)
    func twentyStepsGiveTheSameCurveAtEveryLayout(family: LossCurveEquivalence.Family) throws {
        let check = LossCurveEquivalence(family: family)
        let reference = try check.losses(tp: 1, dp: 1)
        #expect(reference.count == 20)
        #expect(reference.last! < reference.first!, "the loss should fall over 20 steps: \(reference)")
        for (tp, dp) in [(2, 1), (4, 1), (1, 2), (2, 2)] {
            let curve = try check.losses(tp: tp, dp: dp)
            let worst = zip(curve, reference).map { abs($0 - $1) / abs($1) }.max()!
            #expect(worst <= 1e-5, "tp \(tp) × dp \(dp): a step's loss differs by \(worst)")
        }
    }
}
