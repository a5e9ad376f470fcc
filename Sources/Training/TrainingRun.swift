import Collectives
import Datasets
import Foundation
import Models
import TensorParallel

/// One training run of a config on one rank of the world, GPT or BERT: it builds the model and
/// its loader, continues from the newest checkpoint where asked, trains to `training.steps`, and
/// checkpoints along the way. `megatron train` and the experiment runner both drive it.
public struct TrainingRun: Sendable {
    public let config: TrainingConfig
    /// A checkpoint directory to continue from: required to hold one (`--resume`), or used
    /// only when it does (`resumeIfPresent`, how an interrupted experiment picks up).
    public var resume: String?
    public var resumeIfPresent: Bool
    public var peakGFLOPs: Double?
    /// A pretraining checkpoint to fine-tune from: the run then trains BERT's multiple-choice
    /// model on a `race` file (training.train_data), its body starting from these weights.
    public var finetuneFrom: String?
    /// Continue or fine-tune from a checkpoint whose recorded vocabulary is not the training
    /// data's (`--accept-vocab-mismatch`); otherwise that stops the run before it starts.
    public var acceptVocabularyMismatch: Bool

    public init(config: TrainingConfig, resume: String? = nil, resumeIfPresent: Bool = false, peakGFLOPs: Double? = nil,
                finetuneFrom: String? = nil, acceptVocabularyMismatch: Bool = false) {
        self.config = config
        self.resume = resume
        self.resumeIfPresent = resumeIfPresent
        self.peakGFLOPs = peakGFLOPs
        self.finetuneFrom = finetuneFrom
        self.acceptVocabularyMismatch = acceptVocabularyMismatch
    }

    /// What a finished run reports, identical on every rank.
    public struct Outcome: Sendable {
        public var lossCurve: [LossPoint]
        public var steps: Int
        /// Of the steps this invocation ran (not those before a resume).
        public var tokensPerSecond: Double
        public var modelTFLOPs: Double
        public var seconds: Double
        public var parameterCount: Int
    }

    public var paddedVocab: Int { config.model.paddedVocab(tensorParallel: config.training.tensorParallel) }

    public var gptConfig: GPTConfig {
        let m = config.model
        return GPTConfig(layers: m.layers, hidden: m.hidden, heads: m.heads, maxPositions: m.maxPositions,
                         vocabSize: m.vocabSize, paddedVocabSize: paddedVocab, gelu: m.gelu,
                         attentionDropout: m.attentionDropout, hiddenDropout: m.hiddenDropout, initStd: m.initStd,
                         layerNormEpsilon: m.layerNormEpsilon)
    }

    public var bertConfig: BERTConfig {
        let m = config.model
        return BERTConfig(layers: m.layers, hidden: m.hidden, heads: m.heads, maxPositions: m.maxPositions,
                          vocabSize: m.vocabSize, paddedVocabSize: paddedVocab, gelu: m.gelu,
                          attentionDropout: m.attentionDropout, hiddenDropout: m.hiddenDropout, initStd: m.initStd,
                          layerNormEpsilon: m.layerNormEpsilon, postLayerNorm: m.postLayerNorm)
    }

    /// Checks what the models cannot express before any rank starts.
    public func validate() throws {
        let m = config.model
        var problems: [ConfigProblem] = []
        if m.ffnHidden != 4 * m.hidden {
            problems.append(ConfigProblem(keyPath: "model.ffn_hidden", problem: "the models use 4 × hidden (\(4 * m.hidden)), got \(m.ffnHidden)"))
        }
        if m.family == .gpt && m.postLayerNorm {
            problems.append(ConfigProblem(keyPath: "model.post_layernorm", problem: "GPT-2 is pre-LN; the switch is BERT's (Figure 7)"))
        }
        if finetuneFrom != nil && m.family != .bert {
            problems.append(ConfigProblem(keyPath: "model.family", problem: "fine-tuning for multiple choice starts from BERT"))
        }
        if finetuneFrom != nil && config.training.pipelineParallel > 1 {
            problems.append(ConfigProblem(keyPath: "training.pp", problem: "fine-tuning for multiple choice runs at pp = 1; pipeline stages are built for GPT and BERT pretraining"))
        }
        if m.sequenceLength > m.maxPositions {
            problems.append(ConfigProblem(keyPath: "model.sequence_length", problem: "longer than model.max_positions (\(m.maxPositions))"))
        }
        if !problems.isEmpty { throw TrainingConfigError(source: "training config", problems: problems) }
    }

