import Collectives
import Models
import TensorCore
import TensorParallel

/// What `PipelineStepBench.run` measured.
public struct PipelineStepOutcome: Sendable {
    /// The slowest rank's median step (schedule, gradient reductions and AdamW).
    public var stepSeconds: Double
    /// The bubble fraction as Narayanan et al. define it, the bubble time over the ideal time:
    /// per timed step (the pipeline's time − its slowest stage's compute) / that compute, where
    /// the pipeline's time is the longest stage's schedule; the median over the timed steps.
    /// Equal stages and instant hand-offs give (p − 1)/m.
    public var bubbleFraction: Double
    /// The same fraction with the pipeline's time replayed from the stages' measured work and
    /// instant hand-offs (`PipelineReplay`): what the schedule costs with these stages.
    public var replayedBubbleFraction: Double
    /// Per stage, the mean over timed steps of (the pipeline's time − the stage's compute) / its
    /// compute: the bubble plus, on a stage faster than the slowest, the imbalance.
    public var idleFractionPerStage: [Double]
    /// Per stage, the most micro-batches' activations it held at once.
    public var peakLiveActivationSetsPerStage: [Int]
    /// Per stage, its mean compute seconds per step (forwards and backwards).
    public var busySecondsPerStage: [Double]
    /// Boundary tensors sent per step over world rank 0's pipeline, and their bytes.
    public var sendsPerStep: CollectiveTally
    public var loss: Double
    public var microBatches: Int
    public var stages: Int

    /// The bubble of the 1F1B schedule with equal stages: (p − 1)/m.
    public var analyticBubbleFraction: Double { Double(stages - 1) / Double(microBatches) }
}

/// Times GPT training steps pipelined over `pipelineParallel` stages with the 1F1B schedule
/// (tp × pp × dp rank threads, synthetic tokens, dropout off as `TrainingStepBench`), through
/// the trainer: the schedule, the data-parallel and embedding-group reductions, clipping, AdamW.
public struct PipelineStepBench: Sendable {
    public let sizes: TrainBenchSizes
    public let pipelineParallel: Int
    public let microBatches: Int
    public let warmup: Int
    public let steps: Int

    public init(sizes: TrainBenchSizes, pipelineParallel: Int, microBatches: Int, warmup: Int, steps: Int) {
        precondition(pipelineParallel > 1 && microBatches > 0 && steps > 0 && warmup >= 0,
                     "PipelineStepBench: pp \(pipelineParallel), m \(microBatches), steps \(steps) validated by the caller")
        self.sizes = sizes
        self.pipelineParallel = pipelineParallel
        self.microBatches = microBatches
        self.warmup = warmup
        self.steps = steps
    }

    /// Every problem of these sizes with pipeline stages, at once.
    public func check() throws {
        let model = ModelDimensions(hiddenSize: sizes.hidden, attentionHeads: sizes.heads, vocabSize: sizes.vocab,
                                    vocabPadding: .fixed(sizes.paddedVocab), sequenceLength: sizes.seq,
                                    globalBatchSize: sizes.batch, microBatchSize: sizes.batch / max(sizes.dp * microBatches, 1),
                                    layers: sizes.layers)
        var problems = ParallelConfig(worldSize: sizes.ranks * pipelineParallel, tensorParallel: sizes.tp,
                                      dataParallel: sizes.dp, pipelineParallel: pipelineParallel)
            .violations(model).map { ConfigProblem(keyPath: "pp", problem: $0.description) }
        if sizes.batch % max(sizes.dp * microBatches, 1) != 0 {
            problems.append(ConfigProblem(keyPath: "micro-batches",
                                          problem: "batch \(sizes.batch) does not split into dp \(sizes.dp) × \(microBatches) micro-batches"))
        }
        if !problems.isEmpty { throw TrainingConfigError(source: "bench train --pp", problems: problems) }
    }

