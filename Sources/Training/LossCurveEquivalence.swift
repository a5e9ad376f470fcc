import Collectives
import Models
import TensorCore
import TensorParallel

/// The whole-model form of the invariant: `steps` optimizer steps from one seed, with dropout
/// on, give the same loss curve at any tp × pp × dp as at tp = pp = dp = 1, GPT or BERT. The
/// data is synthetic and indexed by global sample, so every layout sees the same global batches.
public struct LossCurveEquivalence: Sendable {
    public enum Family: String, Sendable, CaseIterable {
        case gpt, bert
    }

    public var family: Family
    public var layers = 2
    public var hidden = 32
    public var heads = 4
    public var sequence = 16
    public var vocab = 203
    /// Fixed so every tp holds the same embedding rows.
    public var paddedVocab = 256
    public var globalBatch = 8
    public var microBatch = 2
    public var steps = 20
    public var seed: UInt64 = 1234
    /// BERT's original post-LN order instead of the pre-LN one.
    public var postLayerNorm = false
    /// Per-layer activation recomputation: the curve and the parameters must be bit-identical
    /// to those of a run that keeps every activation.
    public var recomputeActivations = false
    /// Sequence parallelism at tp > 1: the curve must equal the serial one all the same.
    public var sequenceParallel = false

    public init(family: Family) {
        self.family = family
    }

    /// What a run ends with, identical on every rank.
    public struct Outcome: Sendable, Equatable {
        /// The loss of every step.
        public var losses: [Double]
        /// Every parameter after the last step, as the bits of its full (tp = 1) tensor, by name.
        public var parameters: [String: [UInt32]]
        /// The most micro-batches whose activations this rank's stage held at once (0 at pp = 1).
        public var peakLiveActivationSets = 0
    }

    /// The loss of every step at tp × pp × dp, identical on every rank.
    public func losses(tp: Int, dp: Int, pp: Int = 1) throws -> [Double] {
        try outcome(tp: tp, dp: dp, pp: pp).losses
    }

    /// The same, on a world of tp × pp × dp ranks the caller started (in-process or MPI).
    public func losses(world: any Communicator, tp: Int, dp: Int, pp: Int = 1) throws -> [Double] {
        try outcome(world: world, tp: tp, dp: dp, pp: pp).losses
    }

    /// The losses and the final parameters at tp × pp × dp; each stage's parameters, merged.
    public func outcome(tp: Int, dp: Int, pp: Int = 1) throws -> Outcome {
        let outcomes = try InProcessWorld.run(worldSize: tp * pp * dp, timeout: 300) { world in
            try self.outcome(world: world, tp: tp, dp: dp, pp: pp)
        }
        var merged = outcomes[0]
        for other in outcomes.dropFirst() { merged.parameters.merge(other.parameters) { first, _ in first } }
        return merged
    }

