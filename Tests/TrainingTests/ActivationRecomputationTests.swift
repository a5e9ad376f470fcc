import Testing
import Training

@Suite struct ActivationRecomputationTests {
    /// Issue 4: activation recomputation gives identical losses. With dropout on, a few AdamW steps
    /// give bit-identical losses and parameters with and without recomputation, since the
    /// recomputed forward draws the same counter-based dropout masks from the same inputs.
    @Test(arguments: [(family: LossCurveEquivalence.Family.gpt, postLayerNorm: false),
                      (family: .bert, postLayerNorm: false), (family: .bert, postLayerNorm: true)],
          [(tp: 1, dp: 1), (tp: 2, dp: 1), (tp: 2, dp: 2)])
    func lossesAndParametersAreBitIdentical(model: (family: LossCurveEquivalence.Family, postLayerNorm: Bool),
                                            layout: (tp: Int, dp: Int)) throws {
        var check = LossCurveEquivalence(family: model.family)
        check.steps = 4
        check.postLayerNorm = model.postLayerNorm
        let kept = try check.outcome(tp: layout.tp, dp: layout.dp)
        check.recomputeActivations = true
        let recomputed = try check.outcome(tp: layout.tp, dp: layout.dp)
        #expect(kept.losses.count == 4 && kept.parameters.count > 0)
        #expect(recomputed.losses == kept.losses)
        #expect(Set(recomputed.parameters.keys) == Set(kept.parameters.keys))
        let differing = kept.parameters.keys.filter { recomputed.parameters[$0] != kept.parameters[$0] }.sorted()
        #expect(differing.isEmpty, "parameters that differ after \(check.steps) steps: \(differing)")
    }
}