    /// Runs on every rank of `world` (tp × pp × dp ranks); rank 0 calls `log`.
    public func run(world: any Communicator, log: @escaping (String) -> Void) throws -> Outcome {
        let t = config.training
        let grid = try ProcessGrid(world: world, tensorParallel: t.tensorParallel, dataParallel: t.dataParallel,
                                   pipelineParallel: t.pipelineParallel)
        let hosts = try SharedFilesCheck.confirm(world: world, files: [t.trainData] + [resume, finetuneFrom].compactMap { $0 },
                                                 checkpointDirectory: t.checkpointDirectory)
        let placement = HostPlacement(layout: grid.layout, hosts: hosts)
        if grid.worldRank == 0 && placement.distinctHosts.count > 1 {
            log(placement.summary)
            if let warning = placement.warning { log(warning) }
        }
        let group = TensorParallelGroup(grid.tensorParallel, sequenceParallel: t.sequenceParallel)
        let stage = PipelineStage(index: grid.pipelineParallelRank, count: t.pipelineParallel)
        switch config.model.family {
        case .gpt:
            let file = try dataFile(.gptDocuments)
            let loader = { (position: LoaderPosition) in
                try GPTLoader(file: file, sequenceLength: config.model.sequenceLength, microBatch: t.microBatch,
                              dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size, seed: t.seed,
                              position: position)
                    .map { GPTInput(tokens: $0.tokens, labels: $0.labels) }
            }
            if t.pipelineParallel > 1 {
                let model = GPTStageModel<Float>(config: gptConfig, stage: stage, seed: t.seed, group: group, pipeline: grid.pipeline,
                                                 recomputeActivations: t.recomputeActivations)
                return try drive(model, grid: grid, trainData: file, log: log, loader: loader)
            }
            let model = GPTModel<Float>(config: gptConfig, seed: t.seed, group: group,
                                        recomputeActivations: t.recomputeActivations)
            return try drive(model, grid: grid, trainData: file, log: log, loader: loader)
        case .bert where finetuneFrom != nil:
            let file = try dataFile(.race)
            let model = BERTMultipleChoiceModel<Float>(config: bertConfig, seed: t.seed, group: group,
                                                         recomputeActivations: t.recomputeActivations)
            if let pretrained = finetuneFrom, try checkpointToResume() == nil {
                try checkVocabulary(of: pretrained, recorded: try Checkpoint.contents(of: pretrained).model.vocabulary,
                                    against: file, rank: grid.worldRank, log: log)
                let loaded = try Checkpoint.readWeights(from: pretrained, into: model.parameters, group: group)
                if grid.worldRank == 0 {
                    log("fine-tuning from \(pretrained): new \(loaded.initialized.joined(separator: ", ")); "
                        + "unused \(loaded.skipped.joined(separator: ", "))")
                }
            }
            return try drive(model, grid: grid, trainData: file, sequencesPerSample: 4, log: log) { position in
                let loader = try RACELoader(file: file, microBatch: t.microBatch, dpRank: grid.dataParallelRank,
                                            dpSize: grid.dataParallel.size, seed: t.seed, shuffles: true, position: position)
                guard loader.sequenceLength == config.model.sequenceLength, loader.choices == 4 else {
                    throw TrainingConfigError(source: t.trainData, problems: [ConfigProblem(
                        keyPath: "model.sequence_length",
                        problem: "the RACE file holds \(loader.choices) choices of \(loader.sequenceLength) tokens; set sequence_length to \(loader.sequenceLength)")])
                }
                return loader.map { MultipleChoiceInput(tokens: $0.tokens, tokenTypes: $0.tokenTypes,
                                                        paddingMask: $0.paddingMask, labels: $0.labels, choices: 4) }
            }
        case .bert:
            let file = try dataFile(.bertSentences)
            let loader = { (position: LoaderPosition) in
                try BERTLoader(file: file, sequenceLength: config.model.sequenceLength, microBatch: t.microBatch,
                               dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size, seed: t.seed,
                               position: position)
                    .map { BERTInput(tokens: $0.tokens, tokenTypes: $0.tokenTypes, paddingMask: $0.paddingMask,
                                     maskedLabels: $0.maskedLabels, maskedLossMask: $0.lossMask,
                                     binaryLabels: $0.sentenceOrderLabels) }
            }
            if t.pipelineParallel > 1 {
                let model = BERTStageModel<Float>(config: bertConfig, stage: stage, seed: t.seed, group: group, pipeline: grid.pipeline,
                                                  recomputeActivations: t.recomputeActivations)
                return try drive(model, grid: grid, trainData: file, log: log, loader: loader)
            }
            let model = BERTModel<Float>(config: bertConfig, seed: t.seed, group: group,
                                         recomputeActivations: t.recomputeActivations)
            return try drive(model, grid: grid, trainData: file, log: log, loader: loader)
        }
    }

    func dataFile(_ kind: TokenFileSchema.Kind) throws -> TokenFile {
        let path = config.training.trainData
        let file = try TokenFile(path: path, kind: kind,
                                 remedy: "check training.train_data, or run `megatron prepare` to make it")
        guard file.header.vocabSize == config.model.vocabSize else {
            throw TrainingConfigError(source: path, problems: [ConfigProblem(
                keyPath: "model.vocab_size",
                problem: "\(path) was tokenized with a vocabulary of \(file.header.vocabSize), the model has \(config.model.vocabSize); make them equal")])
        }
        return file
    }

