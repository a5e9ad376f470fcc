import Collectives
import Datasets
import Foundation
import Models
import Tasks
import TensorParallel
import Training

/// Evaluates one checkpoint on the paper's tasks at any tp × dp, and GPT's also in pipeline stages (pp). The model comes from the
/// checkpoint alone: its recorded config and padded vocabulary (fixed, so every layout builds
/// the same model). Everything that can be checked — the checkpoint, the layout, each task against the model's family, each data file's
/// kind and vocabulary — is checked before any rank starts. `megatron eval`, `megatron finetune
/// race` and the experiment runner all evaluate through here.
public struct CheckpointEvaluation: Sendable {
    /// The checkpoint file.
    public let checkpoint: String
    /// The recorded config at the asked layout (tp, pp, dp; global batch = micro batch · dp · pp,
    /// one micro-batch per stage, so the layout check asks of pp only that it divides the layers).
    public let config: TrainingConfig
    /// The vocabulary the checkpoint records (nil in older checkpoints): every data file must match it.
    public let vocabulary: CheckpointVocabulary?
    /// Evaluate data files of another vocabulary anyway (`--accept-vocab-mismatch`), with a warning.
    public let acceptVocabularyMismatch: Bool

    /// `path` is a checkpoint file or a directory of them (its newest is taken).
    public init(checkpoint path: String, tensorParallel: Int, dataParallel: Int, pipelineParallel: Int = 1,
                acceptVocabularyMismatch: Bool = false) throws {
        checkpoint = try Self.resolve(path)
        let contents = try Checkpoint.contents(of: checkpoint)
        vocabulary = contents.model.vocabulary
        self.acceptVocabularyMismatch = acceptVocabularyMismatch
        var config = try TrainingConfig.decode(Data(contents.model.configJSON.utf8), source: "\(checkpoint) (config attribute)")
        config.model.paddedVocabSize = contents.model.paddedVocabSize
        config.training.tensorParallel = tensorParallel
        config.training.dataParallel = dataParallel
        config.training.pipelineParallel = pipelineParallel
        config.training.globalBatch = config.training.microBatch * dataParallel * pipelineParallel
        var problems = config.parallelProblems(worldSize: tensorParallel * pipelineParallel * dataParallel).map(\.description)
        if pipelineParallel > 1 && config.model.family != .gpt {
            problems.append("training.pp: \(pipelineParallel); evaluation runs GPT in pipeline stages, BERT's multiple-choice model at pp = 1")
        }
        guard problems.isEmpty else {
            throw EvaluationError.layout(checkpoint: checkpoint, tensorParallel: tensorParallel, dataParallel: dataParallel,
                                         problems: problems)
        }
        self.config = config
    }

