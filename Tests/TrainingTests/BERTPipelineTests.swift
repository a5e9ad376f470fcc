import Collectives
import Models
import Testing
import Training

/// BERT's pipeline stages (`BERTStageModel`) beyond the loss curves, which `ParallelGridTests`
/// checks at every layout: recomputation inside the stages, what the pipeline sends, and the
/// tied word embedding's two copies.
@Suite struct BERTPipelineTests {
    static func check(postLayerNorm: Bool) -> LossCurveEquivalence {
        ParallelGridTests.check(.init(family: .bert, postLayerNorm: postLayerNorm))
    }

    /// Recomputation inside the stages: the same curve and parameters, bit for bit, as the stages
    /// that keep every activation, and the serial curve with sequence parallelism too.
    @Test func recomputedStagesTrainBitForBitAsTheStoringOnes() throws {
        var check = Self.check(postLayerNorm: true)
        check.steps = 4
        let reference = try check.losses(tp: 1, dp: 1)
        check.sequenceParallel = true
        let storing = try check.outcome(tp: 2, dp: 1, pp: 2)
        check.recomputeActivations = true
        let recomputed = try check.outcome(tp: 2, dp: 1, pp: 2)
        #expect(recomputed.losses.map(\.bitPattern) == storing.losses.map(\.bitPattern))
        #expect(recomputed.parameters == storing.parameters)
        let worst = zip(recomputed.losses, reference).map { abs($0 - $1) / abs($1) }.max()!
        #expect(worst <= 1e-5, "recomputed tp 2 × pp 2 sp: a loss differs by \(worst)")
    }

    /// The pipeline sends one b·s·h activation per micro-batch across each stage boundary and
    /// one gradient back, the stages hold p − r micro-batches' activations, and the tied word
    /// embedding's copies on the first and the last stage stay bit-identical.
    @Test func pipelineSendsTheBoundaryAndKeepsTheTiedEmbeddingEqual() throws {
        let check = { var check = Self.check(postLayerNorm: false); check.steps = 2; return check }()
        let pp = 4
        let ranks = try InProcessWorld.run(worldSize: pp, timeout: 120) { world in
            let outcome = try check.outcome(world: world, tp: 1, dp: 1, pp: pp)
            return (world.counters.tally(.send, group: "pp"), outcome.peakLiveActivationSets, outcome.parameters)
        }
        let m = check.globalBatch / check.microBatch
        let boundary = check.microBatch * check.sequence * check.hidden
        let expected = check.steps * 2 * (pp - 1) * m
        let sends = ranks.reduce(CollectiveTally()) { $0 + $1.0 }
        #expect(sends == CollectiveTally(calls: expected, elements: expected * boundary, bytes: expected * boundary * 4))
        #expect(ranks.map(\.1) == [4, 3, 2, 1])
        let name = "embedding.word_embeddings.weight"
        #expect(ranks[0].2[name] != nil && ranks[0].2[name] == ranks[pp - 1].2[name])
        #expect(ranks[pp - 1].2["binary_head.weight"] != nil && ranks[0].2["binary_head.weight"] == nil)
    }
}
