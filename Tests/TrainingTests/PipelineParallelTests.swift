import Collectives
import Models
import Testing
import Training

/// Issue 16, part 2: 1F1B pipeline parallelism trains the serial model.
@Suite struct PipelineParallelTests {
    /// Four layers so that pp 4 divides them; a global batch of 16 in micro-batches of 2 gives
    /// 8 micro-batches per step at dp 1 and 4 at dp 2, at least pp.
    static var check: LossCurveEquivalence {
        var check = LossCurveEquivalence(family: .gpt)
        check.layers = 4
        check.globalBatch = 16
        return check
    }

    @Test func twentyStepsGiveTheSerialCurveAtEveryPipelineLayout() throws {
        let check = Self.check
        let reference = try check.losses(tp: 1, dp: 1)
        #expect(reference.count == 20)
        #expect(reference.last! < reference.first!, "the loss should fall over 20 steps: \(reference)")
        for (tp, pp, dp) in [(1, 2, 1), (2, 2, 1), (1, 4, 1), (1, 2, 2), (2, 2, 2), (1, 4, 2), (4, 2, 1)] {
            let curve = try check.losses(tp: tp, dp: dp, pp: pp)
            let worst = zip(curve, reference).map { abs($0 - $1) / abs($1) }.max()!
            #expect(worst <= 1e-5, "tp \(tp) × pp \(pp) × dp \(dp): a step's loss differs by \(worst)")
        }
    }

    @Test func theScheduleIsOneForwardOneBackwardAfterTheWarmUp() {
        typealias W = OneFOneBSchedule.Work
        let first = OneFOneBSchedule(stage: PipelineStage(index: 0, count: 2), microBatches: 4)
        #expect(first.order == [W.forward(0), .forward(1), .backward(0), .forward(2), .backward(1), .forward(3),
                                .backward(2), .backward(3)])
        let last = OneFOneBSchedule(stage: PipelineStage(index: 1, count: 2), microBatches: 4)
        #expect(last.order == [W.forward(0), .backward(0), .forward(1), .backward(1), .forward(2), .backward(2),
                               .forward(3), .backward(3)])
        let deep = OneFOneBSchedule(stage: PipelineStage(index: 0, count: 4), microBatches: 4)
        #expect(deep.warmup == 3)
        #expect(deep.order.prefix(4) == [W.forward(0), .forward(1), .forward(2), .forward(3)])
    }

    /// Equal stages, a forward of 1 and a backward of 2: the replayed step is (m + p − 1)·3 and
    /// the bubble (p − 1)/m; a stage twice as slow sets the pace, and its faster neighbour waits.
    @Test func theReplayedScheduleGivesTheBubbleOfEqualStages() {
        for (p, m) in [(2, 2), (2, 8), (4, 4), (4, 16)] {
            let durations = (0..<p).map { s in
                OneFOneBSchedule(stage: PipelineStage(index: s, count: p), microBatches: m).order.map { work -> Double in
                    if case .forward = work { 1 } else { 2 }
                }
            }
            let wall = PipelineReplay.wallSeconds(microBatches: m, workSeconds: durations)
            #expect(wall == Double((m + p - 1) * 3), "p \(p), m \(m): \(wall)")
            #expect(wall / Double(3 * m) - 1 == Double(p - 1) / Double(m))
        }
        let slowLast = [[1.0, 1, 2, 2], [2.0, 4, 2, 4]]
        #expect(PipelineReplay.wallSeconds(microBatches: 2, workSeconds: slowLast) == 1 + 12 + 2)
    }

    /// The pipeline sends one b·s·h activation per micro-batch across each of the p − 1 stage
    /// boundaries and one gradient back: 2·(p − 1)·m tensors per step per pipeline, and the first
    /// stage holds at most pp micro-batches' activations (stage r: p − r).
    @Test(arguments: [(pp: 2, dp: 1), (pp: 4, dp: 1), (pp: 2, dp: 2)])
    func pipelineSendsWhatTheScheduleSaysAndHoldsAtMostPPActivations(pp: Int, dp: Int) throws {
        let check = { var check = Self.check; check.steps = 2; return check }()
        let tp = 1
        let ranks = try InProcessWorld.run(worldSize: tp * pp * dp, timeout: 120) { world in
            let outcome = try check.outcome(world: world, tp: tp, dp: dp, pp: pp)
            return (world.counters.tally(.send, group: "pp"), world.counters.tally(.recv, group: "pp"),
                    outcome.peakLiveActivationSets, outcome.parameters)
        }
        let m = check.globalBatch / (check.microBatch * dp)
        let boundary = check.microBatch * check.sequence * check.hidden
        let layout = GridLayout(tensorParallel: tp, dataParallel: dp, pipelineParallel: pp)
        for pipeline in layout.pipelineGroups {
            let sends = pipeline.reduce(CollectiveTally()) { $0 + ranks[$1].0 }
            let receives = pipeline.reduce(CollectiveTally()) { $0 + ranks[$1].1 }
            let expected = check.steps * 2 * (pp - 1) * m
            #expect(sends == CollectiveTally(calls: expected, elements: expected * boundary, bytes: expected * boundary * 4))
            #expect(receives == sends)
            for (stage, rank) in pipeline.enumerated() {
                #expect(ranks[rank].2 == min(pp - stage, m), "stage \(stage) held \(ranks[rank].2) activation sets")
                #expect(ranks[rank].2 <= pp)
            }
            // The tied word embedding's two copies stay bit-identical.
            let name = "embedding.word_embeddings.weight"
            #expect(ranks[pipeline.first!].3[name] != nil && ranks[pipeline.first!].3[name] == ranks[pipeline.last!].3[name])
        }
    }

    @Test func theConfigCheckReportsEveryPipelineViolationAtOnce() {
        let model = ModelDimensions(hiddenSize: 32, attentionHeads: 4, vocabSize: 203, sequenceLength: 16,
                                    globalBatchSize: 4, microBatchSize: 2, layers: 6)
        let violations = ParallelConfig(worldSize: 6, tensorParallel: 2, dataParallel: 1, pipelineParallel: 4)
            .violations(model)
        #expect(violations.contains(.worldSizeMismatch(worldSize: 6, tensorParallel: 2, dataParallel: 1, pipelineParallel: 4)))
        #expect(violations.contains(.tooFewMicroBatches(microBatches: 2, pipelineParallel: 4)))
        #expect(violations.contains(.notDivisible(field: "layers", value: 6, divisor: "pipeline-parallel size", by: 4)))
        #expect(violations.count == 3, "\(violations)")
        #expect(ParallelConfig(worldSize: 8, tensorParallel: 2, dataParallel: 1, pipelineParallel: 4)
            .violations(ModelDimensions(hiddenSize: 32, attentionHeads: 4, vocabSize: 203, sequenceLength: 16,
                                        globalBatchSize: 8, microBatchSize: 2, layers: 8)).isEmpty)
    }
}
