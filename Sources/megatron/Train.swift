import ArgumentParser
import Collectives
import Datasets
import Foundation
import Models
import TensorParallel
import Training

/// `megatron train`: a GPT run from a JSON training config, at the config's tp × dp, with
/// checkpoints that `--resume` continues from.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a JSON training config (tp × dp ranks as threads, or under mpirun).",
        discussion: """
            The config has a "model" and a "training" section (see Sources/Training/Config). Any
            field can be overridden: --set training.lr=3e-4 --set model.hidden_dropout=0 (the value
            is read as JSON, else as a string); overrides are checked exactly as the file is, and
            every problem is reported at once. --resume DIR continues from the newest checkpoint in
            DIR: parameters, optimizer moments, step, data position and loss curve.
            """)

    @Option(help: "The JSON training config.")
    var config: String

    @Option(name: .customLong("set"), help: "Override a config field: key.path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Continue from the newest checkpoint in this directory.")
    var resume: String?

    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).")
    var backend: BackendOption = .inprocess

    @Option(name: .customLong("peak-gflops"),
            help: "GEMM peak of the machine in GFLOP/s (from `megatron bench gemm`), for the log's % of peak.")
    var peakGFLOPs: Double?

    func validate() throws {
        if let peakGFLOPs, !(peakGFLOPs > 0) {
            throw ValidationError("--peak-gflops must be positive, got \(peakGFLOPs)")
        }
    }

    func run() throws {
        let config = try TrainingConfig.load(path: self.config, overrides: overrides)
        guard config.model.family == .gpt else {
            throw ValidationError("model.family \"\(config.model.family.rawValue)\": megatron train builds GPT models; "
                                  + "BERT training needs the BERT model, which this build does not have yet")
        }
        if config.model.ffnHidden != 4 * config.model.hidden || config.model.postLayerNorm {
            throw ValidationError("model.ffn_hidden must be 4 × hidden and model.post_layernorm false for GPT "
                                  + "(got \(config.model.ffnHidden) and \(config.model.postLayerNorm))")
        }
        let t = config.training
        let paddedVocab = config.model.paddedVocab(tensorParallel: t.tensorParallel)
        let configJSON = try config.json()
        let resume = self.resume, peakGFLOPs = self.peakGFLOPs
        _ = try backend.engine.run(worldSize: t.tensorParallel * t.dataParallel, timeout: 3600) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: t.tensorParallel, dataParallel: t.dataParallel)
            let model = GPTModel<Float>(config: Self.gptConfig(config.model, paddedVocab: paddedVocab), seed: t.seed,
                                        group: TensorParallelGroup(grid.tensorParallel))
            let optimizer = Optimizer(parameters: model.parameters, schedule: t.schedule, hyperparameters: t.adamW,
                                      maxGradientNorm: t.clipGradient > 0 ? t.clipGradient : nil)
            let trainer = Trainer(model: model, optimizer: optimizer, grid: grid,
                                  options: TrainerOptions(microBatchSize: t.microBatch, microBatches: t.microBatches,
                                                          sequenceLength: config.model.sequenceLength, dropoutSeed: t.seed,
                                                          logInterval: t.logInterval, totalSteps: t.steps,
                                                          peakGFLOPs: peakGFLOPs))
            var position = LoaderPosition.start
            if let resume {
                let path = try CheckpointDirectory(path: resume).latest()
                let contents = try trainer.restore(from: path, expectedPaddedVocabSize: paddedVocab)
                let recorded = try TrainingConfig.decode(Data(contents.model.configJSON.utf8), source: "\(path) (config attribute)")
                guard recorded.model == config.model else {
                    throw CheckpointError.settingMismatch(file: path, setting: "the model section",
                                                          checkpoint: try recorded.json(), run: configJSON)
                }
                position = contents.state.dataPosition
                if grid.worldRank == 0 { print("resumed from \(path) at step \(trainer.step)") }
            }
            let file = try TokenFile(path: t.trainData, kind: .gptDocuments,
                                     remedy: "check training.train_data, or run `megatron prepare` to make it")
            guard file.header.vocabSize == config.model.vocabSize else {
                throw ValidationError("\(t.trainData) was tokenized with a vocabulary of \(file.header.vocabSize), "
                                      + "model.vocab_size is \(config.model.vocabSize); make them equal")
            }
            var data = try GPTLoader(file: file, sequenceLength: config.model.sequenceLength, microBatch: t.microBatch,
                                     dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size, seed: t.seed,
                                     position: position)
                .map { GPTInput(tokens: $0.tokens, labels: $0.labels) }
            let plan = t.checkpointDirectory.map {
                CheckpointPlan(directory: CheckpointDirectory(path: $0, keep: t.keepCheckpoints),
                               interval: t.checkpointInterval,
                               model: CheckpointModelInfo(configJSON: configJSON, paddedVocabSize: paddedVocab))
            }
            if grid.worldRank == 0 {
                print("training \(config.model.family.rawValue): \(config.model.layers) layers, hidden \(config.model.hidden), "
                      + "tp \(t.tensorParallel) × dp \(t.dataParallel), \(model.parameters.values.count) parameter elements per rank, "
                      + "global batch \(t.globalBatch) = \(t.microBatches) micro-batches × \(t.microBatch) × dp \(t.dataParallel)")
            }
            try trainer.train(until: t.steps, data: &data, checkpoints: plan) { print($0) }
        }
    }

    static func gptConfig(_ m: ModelSection, paddedVocab: Int) -> GPTConfig {
        GPTConfig(layers: m.layers, hidden: m.hidden, heads: m.heads, maxPositions: m.maxPositions, vocabSize: m.vocabSize,
                  paddedVocabSize: paddedVocab, gelu: m.gelu, attentionDropout: m.attentionDropout,
                  hiddenDropout: m.hiddenDropout, initStd: m.initStd, layerNormEpsilon: m.layerNormEpsilon)
    }
}
