import Collectives
import HDF5Files
import Models
import PerformanceModel
import TensorCore
import TensorParallel
import Testing
import Training

/// The trace of a step is what a real step does: the same collectives (calls, elements, bytes per
/// group) and the same GEMM FLOPs, counted on every rank of real `Trainer` steps.
@Suite struct StepTraceTests {
    /// Small enough for 16 rank threads on two cores; s = 96 leaves one full and one partial
    /// 64-row attention block, so the causal block skipping is in the count.
    static func model() -> GPTConfig {
        GPTConfig(layers: 2, hidden: 64, heads: 8, maxPositions: 96, vocabSize: 1000, paddedVocabSize: 1024,
                  gelu: .tanh, attentionDropout: 0.1, hiddenDropout: 0.1)
    }

    struct Counted: Sendable {
        var flops: Int, calls: Int, parameters: Int
        var tallies: [String: CollectiveTally]
        var otherOps: [String]
    }

    @Test(arguments: [(1, 1), (2, 1), (4, 1), (8, 1), (1, 2), (2, 2), (4, 2), (8, 2)])
    func traceEqualsRealStep(tp: Int, dp: Int) throws {
        let recompute = tp == 2 || tp == 8
        let config = StepTraceConfig(model: Self.model(), tensorParallel: tp, dataParallel: dp, microBatch: 2,
                                     microBatches: 2, sequence: 96, recomputeActivations: recompute, loop: .trainer)
        let trace = GPTStepTrace.build(config)
        let counted = try InProcessWorld.run(worldSize: tp * dp) { world in
            ComputeThreads.set(1)
            let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
            let model = GPTModel<Float>(config: Self.model(), seed: 5, group: TensorParallelGroup(grid.tensorParallel),
                                        recomputeActivations: recompute)
            let optimizer = Optimizer(parameters: model.parameters, schedule: LearningRateSchedule(maxRate: 1e-3, decaySteps: 1),
                                      hyperparameters: AdamWHyperparameters(learningRate: 1e-3), maxGradientNorm: 1)
            let trainer = Trainer(model: model, optimizer: optimizer, grid: grid,
                                  options: TrainerOptions(microBatchSize: 2, microBatches: 2, sequenceLength: 96,
                                                          dropoutSeed: 9, totalSteps: 1))
            let tokens = (0..<(2 * 96)).map { Int32(($0 * 37 + grid.dataParallelRank) % 1000) }
            let counter = GEMMCounter()
            GEMMCounter.install(counter)
            defer { GEMMCounter.install(nil) }
            world.counters.reset()
            _ = try trainer.step { GPTInput(tokens: tokens, labels: tokens.reversed()) }
            var tallies: [String: CollectiveTally] = [:]
            for group in ["tp", "dp"] { tallies[group] = world.counters.tally(.allReduce, group: group) }
            let other = world.counters.entries.filter { $0.key.op != .allReduce }.map { "\($0.key.group) \($0.key.op)" }
            return Counted(flops: counter.flops, calls: counter.calls, parameters: model.parameters.values.count,
                           tallies: tallies, otherOps: other)
        }
        #expect(trace.gemmFLOPs > 0)
        for (rank, c) in counted.enumerated() {
            #expect(c.flops == trace.gemmFLOPs, "rank \(rank): GEMM FLOPs")
            #expect(c.calls == trace.gemmCalls, "rank \(rank): GEMM calls")
            #expect(c.parameters == trace.parametersPerRank, "rank \(rank): parameters")
            #expect(c.tallies["tp"] == trace.tally(.allReduce, group: .tensorParallel), "rank \(rank): tp all-reduces")
            #expect(c.tallies["dp"] == trace.tally(.allReduce, group: .dataParallel), "rank \(rank): dp all-reduces")
            #expect(c.otherOps.isEmpty, "rank \(rank): collectives the trace does not have: \(c.otherOps)")
        }
    }

    static let attentionProducts = ["q·kᵀ", "probs·v", "dP", "dV", "dQ", "dK"].map { "attention \($0)" }

    static func isAttention(_ op: StepOperation) -> Bool {
        attentionProducts.contains { op.name.hasSuffix($0) }
    }

    /// Narayanan et al. eq. 2–3 and Megatron's 8·b·s·h·(t − 1)/t at the paper's Table 1 sizes.
    @Test(arguments: [(1536, 16, 40, 1), (1920, 20, 54, 2), (2304, 24, 64, 4), (3072, 32, 72, 8)], [false, true])
    func closedForms(size: (hidden: Int, heads: Int, layers: Int, tp: Int), recompute: Bool) {
        let (hidden, heads, layers, tp) = size
        let (s, b) = (1024, 8)
        let model = GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: s, vocabSize: 50257,
                              paddedVocabSize: 51200, attentionDropout: 0, hiddenDropout: 0)
        let trace = GPTStepTrace.build(StepTraceConfig(model: model, tensorParallel: tp, dataParallel: 1, microBatch: b,
                                                       sequence: s, recomputeActivations: recompute, elementBytes: 2))
        let ops = trace.operations
        func flops(_ keep: (StepOperation) -> Bool) -> Double {
            Double(ops.filter(keep).reduce(0) { if case .gemm(let g) = $1.work { return $0 + g.flops } else { return $0 } })
        }
        let weights = flops { !Self.isAttention($0) } * Double(tp)
        let expectedWeights = ClosedForms.weightFLOPs(layers: layers, hidden: hidden, vocabulary: 51200, sequence: s,
                                                      batch: b, recompute: recompute)
        #expect(abs(weights / expectedWeights - 1) < 1e-12)
        // The causal products skip the blocks above the diagonal: (m + 1)/(2m) of s² remains, m = s/64.
        let blocks = Double(s / 64)
        let attention = flops(Self.isAttention) * Double(tp)
        let full = ClosedForms.trainingFLOPs(layers: layers, hidden: hidden, vocabulary: 51200, sequence: s, batch: b,
                                             recompute: recompute) - expectedWeights
        #expect(abs(attention / (full * (blocks + 1) / (2 * blocks)) - 1) < 1e-12)
        let layerTraffic = trace.operations.filter { $0.name.hasPrefix("layers.") && $0.pass != .recompute }
            .reduce(0.0) { total, op in
                guard case .collective(let c) = op.work else { return total }
                return total + ClosedForms.ringElementsPerRank(allReduce: c.op == .allReduce, elements: c.elements,
                                                               ranks: c.groupSize)
            }
        let expected = ClosedForms.tensorParallelElementsPerLayer(batch: b, sequence: s, hidden: hidden, tp: tp) * Double(layers)
        #expect(abs(layerTraffic - expected) <= 1e-6 * max(expected, 1))
        if tp == 1 { #expect(trace.collectives.allSatisfy { $0.group == .dataParallel }) }
    }
}
