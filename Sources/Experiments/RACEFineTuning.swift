import Collectives
import Datasets
import Foundation
import Training

/// Fine-tunes a pretrained BERT checkpoint for RACE with Megatron's multiple-choice head, then
/// evaluates the result on RACE files (`megatron finetune race`). The model is the checkpoint's
/// (its recorded config and padded vocabulary) at the RACE file's sequence length; the body
/// starts from the checkpoint's weights and the head from its initialisation, through
/// `TrainingRun`'s fine-tuning path, as an experiment's `finetune_from` run does. An interrupted
/// fine-tuning continues from the newest checkpoint in its output directory.
public struct RACEFineTuning: Sendable {
    /// The pretrained checkpoint file.
    public let pretrained: String
    public let config: TrainingConfig
    public let acceptVocabularyMismatch: Bool

    /// The settings a flag can give; any other key comes through `overrides`.
    public struct Options: Sendable {
        /// Optimizer steps; nil runs `epochs` passes over the training questions.
        public var steps: Int?
        public var epochs: Double
        public var microBatch: Int
        public var globalBatch: Int
        public var learningRate: Double
        public var tensorParallel: Int
        public var dataParallel: Int
        /// The fine-tuned model's checkpoint directory.
        public var out: String
        /// Fine-tune and evaluate on RACE files of another vocabulary than the checkpoint's
        /// (`--accept-vocab-mismatch`), with a warning.
        public var acceptVocabularyMismatch: Bool

        /// bert-race's fine-tuning: 2 epochs of 8-question batches at lr 1e-4, 6 % warmup.
        public init(steps: Int? = nil, epochs: Double = 2, microBatch: Int = 2, globalBatch: Int = 8,
                    learningRate: Double = 1e-4, tensorParallel: Int = 1, dataParallel: Int = 1, out: String,
                    acceptVocabularyMismatch: Bool = false) {
            self.steps = steps
            self.epochs = epochs
            self.microBatch = microBatch
            self.globalBatch = globalBatch
            self.learningRate = learningRate
            self.tensorParallel = tensorParallel
            self.dataParallel = dataParallel
            self.out = out
            self.acceptVocabularyMismatch = acceptVocabularyMismatch
        }
    }

    /// `overrides` are `key.path=value` strings, as `megatron train --set` takes them.
    public init(checkpoint path: String, trainData: String, options: Options, overrides: [String] = []) throws {
        pretrained = try CheckpointEvaluation.resolve(path)
        acceptVocabularyMismatch = options.acceptVocabularyMismatch
        let contents = try Checkpoint.contents(of: pretrained)
        let recorded = try TrainingConfig.decode(Data(contents.model.configJSON.utf8), source: "\(pretrained) (config attribute)")
        guard recorded.model.family == .bert else {
            throw EvaluationError.wrongFamily(task: .race, checkpoint: pretrained, family: recorded.model.family.rawValue)
        }
        let file = try TokenFile(path: trainData, kind: .race, remedy: "make it with `megatron prepare race --split train`")
        let questions = try RACELoader(file: file, microBatch: 1, dpRank: 0, dpSize: 1, seed: 0, shuffles: false)
        var model = recorded.model
        model.sequenceLength = questions.sequenceLength
        model.paddedVocabSize = contents.model.paddedVocabSize
        let steps = options.steps
            ?? Swift.max(1, Int((options.epochs * Double(questions.questionCount) / Double(options.globalBatch)).rounded(.up)))
        let training = TrainingSection(
            steps: steps, microBatch: options.microBatch, globalBatch: options.globalBatch,
            learningRate: options.learningRate, warmupSteps: Int((0.06 * Double(steps)).rounded()), weightDecay: 0.1,
            seed: recorded.training.seed, logInterval: Swift.max(1, steps / 20), checkpointInterval: 100,
            checkpointDirectory: options.out, tensorParallel: options.tensorParallel,
            dataParallel: options.dataParallel, trainData: trainData)
        config = try TrainingConfig.decode(Data(try TrainingConfig(model: model, training: training).json().utf8),
                                           source: "megatron finetune race (from \(pretrained))", overrides: overrides)
    }

    /// Fine-tunes on a world of tp × dp ranks (threads of this process, or the processes of an
    /// MPI job), then evaluates the fine-tuned checkpoint on each of `evaluate` (RACE files) at the
    /// same layout. The files and the output directory are checked before training starts.
    /// Returns this process's rank's training outcome and the RACE metrics (the same on every rank).
    public func run(evaluate files: [String], batch: Int? = nil, engine: CollectiveEngine = .inProcess,
                    log: @escaping @Sendable (String) -> Void) throws -> (outcome: TrainingRun.Outcome, metrics: [String: Double]) {
        let t = config.training
        guard let out = t.checkpointDirectory else {
            throw TrainingConfigError(source: "megatron finetune race", problems: [ConfigProblem(
                keyPath: "training.checkpoint_dir", problem: "missing: the fine-tuned model is evaluated from it; pass --out DIR")])
        }
        let evaluation = [ExperimentSpec.Evaluation(task: .race, data: files, batch: batch)]
        let printing = try engine.hostsWorldRankZero()
        _ = try CheckpointEvaluation(checkpoint: pretrained, tensorParallel: t.tensorParallel, dataParallel: t.dataParallel,
                                     acceptVocabularyMismatch: acceptVocabularyMismatch)
            .load(evaluation) { if printing { log($0) } }
        let training = TrainingRun(config: config, resumeIfPresent: true, finetuneFrom: pretrained,
                                   acceptVocabularyMismatch: acceptVocabularyMismatch)
        try training.validate()
        let outcome = try engine.run(worldSize: t.tensorParallel * t.dataParallel, timeout: 24 * 3600) { world in
            try training.run(world: world, log: log)
        }[0]
        let metrics = try CheckpointEvaluation(checkpoint: out, tensorParallel: t.tensorParallel, dataParallel: t.dataParallel,
                                               acceptVocabularyMismatch: acceptVocabularyMismatch)
            .evaluate(evaluation, engine: engine, log: log)
        return (outcome, metrics)
    }
}
