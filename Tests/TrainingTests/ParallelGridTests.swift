import Testing
import Training

/// Issue 16's whole grid: every (tp, pp, dp, sequence parallel) in {1, 2, 4} × {1, 2, 4} × {1, 2}
/// × {off, on} that the model divides trains the serial model's loss curve, 20 AdamW steps with
/// dropout on (sequence parallelism needs tp > 1): GPT, and BERT pre-LN and post-LN.
@Suite struct ParallelGridTests {
    struct Model: Sendable, CustomTestStringConvertible {
        var family: LossCurveEquivalence.Family
        var postLayerNorm = false
        var testDescription: String { "\(family)\(family == .bert ? postLayerNorm ? " post-LN" : " pre-LN" : "")" }
    }

    static let models = [Model(family: .gpt), Model(family: .bert), Model(family: .bert, postLayerNorm: true)]

    /// Four layers so that pp 4 divides them; a global batch of 16 in micro-batches of 2 gives
    /// 8 micro-batches per step at dp 1 and 4 at dp 2, at least pp.
    static func check(_ model: Model) -> LossCurveEquivalence {
        var check = LossCurveEquivalence(family: model.family)
        check.layers = 4
        check.globalBatch = 16
        check.postLayerNorm = model.postLayerNorm
        return check
    }

    @Test(arguments: models, [1, 2, 4])
    func everyLayoutOfTheGridGivesTheSerialCurve(model: Model, pp: Int) throws {
        var check = Self.check(model)
        let reference = try check.losses(tp: 1, dp: 1)
        #expect(reference.last! < reference.first!, "the loss should fall over 20 steps: \(reference)")
        for tp in [1, 2, 4] {
            for dp in [1, 2] {
                for sequenceParallel in tp > 1 ? [false, true] : [false] where (tp, pp, dp) != (1, 1, 1) {
                    check.sequenceParallel = sequenceParallel
                    let curve = try check.losses(tp: tp, dp: dp, pp: pp)
                    let worst = zip(curve, reference).map { abs($0 - $1) / abs($1) }.max()!
                    #expect(curve.count == reference.count)
                    #expect(worst <= 1e-5, "\(model.testDescription) tp \(tp) × pp \(pp) × dp \(dp), sp \(sequenceParallel): a loss differs by \(worst)")
                }
            }
        }
    }
}
