import CheckpointFormats
import Collectives
import Datasets
import Foundation
import HDF5Files
import Models
import TensorCore
import TensorParallel

/// `megatron import hf`: a Hugging Face GPT-2 or BERT directory becomes a regular checkpoint of
/// ours (step 0, zero optimizer moments), so `eval`, `finetune race` and training take it at any
/// tp × dp. The config is the one the directory implies; the vocabulary is padded to a multiple
/// of 128 (Megatron's padding at tp = 1, which every power-of-two tp up to 128 divides), and the
/// padded rows are zero and never take probability (`VocabParallelCrossEntropy`). A head the
/// class lacks (BertModel's masked-LM head, BertForMaskedLM's pooler and binary head) keeps our
/// seeded initialisation and is listed in the summary.
public enum HuggingFaceImport {
    public struct Summary: Sendable {
        public var architecture: String
        public var config: TrainingConfig
        /// Our parameters the directory did not provide.
        public var initialized: [String]
        public var parameterCount: Int
        public var scalarType: String
        /// The tokenizer files found beside the weights (vocab.json, merges.txt, vocab.txt,
        /// tokenizer.json). The checkpoint's tokenizer name and vocabulary checksum records are
        /// to be written from these once checkpoints carry them.
        public var tokenizerFiles: [String]
    }

    public static let tokenizerFileNames = ["vocab.json", "merges.txt", "vocab.txt", "tokenizer.json", "tokenizer_config.json"]

    /// Reads `directory`, writes the checkpoint file `path` (replacing it only when complete).
    public static func run(from directory: String, to path: String, seed: UInt64 = 1234) throws -> Summary {
        let source = try HuggingFaceModel(directory: directory)
        let config = try trainingConfig(source.description, seed: seed)
        let tokenizerFiles = tokenizerFileNames.filter {
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: directory).appendingPathComponent($0).path)
        }
        let written = source.hasDoubleWeights
            ? try write(Double.self, source: source, config: config, to: path)
            : try write(Float.self, source: source, config: config, to: path)
        return Summary(architecture: source.architecture, config: config, initialized: source.absent,
                       parameterCount: written.count, scalarType: written.type, tokenizerFiles: tokenizerFiles)
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
    static func write<T: TensorScalar & HDF5Scalar>(_: T.Type, source: HuggingFaceModel, config: TrainingConfig,
                                                    to path: String) throws -> (count: Int, type: String) {
        let padded = TrainingRun(config: config).paddedVocab
        let count = try SerialModel.withParameters(T.self, config: config) { parameters, grid -> Int in
            var mismatches: [TensorMismatch] = []
            for p in parameters.parameters where source.sources[p.name] != nil {
                let full: Tensor<T> = try source.tensor(p.name, paddedVocabSize: padded)
                guard full.shape == p.fullShape else {
                    mismatches.append(TensorMismatch(name: p.name, checkpointShape: full.shape, modelShape: p.fullShape))
                    continue
                }
                p.value.assign(full)
            }
            if !mismatches.isEmpty { throw CheckpointError.tensorMismatch(file: source.directory, mismatches: mismatches) }
            let t = config.training
            let optimizer = Optimizer(parameters: parameters, schedule: t.schedule, hyperparameters: t.adamW, maxGradientNorm: nil)
            try Checkpoint.write(to: path, optimizer: optimizer, grid: grid,
                                 model: CheckpointModelInfo(configJSON: try config.json(), paddedVocabSize: padded),
                                 state: TrainingState(step: 0, dataPosition: .start, dropoutSeed: t.seed, lossCurve: []))
            return parameters.parameters.reduce(0) { $0 + $1.fullShape.reduce(1, *) }
        }
        return (count, "\(T.self)")
    }
}
