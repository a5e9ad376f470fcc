import Testing
import Training

/// Issue 16, part 1: sequence parallelism trains the serial model. 20 AdamW steps with dropout
/// on, the loss curve at tp {2, 4} × dp {1, 2} with the layer norms, dropouts and residual adds
/// on sequence shards equals tp = dp = 1's within float rounding.
@Suite struct SequenceParallelTests {
    struct Variant: Sendable, CustomTestStringConvertible {
        var family: LossCurveEquivalence.Family
        var postLayerNorm = false
        var recompute = false
        var testDescription: String { "\(family)\(postLayerNorm ? " post-LN" : "")\(recompute ? " recompute" : "")" }
    }

    static let variants = [
        Variant(family: .gpt), Variant(family: .gpt, recompute: true),
        Variant(family: .bert), Variant(family: .bert, postLayerNorm: true, recompute: true),
    ]

    @Test(arguments: variants)
    func twentyStepsGiveTheSerialCurve(variant: Variant) throws {
        var check = LossCurveEquivalence(family: variant.family)
        check.postLayerNorm = variant.postLayerNorm
        check.recomputeActivations = variant.recompute
        let reference = try check.losses(tp: 1, dp: 1)
        #expect(reference.last! < reference.first!, "the loss should fall over 20 steps: \(reference)")
        check.sequenceParallel = true
        for (tp, dp) in [(2, 1), (4, 1), (2, 2), (4, 2)] {
            let curve = try check.losses(tp: tp, dp: dp)
            let worst = zip(curve, reference).map { abs($0 - $1) / abs($1) }.max()!
            #expect(worst <= 1e-5, "sp, tp \(tp) × dp \(dp): a step's loss differs by \(worst)")
        }
    }

    /// The forward of a sequence-parallel step is the tensor-parallel one's, bit for bit: the
    /// reduce-scatter sums each element in the all-reduce's rank order and every dropout draws
    /// the mask of its global position. Only the norms' gradients, summed shard by shard, round
    /// differently, so the first loss is identical and the rest agree to rounding.
    @Test func firstStepEqualsTensorParallelBitForBit() throws {
        var check = LossCurveEquivalence(family: .gpt)
        check.steps = 2
        let tensorParallel = try check.losses(tp: 2, dp: 1)
        check.sequenceParallel = true
        let sequenceParallel = try check.losses(tp: 2, dp: 1)
        #expect(sequenceParallel[0].bitPattern == tensorParallel[0].bitPattern)
    }
}