    /// Stops unless `file` was tokenized with the vocabulary the checkpoint at `path` records
    /// (`recorded`), or the mismatch is accepted; world rank 0 logs the warning of an accepted
    /// mismatch or of a checkpoint that records none.
    func checkVocabulary(of path: String, recorded: CheckpointVocabulary?, against file: TokenFile, rank: Int,
                         log: (String) -> Void) throws {
        let warning = try CheckpointVocabulary.check(recorded, checkpoint: path, against: CheckpointVocabulary(file.header),
                                                     dataFile: file.path, acceptMismatch: acceptVocabularyMismatch)
        if let warning, rank == 0 { log(warning) }
    }

    /// `trainData`: the file the loader reads, whose vocabulary the checkpoints record.
    /// `sequencesPerSample`: a multiple-choice sample (a question) is 4 sequences.
    func drive<Model: TrainableModel, Source: MicroBatchSource>(
        _ model: Model, grid: ProcessGrid, trainData: TokenFile, sequencesPerSample: Int = 1,
        log: @escaping (String) -> Void,
        loader: (LoaderPosition) throws -> Source
    ) throws -> Outcome where Model.Scalar == Float, Source.Batch == Model.Batch {
        let t = config.training
        let optimizer = Optimizer(parameters: model.parameters, schedule: t.schedule, hyperparameters: t.adamW,
                                  maxGradientNorm: t.clipGradient > 0 ? t.clipGradient : nil)
        let trainer = Trainer(model: model, optimizer: optimizer, grid: grid,
                              options: TrainerOptions(microBatchSize: t.microBatch * sequencesPerSample,
                                                      microBatches: t.microBatches,
                                                      sequenceLength: config.model.sequenceLength, dropoutSeed: t.seed,
                                                      logInterval: t.logInterval, totalSteps: t.steps,
                                                      peakGFLOPs: peakGFLOPs))
        let configJSON = try config.json()
        var position = LoaderPosition.start
        if let path = try checkpointToResume() {
            let contents = try trainer.restore(from: path, expectedPaddedVocabSize: paddedVocab)
            try checkVocabulary(of: path, recorded: contents.model.vocabulary, against: trainData,
                                rank: grid.worldRank, log: log)
            let recorded = try TrainingConfig.decode(Data(contents.model.configJSON.utf8), source: "\(path) (config attribute)")
            guard recorded.model == config.model else {
                throw CheckpointError.settingMismatch(file: path, setting: "the model section",
                                                      checkpoint: try recorded.json(), run: configJSON)
            }
            position = contents.state.dataPosition
            if grid.worldRank == 0 { log("resumed from \(path) at step \(trainer.step)") }
        }
        var data = try loader(position)
        let plan = t.checkpointDirectory.map {
            CheckpointPlan(directory: CheckpointDirectory(path: $0, keep: t.keepCheckpoints),
                           interval: t.checkpointInterval,
                           model: CheckpointModelInfo(configJSON: configJSON, paddedVocabSize: paddedVocab,
                                                      vocabulary: CheckpointVocabulary(trainData.header)))
        }
        if grid.worldRank == 0, let plan {
            for file in try plan.directory.removeStalePartials() { log("removed \(file), left by a write killed mid-way") }
        }
        if grid.worldRank == 0 {
            log("training \(config.model.family.rawValue): \(config.model.layers) layers, hidden \(config.model.hidden), "
                + "tp \(t.tensorParallel) × " + (t.pipelineParallel > 1 ? "pp \(t.pipelineParallel) (1F1B) × " : "")
                + "dp \(t.dataParallel), \(model.parameters.values.count) parameter elements per rank, "
                + "global batch \(t.globalBatch) = \(t.microBatches) micro-batches × \(t.microBatch) × dp \(t.dataParallel)"
                + (t.recomputeActivations ? ", activations recomputed per layer" : ""))
        }
        let start = ContinuousClock.now
        let records = try trainer.train(until: t.steps, data: &data, checkpoints: plan, log: log)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let sequences = Double(records.count * trainer.globalBatch)
        return Outcome(lossCurve: trainer.lossCurve, steps: trainer.step,
                       tokensPerSecond: seconds > 0 ? sequences * Double(config.model.sequenceLength) / seconds : 0,
                       modelTFLOPs: seconds > 0 ? sequences * model.trainingFLOPs(sequenceLength: config.model.sequenceLength) / seconds / 1e12 : 0,
                       seconds: seconds, parameterCount: model.parameters.values.count)
    }

    func checkpointToResume() throws -> String? {
        if let resume { return try CheckpointDirectory(path: resume).latest() }
        guard resumeIfPresent, let directory = config.training.checkpointDirectory else { return nil }
        return try CheckpointDirectory(path: directory).checkpoints().last?.path
    }
}
