import Collectives
import Models
import TensorCore
import TensorParallel

/// What `TrainingStepBench.run` measured.
public struct TrainingStepOutcome: Sendable {
    /// The slowest rank's median step.
    public var stepSeconds: Double
    /// Rank 0's mean step, the denominator of its breakdown.
    public var meanStepSeconds: Double
    /// Rank 0's mean seconds per step in each phase.
    public var phaseSeconds: [StepProfiler.Phase: Double]
    /// Every rank's mean seconds per step in collectives, waits for the other ranks included: a
    /// rank that waits much longer than its peers shows which one is slower.
    public var communicationSecondsPerRank: [Double]
    public var loss: Double
    public var localParameters: Int
    /// Rank 0's last step: Σ 2·m·n·k over its products, and its all-reduces by group ("tp", "dp"),
    /// for the performance model's trace to be held against.
    public var gemmFLOPsPerStep: Int
    public var allReducesPerStep: [String: CollectiveTally]
    /// Rank 0's bytes kept for backward by each layer after the last step, counted from its buffers.
    public var activationBytesKeptPerLayer: [Int]
}

/// Times GPT training steps on tp × dp rank threads, on synthetic tokens: each step zeroes the
/// gradients, runs the model's forward and backward, averages the gradients over dp and applies
/// AdamW to the flat buffers (decay on the decayed part only), as
/// `torch.optim.AdamW(lr 3e-4, betas (0.9, 0.95), wd 0.1)`. Each rank runs `sizes.threads`
/// kernel threads; a single rank gives OpenBLAS as many (several ranks run it single-threaded).
public struct TrainingStepBench: Sendable {
    public let sizes: TrainBenchSizes
    public let warmup: Int
    public let steps: Int
    public let recomputeActivations: Bool
    public let sequenceParallel: Bool

    public init(sizes: TrainBenchSizes, warmup: Int, steps: Int, recomputeActivations: Bool = false,
                sequenceParallel: Bool = false) {
        precondition(warmup >= 0 && steps > 0, "TrainingStepBench: warmup \(warmup), steps \(steps) validated by the caller")
        self.sizes = sizes
        self.warmup = warmup
        self.steps = steps
        self.recomputeActivations = recomputeActivations
        self.sequenceParallel = sequenceParallel
    }

    struct RankResult: Sendable {
        var times: [Double]
        var phases: [[Double]]
        var loss: Double
        var parameters: Int
        var gemmFLOPs = 0
        var allReduces: [String: CollectiveTally] = [:]
        var activationBytes: [Int] = []
    }

    public func run() throws -> TrainingStepOutcome {
        let (sizes, warmup, steps, recompute) = (self.sizes, self.warmup, self.steps, self.recomputeActivations)
        let sequenceParallel = self.sequenceParallel
        let results = try InProcessWorld.run(worldSize: sizes.ranks, timeout: 3600) { world in
            ComputeThreads.set(sizes.threads)
            let grid = try ProcessGrid(world: world, tensorParallel: sizes.tp, dataParallel: sizes.dp)
            let model = GPTModel<Float>(config: sizes.model, seed: 1234,
                                        group: TensorParallelGroup(grid.tensorParallel, sequenceParallel: sequenceParallel),
                                        recomputeActivations: recompute)
            let set = model.parameters
            let count = set.values.count
            let firstMoments = Tensor<Float>(zeros: [count]), secondMoments = Tensor<Float>(zeros: [count])
            let parts = [set.decayed, set.decayed.upperBound..<count].filter { !$0.isEmpty }
            func view(_ t: Tensor<Float>, _ r: Range<Int>) -> Tensor<Float> {
                Tensor(storage: t.storage, offset: t.offset + r.lowerBound, shape: [r.count])
            }
            let local = sizes.batch / sizes.dp
            let first = grid.dataParallelRank * local
            let rng = CounterRNG(seed: 7, stream: 3)
            let tokens = (0..<(local * sizes.seq)).map {
                Int32(rng.bits(at: first * sizes.seq + $0) % UInt64(sizes.vocab))
            }
            let labels = (0..<(local * sizes.seq)).map {
                Int32(rng.bits(at: (1 << 40) + first * sizes.seq + $0) % UInt64(sizes.vocab))
            }
            let input = GPTInput(tokens: tokens, labels: labels)
            let hp = AdamWHyperparameters(learningRate: 3e-4, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)

            let profiler = StepProfiler()
            StepProfiler.install(profiler)
            let counter = GEMMCounter()
            GEMMCounter.install(counter)
            defer {
                StepProfiler.install(nil)
                GEMMCounter.install(nil)
            }
            var result = RankResult(times: [], phases: [], loss: 0, parameters: count)
            for step in 1...(warmup + steps) {
                try world.barrier()
                profiler.reset()
                counter.reset()
                world.counters.reset()
                let start = StepProfiler.now()
                StepProfiler.measure(.optimizer) { set.zeroGradients() }
                let context = StepContext(step: step, batch: local, sequence: sizes.seq, batchOffset: first,
                                          dropoutSeed: 1, training: true)
                let report = try model.forwardBackward(input, context: context, lossScale: 1)
                try set.reduceSequenceParallelGradients(over: model.tensorParallel)
                try set.averageGradients(over: grid.dataParallel)
                StepProfiler.measure(.optimizer) {
                    for part in parts {
                        var partHP = hp
                        if part != set.decayed { partHP.weightDecay = 0 }
                        AdamW.update(parameters: view(set.values, part), gradients: view(set.gradients, part),
                                     firstMoments: view(firstMoments, part), secondMoments: view(secondMoments, part),
                                     step: step, hyperparameters: partHP)
                    }
                }
                let seconds = Double(StepProfiler.now() - start) * 1e-9
                if step > warmup {
                    result.times.append(seconds)
                    let phases = profiler.seconds
                    result.phases.append(StepProfiler.Phase.allCases.map { phases[$0] ?? 0 })
                }
                result.loss = report.total
                result.gemmFLOPs = counter.flops
                for group in ["tp", "dp"] { result.allReduces[group] = world.counters.tally(.allReduce, group: group) }
            }
            result.activationBytes = model.activationBytesKeptPerLayer
            return result
        }
        let medians = results.map { $0.times.sorted()[$0.times.count / 2] }
        let rank0 = results[0]
        let mean = rank0.times.reduce(0, +) / Double(rank0.times.count)
        var phases: [StepProfiler.Phase: Double] = [:]
        for phase in StepProfiler.Phase.allCases {
            phases[phase] = rank0.phases.map { $0[phase.rawValue] }.reduce(0, +) / Double(rank0.phases.count)
        }
        let communication = results.map { rank in
            rank.phases.map { $0[StepProfiler.Phase.communication.rawValue] }.reduce(0, +) / Double(rank.phases.count)
        }
        return TrainingStepOutcome(stepSeconds: medians.max()!, meanStepSeconds: mean, phaseSeconds: phases,
                                   communicationSecondsPerRank: communication, loss: rank0.loss,
                                   localParameters: rank0.parameters, gemmFLOPsPerStep: rank0.gemmFLOPs,
                                   allReducesPerStep: rank0.allReduces, activationBytesKeptPerLayer: rank0.activationBytes)
    }
}