    public func run() throws -> PipelineStepOutcome {
        let (sizes, pp, m, warmup, steps) = (sizes, pipelineParallel, microBatches, warmup, steps)
        let microBatch = sizes.batch / (sizes.dp * m)
        let results = try InProcessWorld.run(worldSize: sizes.ranks * pp, timeout: 3600) { world in
            ComputeThreads.set(sizes.threads)
            let grid = try ProcessGrid(world: world, tensorParallel: sizes.tp, dataParallel: sizes.dp, pipelineParallel: pp)
            let model = GPTStageModel<Float>(config: sizes.model, stage: PipelineStage(index: grid.pipelineParallelRank, count: pp),
                                             seed: 1234, group: TensorParallelGroup(grid.tensorParallel), pipeline: grid.pipeline)
            let optimizer = Optimizer(parameters: model.parameters,
                                      schedule: LearningRateSchedule(maxRate: 3e-4, warmupSteps: 0, decaySteps: warmup + steps),
                                      hyperparameters: AdamWHyperparameters(learningRate: 3e-4, beta1: 0.9, beta2: 0.95,
                                                                            epsilon: 1e-8, weightDecay: 0.1),
                                      maxGradientNorm: nil)
            let trainer = Trainer(model: model, optimizer: optimizer, grid: grid,
                                  options: TrainerOptions(microBatchSize: microBatch, microBatches: m, sequenceLength: sizes.seq,
                                                          dropoutSeed: 1, totalSteps: warmup + steps))
            let rng = CounterRNG(seed: 7, stream: 3)
            var times: [Double] = [], stats: [PipelineStepStats] = []
            var loss = 0.0
            for step in 1...(warmup + steps) {
                try world.barrier()
                world.counters.reset()
                var micro = 0
                let start = StepProfiler.now()
                let record = try trainer.step {
                    let first = trainer.context(micro: micro).batchOffset * sizes.seq
                    micro += 1
                    let ids = (0..<(microBatch * sizes.seq)).map { Int32(rng.bits(at: first + $0) % UInt64(sizes.vocab)) }
                    return GPTInput(tokens: ids, labels: ids.map { ($0 + 1) % Int32(sizes.vocab) })
                }
                if step > warmup {
                    times.append(Double(StepProfiler.now() - start) * 1e-9)
                    stats.append(trainer.lastPipelineStats!)
                }
                loss = record.loss
            }
            return (times, stats, loss, world.counters.tally(.send, group: "pp"))
        }
        let layout = GridLayout(tensorParallel: sizes.tp, dataParallel: sizes.dp, pipelineParallel: pp)
        let pipeline = layout.pipelineGroup(containing: 0)
        var idle = [Double](repeating: 0, count: pp), busy = [Double](repeating: 0, count: pp)
        var bubbles: [Double] = [], replayed: [Double] = []
        for k in 0..<steps {
            let stats = pipeline.map { results[$0].1[k] }
            let wall = stats.map(\.stepSeconds).max()!
            let slowest = stats.map(\.busySeconds).max()!
            bubbles.append((wall - slowest) / slowest)
            replayed.append((PipelineReplay.wallSeconds(microBatches: m, workSeconds: stats.map(\.workSeconds)) - slowest) / slowest)
            for (stage, stat) in stats.enumerated() {
                idle[stage] += (wall - stat.busySeconds) / stat.busySeconds / Double(steps)
                busy[stage] += stat.busySeconds / Double(steps)
            }
        }
        return PipelineStepOutcome(
            stepSeconds: results.map { medianOf($0.0) }.max()!,
            bubbleFraction: medianOf(bubbles), replayedBubbleFraction: medianOf(replayed),
            idleFractionPerStage: idle,
            peakLiveActivationSetsPerStage: pipeline.map { rank in results[rank].1.map(\.peakLiveActivationSets).max()! },
            busySecondsPerStage: busy,
            sendsPerStep: pipeline.reduce(CollectiveTally()) { $0 + results[$1].3 },
            loss: results[pipeline.last!].2, microBatches: m, stages: pp)
    }
}