    /// The newest checkpoint of a directory, or the file itself.
    public static func resolve(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.noCheckpoint(path: path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else { return path }
        guard let newest = try CheckpointDirectory(path: path).checkpoints().last else {
            throw EvaluationError.noCheckpoint(path: path, reason: "the directory holds no checkpoint-NNNNNNNN.h5 file")
        }
        return newest.path
    }

    var family: ModelSection.Family { config.model.family }

    /// A task with its data read and checked, shared by the rank threads.
    enum LoadedTask: Sendable {
        case wikitext103(WikiTextPerplexity, stride: Int, batch: Int)
        case lambada(LAMBADAAccuracy, batch: Int)
        case race([RACEQuestions], batch: Int)
    }

    /// Checks each task against the model and reads its data; `warn` gets what the vocabulary
    /// check lets pass with a warning.
    func load(_ evaluations: [ExperimentSpec.Evaluation], warn: (String) -> Void) throws -> [LoadedTask] {
        try evaluations.map { e in
            guard e.task.family == family else {
                throw EvaluationError.wrongFamily(task: e.task, checkpoint: checkpoint, family: family.rawValue)
            }
            guard !e.data.isEmpty, e.data.count == 1 || e.task.takesSeveralFiles else {
                throw EvaluationError.dataFiles(task: e.task, count: e.data.count)
            }
            let files = try e.data.map { path -> TokenFile in
                let file = try TokenFile(path: path, kind: e.task.dataKind, remedy: "make it with `\(e.task.prepareCommand)`")
                guard file.header.vocabSize == config.model.vocabSize else {
                    throw TaskError.vocabularyMismatch(path, data: file.header.vocabSize, model: config.model.vocabSize)
                }
                if let warning = try CheckpointVocabulary.check(
                    vocabulary, checkpoint: checkpoint, against: CheckpointVocabulary(file.header), dataFile: path,
                    acceptMismatch: acceptVocabularyMismatch) {
                    warn(warning)
                }
                return file
            }
            let batch = e.batch ?? e.task.defaultBatch
            switch e.task {
            case .wikitext103:
                return .wikitext103(try WikiTextPerplexity(file: files[0]), stride: e.stride ?? 32, batch: batch)
            case .lambada:
                return .lambada(try LAMBADAAccuracy(file: files[0]), batch: batch)
            case .race:
                return .race(try files.map { file in
                    try RACEQuestions(name: URL(fileURLWithPath: file.path).deletingPathExtension().lastPathComponent, file: file)
                }, batch: batch)
            }
        }
    }

    /// Runs every evaluation on a world of tp × pp × dp ranks (threads of this process, or the
    /// processes of an MPI job); rank 0 reports progress to `log`. Every rank ends with the same
    /// metrics; this process's are returned.
    /// Metrics: `wikitext103.{adjusted_ppl, token_ppl, token_ratio}`, `lambada.{accuracy, last_word_ppl}`,
    /// `race.<file>.{accuracy, questions}` with the accuracy's 95 % Wilson interval
    /// (`…accuracy_ci95_low`, `_high`) and what the surface cues get right on the file
    /// (`…longest_option_accuracy`, `…passage_overlap_accuracy`, `RACESurfaceCues`), and
    /// `race.accuracy` (Σcorrect / Σquestions).
    public func evaluate(_ evaluations: [ExperimentSpec.Evaluation], engine: CollectiveEngine = .inProcess,
                         log: @escaping @Sendable (String) -> Void) throws -> [String: Double] {
        let printing = try engine.hostsWorldRankZero()
        let tasks = try load(evaluations) { if printing { log($0) } }
        let t = config.training
        let results = try engine.run(worldSize: t.tensorParallel * t.pipelineParallel * t.dataParallel,
                                     timeout: 24 * 3600) { world in
            try self.evaluate(tasks, world: world, log: log)
        }
        // The cues read only the files: once per process, not per rank.
        var metrics = results[0]
        for case let .race(files, _) in tasks {
            for questions in files {
                let cues = RACESurfaceCues(questions)
                metrics["race.\(questions.name).longest_option_accuracy"] = cues.longestOptionAccuracy
                metrics["race.\(questions.name).passage_overlap_accuracy"] = cues.passageOverlapAccuracy
            }
        }
        return metrics
    }

    /// On one rank: loads the weights once per model kind and runs the tasks.
    func evaluate(_ tasks: [LoadedTask], world: any Communicator,
                  log: @escaping @Sendable (String) -> Void) throws -> [String: Double] {
        let t = config.training
        let grid = try ProcessGrid(world: world, tensorParallel: t.tensorParallel, dataParallel: t.dataParallel,
                                   pipelineParallel: t.pipelineParallel)
        let group = TensorParallelGroup(grid.tensorParallel)
        let throttle = ProgressThrottle()
        let progress: EvaluationProgressHandler? = world.rank == 0 ? throttle.handler { log($0.line) } : nil
        let setup = TrainingRun(config: config)
        let sequence = config.model.sequenceLength
        var metrics: [String: Double] = [:]
        var gpt: (any ScoringLanguageModel)?
        var multipleChoice: BERTMultipleChoiceModel<Float>?
        func gptModel(_ task: EvaluationTask) throws -> any ScoringLanguageModel {
            if let gpt { return gpt }
            if t.pipelineParallel > 1 {
                let stage = PipelineStage(index: grid.pipelineParallelRank, count: t.pipelineParallel)
                let model = GPTStageModel<Float>(config: setup.gptConfig, stage: stage, seed: t.seed, group: group,
                                                 pipeline: grid.pipeline, forwardOnly: true)
                try loadWeights(model.parameters, group: group, task: task)
                gpt = model
                return model
            }
            let model = GPTModel<Float>(config: setup.gptConfig, seed: t.seed, group: group, forwardOnly: true)
            try loadWeights(model.parameters, group: group, task: task)
            gpt = model
            return model
        }
        for task in tasks {
            switch task {
            case let .wikitext103(perplexity, stride, batch):
                let r = try perplexity.evaluate(model: try gptModel(.wikitext103), dataParallel: grid.dataParallel,
                                                sequence: sequence, stride: stride, batch: batch, progress: progress)
                metrics["wikitext103.adjusted_ppl"] = r.adjustedPerplexity
                metrics["wikitext103.token_ppl"] = r.tokenPerplexity
                metrics["wikitext103.token_ratio"] = r.tokenRatio
            case let .lambada(cloze, batch):
                let r = try cloze.evaluate(model: try gptModel(.lambada), dataParallel: grid.dataParallel,
                                           sequence: sequence, batch: batch, progress: progress)
                metrics["lambada.accuracy"] = r.accuracy
                metrics["lambada.last_word_ppl"] = r.lastWordPerplexity
            case let .race(files, batch):
                let model = multipleChoice ?? BERTMultipleChoiceModel<Float>(config: setup.bertConfig, seed: t.seed, group: group)
                if multipleChoice == nil {
                    try loadWeights(model.parameters, group: group, task: .race)
                    multipleChoice = model
                }
                let r = try RACEEvaluation.evaluate(model: model, files: files, dataParallel: grid.dataParallel,
                                                    batch: batch, progress: progress)
                for f in r.files {
                    let interval = f.wilsonInterval95
                    metrics["race.\(f.name).accuracy"] = f.accuracy
                    metrics["race.\(f.name).questions"] = Double(f.total)
                    metrics["race.\(f.name).accuracy_ci95_low"] = interval.lowerBound
                    metrics["race.\(f.name).accuracy_ci95_high"] = interval.upperBound
                }
                metrics["race.accuracy"] = r.accuracy
            }
        }
        return metrics
    }

    /// Every parameter must come from the checkpoint: a pretraining BERT has no multiple-choice head.
    func loadWeights(_ parameters: ParameterSet<Float>, group: TensorParallelGroup, task: EvaluationTask) throws {
        let loaded = try Checkpoint.readWeights(from: checkpoint, into: parameters, group: group)
        guard loaded.initialized.isEmpty else {
            throw EvaluationError.missingWeights(task: task, checkpoint: checkpoint, names: loaded.initialized)
        }
    }
}