    /// The same, on a world of tp × pp × dp ranks the caller started (in-process or MPI); the
    /// parameters are those of this rank's stage.
    public func outcome(world: any Communicator, tp: Int, dp: Int, pp: Int = 1) throws -> Outcome {
        var layout = ParallelConfig(worldSize: world.size, tensorParallel: tp, dataParallel: dp, pipelineParallel: pp)
        layout.sequenceParallel = sequenceParallel
        try layout.validate(ModelDimensions(hiddenSize: hidden, attentionHeads: heads, vocabSize: vocab,
                                            vocabPadding: .fixed(paddedVocab), sequenceLength: sequence,
                                            globalBatchSize: globalBatch, microBatchSize: microBatch, layers: layers))
        let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp, pipelineParallel: pp)
        let group = TensorParallelGroup(grid.tensorParallel, sequenceParallel: sequenceParallel)
        let stage = PipelineStage(index: grid.pipelineParallelRank, count: pp)
        switch family {
        case .gpt:
            let config = GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence,
                                   vocabSize: vocab, paddedVocabSize: paddedVocab)
            let input = { (first: Int, count: Int) in
                GPTInput(tokens: self.tokens(first, count, stream: 1), labels: self.tokens(first, count, stream: 2))
            }
            if pp > 1 {
                let model = GPTStageModel<Float>(config: config, stage: stage, seed: seed, group: group, pipeline: grid.pipeline,
                                                 recomputeActivations: recomputeActivations)
                return try train(model, grid: grid, input: input)
            }
            let model = GPTModel<Float>(config: config, seed: seed, group: group, recomputeActivations: recomputeActivations)
            return try train(model, grid: grid, input: input)
        case .bert:
            let config = BERTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence,
                                    vocabSize: vocab, paddedVocabSize: paddedVocab, postLayerNorm: postLayerNorm)
            if pp > 1 {
                let model = BERTStageModel<Float>(config: config, stage: stage, seed: seed, group: group, pipeline: grid.pipeline,
                                                  recomputeActivations: recomputeActivations)
                return try train(model, grid: grid, input: bertInput)
            }
            let model = BERTModel<Float>(config: config, seed: seed, group: group, recomputeActivations: recomputeActivations)
            return try train(model, grid: grid, input: bertInput)
        }
    }

    /// BERT's micro-batch of `count` sequences from global sequence `first`: two segments, the
    /// last three positions of every other sequence padding, every fifth position scored.
    func bertInput(_ first: Int, _ count: Int) -> BERTInput {
        let n = count * sequence
        let positions = (0..<n).map { $0 % sequence }
        return BERTInput(tokens: tokens(first, count, stream: 3),
                         tokenTypes: positions.map { Int32($0 < sequence / 2 ? 0 : 1) },
                         paddingMask: (0..<n).map { ($0 / sequence + first) % 2 == 1 && $0 % sequence >= sequence - 3 ? 0 : 1 },
                         maskedLabels: tokens(first, count, stream: 4),
                         maskedLossMask: positions.map { $0 % 5 == 2 ? 1 : 0 },
                         binaryLabels: (first..<(first + count)).map { Int32($0 % 2) })
    }

    /// `count` sequences of token ids starting at global sequence `first`: three in four among the
    /// first 16 ids, so that 20 steps have something to learn (the padded rows, which take no
    /// probability, are not it), and one in four anywhere, so that targets fall on every shard.
    func tokens(_ first: Int, _ count: Int, stream: UInt64) -> [Int32] {
        let rng = CounterRNG(seed: seed, stream: stream)
        return (0..<(count * sequence)).map {
            let bits = rng.bits(at: first * sequence + $0)
            return Int32((bits >> 2) % UInt64(bits & 3 == 0 ? vocab : 16))
        }
    }

    func train<M: TrainableModel>(_ model: M, grid: ProcessGrid, input: (_ first: Int, _ count: Int) -> M.Batch) throws
        -> Outcome where M.Scalar == Float {
        let dp = grid.dataParallel.size
        let microBatches = globalBatch / (microBatch * dp)
        let optimizer = Optimizer(parameters: model.parameters,
                                  schedule: LearningRateSchedule(maxRate: 1e-3, warmupSteps: 2, decaySteps: steps),
                                  hyperparameters: AdamWHyperparameters(learningRate: 1e-3), maxGradientNorm: 1)
        let trainer = Trainer(model: model, optimizer: optimizer, grid: grid,
                              options: TrainerOptions(microBatchSize: microBatch, microBatches: microBatches,
                                                      sequenceLength: sequence, dropoutSeed: seed, logInterval: steps,
                                                      totalSteps: steps))
        var losses: [Double] = []
        var peak = 0
        for step in 0..<steps {
            var micro = 0
            let record = try trainer.step {
                defer { micro += 1 }
                return input(step * globalBatch + trainer.context(micro: micro).batchOffset, microBatch)
            }
            losses.append(record.loss)
            peak = max(peak, trainer.lastPipelineStats?.peakLiveActivationSets ?? 0)
        }
        var parameters: [String: [UInt32]] = [:]
        for p in model.parameters.parameters {
            parameters[p.name] = try ParameterSet.gathered(p.value, of: p, group: model.tensorParallel).array.map(\.bitPattern)
        }
        return Outcome(losses: losses, parameters: parameters, peakLiveActivationSets: peak)
    }
}
