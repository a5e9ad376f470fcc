import TensorCore

/// The optimization and run part of a training config. Keys are snake_case in the JSON file.
public struct TrainingSection: Sendable, Equatable, Encodable, Decodable {
    /// Optimizer steps of the whole run.
    public var steps: Int
    /// Sequences per forward pass on one data-parallel rank.
    public var microBatch: Int
    /// Sequences per optimizer step over all data-parallel ranks.
    public var globalBatch: Int
    public var learningRate: Double
    public var minLearningRate: Double
    public var warmupSteps: Int
    /// The step where the decay reaches the minimum (warmup included); the run's steps when absent.
    public var decaySteps: Int
    public var decayStyle: DecayStyle
    public var weightDecay: Double
    /// The global gradient-norm limit; 0 turns clipping off.
    public var clipGradient: Double
    public var adamBeta1: Double
    public var adamBeta2: Double
    public var adamEpsilon: Double
    /// Seeds the parameters, the data order and the dropout masks.
    public var seed: UInt64
    /// Steps between log lines.
    public var logInterval: Int
    /// Steps between checkpoints; 0 writes none.
    public var checkpointInterval: Int
    public var checkpointDirectory: String?
    /// Checkpoints kept in the directory; older ones are deleted.
    public var keepCheckpoints: Int
    public var tensorParallel: Int
    public var dataParallel: Int
    /// Pipeline stages (1F1B): the layers split evenly across them.
    public var pipelineParallel: Int
    public var trainData: String
    public var validationData: String?
    /// Activation recomputation per layer (Megatron's --checkpoint-activations): keep only each
    /// layer's input from forward to backward and run the layer's forward again in backward.
    /// The same losses, less activation memory, about a third more compute for the layers.
    public var recomputeActivations: Bool
    /// Sequence parallelism (Korthikanti et al. 2022): the layer norms, dropouts and residual adds
    /// run on each tensor-parallel rank's shard of the sequence. Needs tp > 1 and a sequence
    /// length divisible by tp; the same losses, activations t times smaller outside attention and the MLP.
    public var sequenceParallel: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case steps
        case microBatch = "micro_batch"
        case globalBatch = "global_batch"
        case learningRate = "lr"
        case minLearningRate = "min_lr"
        case warmupSteps = "warmup_steps"
        case decaySteps = "decay_steps"
        case decayStyle = "decay_style"
        case weightDecay = "weight_decay"
        case clipGradient = "clip_grad"
        case adamBeta1 = "adam_beta1"
        case adamBeta2 = "adam_beta2"
        case adamEpsilon = "adam_epsilon"
        case seed
        case logInterval = "log_interval"
        case checkpointInterval = "checkpoint_interval"
        case checkpointDirectory = "checkpoint_dir"
        case keepCheckpoints = "keep_checkpoints"
        case tensorParallel = "tp"
        case dataParallel = "dp"
        case pipelineParallel = "pp"
        case trainData = "train_data"
        case validationData = "validation_data"
        case recomputeActivations = "recompute_activations"
        case sequenceParallel = "sequence_parallel"
    }

    public init(steps: Int, microBatch: Int, globalBatch: Int, learningRate: Double, minLearningRate: Double = 0,
                warmupSteps: Int = 0, decaySteps: Int? = nil, decayStyle: DecayStyle = .cosine,
                weightDecay: Double = 0.01, clipGradient: Double = 1, adamBeta1: Double = 0.9,
                adamBeta2: Double = 0.999, adamEpsilon: Double = 1e-8, seed: UInt64 = 1234, logInterval: Int = 10,
                checkpointInterval: Int = 0, checkpointDirectory: String? = nil, keepCheckpoints: Int = 2,
                tensorParallel: Int = 1, dataParallel: Int = 1, trainData: String, validationData: String? = nil,
                recomputeActivations: Bool = false, sequenceParallel: Bool = false, pipelineParallel: Int = 1) {
        self.steps = steps
        self.microBatch = microBatch
        self.globalBatch = globalBatch
        self.learningRate = learningRate
        self.minLearningRate = minLearningRate
        self.warmupSteps = warmupSteps
        self.decaySteps = decaySteps ?? steps
        self.decayStyle = decayStyle
        self.weightDecay = weightDecay
        self.clipGradient = clipGradient
        self.adamBeta1 = adamBeta1
        self.adamBeta2 = adamBeta2
        self.adamEpsilon = adamEpsilon
        self.seed = seed
        self.logInterval = logInterval
        self.checkpointInterval = checkpointInterval
        self.checkpointDirectory = checkpointDirectory
        self.keepCheckpoints = keepCheckpoints
        self.tensorParallel = tensorParallel
        self.dataParallel = dataParallel
        self.trainData = trainData
        self.validationData = validationData
        self.recomputeActivations = recomputeActivations
        self.sequenceParallel = sequenceParallel
        self.pipelineParallel = pipelineParallel
    }

    /// Decodes one section alone; every problem is reported in one `TrainingConfigError`.
    public init(from decoder: any Decoder) throws {
        let problems = ConfigProblems()
        self.init(reading: decoder, problems: problems)
        try problems.throwIfAny()
    }

    static let placeholder = TrainingSection(steps: 0, microBatch: 0, globalBatch: 0, learningRate: 0, trainData: "")

    init(reading decoder: any Decoder, problems: ConfigProblems) {
        let r = ConfigSectionReader<CodingKeys>(decoder, problems: problems)
        let steps: Int = r.required(.steps, placeholder: 0)
        self.init(steps: steps, microBatch: r.required(.microBatch, placeholder: 0),
                  globalBatch: r.required(.globalBatch, placeholder: 0),
                  learningRate: r.required(.learningRate, placeholder: 0),
                  minLearningRate: r.optional(.minLearningRate, default: 0),
                  warmupSteps: r.optional(.warmupSteps, default: 0),
                  decaySteps: r.optional(.decaySteps, default: steps),
                  decayStyle: r.choice(.decayStyle, default: .cosine, placeholder: .cosine),
                  weightDecay: r.optional(.weightDecay, default: 0.01), clipGradient: r.optional(.clipGradient, default: 1),
                  adamBeta1: r.optional(.adamBeta1, default: 0.9), adamBeta2: r.optional(.adamBeta2, default: 0.999),
                  adamEpsilon: r.optional(.adamEpsilon, default: 1e-8), seed: r.optional(.seed, default: 1234),
                  logInterval: r.optional(.logInterval, default: 10),
                  checkpointInterval: r.optional(.checkpointInterval, default: 0),
                  checkpointDirectory: r.nullable(.checkpointDirectory),
                  keepCheckpoints: r.optional(.keepCheckpoints, default: 2),
                  tensorParallel: r.optional(.tensorParallel, default: 1), dataParallel: r.optional(.dataParallel, default: 1),
                  trainData: r.required(.trainData, placeholder: ""), validationData: r.nullable(.validationData),
                  recomputeActivations: r.optional(.recomputeActivations, default: false),
                  sequenceParallel: r.optional(.sequenceParallel, default: false),
                  pipelineParallel: r.optional(.pipelineParallel, default: 1))
        guard r.isReadable else { return }
        // Batch sizes, tp, dp and sequence parallelism are left to ParallelConfig, which checks them with the model.
        r.check(steps > 0, .steps, "\(steps); must be positive")
        r.check(learningRate > 0, .learningRate, "\(learningRate); must be positive")
        // A bad lr or steps is reported once, at its own key, not again at the keys compared with it.
        r.check(minLearningRate >= 0 && (learningRate <= 0 || minLearningRate <= learningRate), .minLearningRate,
                "\(minLearningRate); must be in [0, lr = \(learningRate)]")
        r.check(warmupSteps >= 0 && warmupSteps <= decaySteps, .warmupSteps,
                "\(warmupSteps); must be in [0, decay_steps = \(decaySteps)]")
        r.check(decaySteps > 0 || steps <= 0, .decaySteps, "\(decaySteps); must be positive")
        r.check(weightDecay >= 0, .weightDecay, "\(weightDecay); must be ≥ 0")
        r.check(clipGradient >= 0, .clipGradient, "\(clipGradient); must be ≥ 0 (0 turns clipping off)")
        for (key, beta) in [(CodingKeys.adamBeta1, adamBeta1), (.adamBeta2, adamBeta2)] {
            r.check(beta >= 0 && beta < 1, key, "\(beta); must be in [0, 1)")
        }
        r.check(adamEpsilon > 0, .adamEpsilon, "\(adamEpsilon); must be positive")
        r.check(logInterval > 0, .logInterval, "\(logInterval); must be positive")
        r.check(checkpointInterval >= 0, .checkpointInterval, "\(checkpointInterval); must be ≥ 0 (0 writes none)")
        r.check(checkpointInterval == 0 || checkpointDirectory != nil, .checkpointDirectory,
                "missing: checkpoint_interval \(checkpointInterval) needs a directory to write to")
        r.check(keepCheckpoints > 0, .keepCheckpoints, "\(keepCheckpoints); must be positive")
    }

    /// Ranks of the run: tp × pp × dp.
    public var worldSize: Int { tensorParallel * pipelineParallel * dataParallel }

    /// Micro-batches each data-parallel rank runs per optimizer step (gradient accumulation).
    public var microBatches: Int { globalBatch / (microBatch * dataParallel) }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(maxRate: learningRate, minRate: minLearningRate, warmupSteps: warmupSteps,
                             decaySteps: decaySteps, style: decayStyle)
    }

    public var adamW: AdamWHyperparameters {
        AdamWHyperparameters(learningRate: learningRate, beta1: adamBeta1, beta2: adamBeta2, epsilon: adamEpsilon,
                             weightDecay: weightDecay)
    }
}
