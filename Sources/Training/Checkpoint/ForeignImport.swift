import CheckpointFormats
import Datasets
import Foundation
import HDF5Files
import Models
import TensorCore

/// A foreign checkpoint (`megatron import hf`, `megatron import megatron`) written as a regular
/// checkpoint of ours (step 0, zero optimizer moments), so `eval`, `finetune race` and training
/// take it at any tp × dp. The config is the one the source implies; the vocabulary is padded
/// to a multiple of 128 (Megatron's padding at tp = 1, which every power-of-two tp up to 128
/// divides), and the padded rows are zero and never take probability (`VocabParallelCrossEntropy`).
/// With a vocabulary directory, the checkpoint records that vocabulary (tokenizer name and
/// checksum, as data files do), so evaluation checks it against each data file.
public enum ForeignImport {
    public struct Summary: Sendable {
        public var config: TrainingConfig
        /// Our parameters the source did not provide.
        public var initialized: [String]
        public var parameterCount: Int
        public var scalarType: String
        public var vocabulary: CheckpointVocabulary?
    }

    /// Writes `source` as the checkpoint file `path` (replaced only when complete).
    public static func run(_ source: any ForeignCheckpoint, to path: String, seed: UInt64,
                           vocabularyDirectory: String? = nil) throws -> Summary {
        let config = try trainingConfig(source.description, seed: seed)
        let vocabulary = try vocabularyDirectory.map { try recordedVocabulary(source.description, directory: $0) }
        let info = CheckpointModelInfo(configJSON: try config.json(), paddedVocabSize: TrainingRun(config: config).paddedVocab,
                                       vocabulary: vocabulary)
        let written = source.hasDoubleWeights
            ? try write(Double.self, source: source, config: config, info: info, to: path)
            : try write(Float.self, source: source, config: config, info: info, to: path)
        return Summary(config: config, initialized: source.absent, parameterCount: written.count,
                       scalarType: written.type, vocabulary: vocabulary)
    }

    /// The vocabulary in `directory` (GPT-2's encoder.json and vocab.bpe for a GPT, BERT's
    /// vocab.txt for a BERT), which must have the model's vocabulary size.
    static func recordedVocabulary(_ d: TransformerDescription, directory: String) throws -> CheckpointVocabulary {
        let tokenizer = try (d.family == .gpt ? TokenizerKind.gpt2 : .bert).load(vocabDirectory: directory)
        guard tokenizer.vocabSize == d.vocabSize else {
            throw CheckpointFormatError.config(file: directory, field: "vocabulary",
                                               problem: "\(tokenizer.name) with \(tokenizer.vocabSize) ids, the model has \(d.vocabSize); pass the directory of the vocabulary it was trained with")
        }
        return CheckpointVocabulary(tokenizer: tokenizer.name, sha256: try vocabularyChecksum(tokenizer))
    }

    /// The config the description implies; the training section holds neutral defaults (one
    /// step, no data) that any run from the checkpoint replaces with its own.
    static func trainingConfig(_ d: TransformerDescription, seed: UInt64) throws -> TrainingConfig {
        let padded = (d.vocabSize + 127) / 128 * 128
        let model = ModelSection(family: d.family == .gpt ? .gpt : .bert, layers: d.layers, hidden: d.hidden, heads: d.heads,
                                 ffnHidden: d.ffnHidden, sequenceLength: d.maxPositions, maxPositions: d.maxPositions,
                                 vocabSize: d.vocabSize, paddedVocabSize: padded, gelu: d.gelu,
                                 postLayerNorm: d.postLayerNorm, layerNormEpsilon: d.layerNormEpsilon)
        let training = TrainingSection(steps: 1, microBatch: 8, globalBatch: 8, learningRate: 1e-4, seed: seed, trainData: "")
        let config = TrainingConfig(model: model, training: training)
        // Round-trips through the checks every recorded config passes.
        return try TrainingConfig.decode(Data(try config.json().utf8), source: "the imported config")
    }

    /// Builds our model at tp = 1, fills it from `source` and writes it as a checkpoint.
    static func write<T: TensorScalar & HDF5Scalar>(_: T.Type, source: any ForeignCheckpoint, config: TrainingConfig,
                                                    info: CheckpointModelInfo, to path: String) throws -> (count: Int, type: String) {
        let absent = Set(source.absent)
        let count = try SerialModel.withParameters(T.self, config: config) { parameters, grid -> Int in
            var mismatches: [TensorMismatch] = []
            for p in parameters.parameters where !absent.contains(p.name) {
                let full: Tensor<T> = try source.tensor(p.name, paddedVocabSize: info.paddedVocabSize, as: T.self)
                guard full.shape == p.fullShape else {
                    mismatches.append(TensorMismatch(name: p.name, checkpointShape: full.shape, modelShape: p.fullShape))
                    continue
                }
                p.value.assign(full)
            }
            if !mismatches.isEmpty { throw CheckpointError.tensorMismatch(file: source.origin, mismatches: mismatches) }
            let t = config.training
            let optimizer = Optimizer(parameters: parameters, schedule: t.schedule, hyperparameters: t.adamW, maxGradientNorm: nil)
            try Checkpoint.write(to: path, optimizer: optimizer, grid: grid, model: info,
                                 state: TrainingState(step: 0, dataPosition: .start, dropoutSeed: t.seed, lossCurve: []))
            return parameters.parameters.reduce(0) { $0 + $1.fullShape.reduce(1, *) }
        }
        return (count, "\(T.self)")
    }
}
