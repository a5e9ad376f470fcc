import Collectives
import Models
import TensorCore
import TensorParallel

/// The whole-model form of the invariant: `steps` optimizer steps from one seed, with dropout
/// on, give the same loss curve at any tp × dp as at tp = dp = 1. The data is synthetic and
/// indexed by global sample, so every layout sees the same global batches.
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
    }

    /// The loss of every step at tp × dp, identical on every rank.
    public func losses(tp: Int, dp: Int) throws -> [Double] {
        try outcome(tp: tp, dp: dp).losses
    }

    /// The same, on a world of tp × dp ranks the caller started (in-process or MPI).
    public func losses(world: any Communicator, tp: Int, dp: Int) throws -> [Double] {
        try outcome(world: world, tp: tp, dp: dp).losses
    }

    /// The losses and the final parameters at tp × dp.
    public func outcome(tp: Int, dp: Int) throws -> Outcome {
        try InProcessWorld.run(worldSize: tp * dp, timeout: 300) { world in
            try self.outcome(world: world, tp: tp, dp: dp)
        }[0]
    }

    /// The same, on a world of tp × dp ranks the caller started (in-process or MPI).
    public func outcome(world: any Communicator, tp: Int, dp: Int) throws -> Outcome {
        let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
        let group = TensorParallelGroup(grid.tensorParallel, sequenceParallel: sequenceParallel)
        switch family {
        case .gpt:
            let config = GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence,
                                   vocabSize: vocab, paddedVocabSize: paddedVocab)
            let model = GPTModel<Float>(config: config, seed: seed, group: group, recomputeActivations: recomputeActivations)
            return try train(model, grid: grid) { first, count in
                let (tokens, labels) = (self.tokens(first, count, stream: 1), self.tokens(first, count, stream: 2))
                return GPTInput(tokens: tokens, labels: labels)
            }
        case .bert:
            let config = BERTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence,
                                    vocabSize: vocab, paddedVocabSize: paddedVocab, postLayerNorm: postLayerNorm)
            let model = BERTModel<Float>(config: config, seed: seed, group: group, recomputeActivations: recomputeActivations)
            return try train(model, grid: grid) { first, count in
                let n = count * sequence
                let positions = (0..<n).map { $0 % sequence }
                return BERTInput(tokens: self.tokens(first, count, stream: 3),
                                 tokenTypes: positions.map { Int32($0 < sequence / 2 ? 0 : 1) },
                                 paddingMask: (0..<n).map { ($0 / sequence + first) % 2 == 1 && $0 % sequence >= sequence - 3 ? 0 : 1 },
                                 maskedLabels: self.tokens(first, count, stream: 4),
                                 maskedLossMask: positions.map { $0 % 5 == 2 ? 1 : 0 },
                                 binaryLabels: (first..<(first + count)).map { Int32($0 % 2) })
            }
        }
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
        for step in 0..<steps {
            var micro = 0
            let record = try trainer.step {
                defer { micro += 1 }
                return input(step * globalBatch + trainer.context(micro: micro).batchOffset, microBatch)
            }
            losses.append(record.loss)
        }
        var parameters: [String: [UInt32]] = [:]
        for p in model.parameters.parameters {
            parameters[p.name] = try ParameterSet.gathered(p.value, of: p, group: model.tensorParallel).array.map(\.bitPattern)
        }
        return Outcome(losses: losses, parameters: parameters)
    }
}
