import CheckpointFormats
import Collectives
import Foundation
import HDF5Files
import TensorCore
import TensorParallel

/// `megatron export hf`: one of our checkpoints as a Hugging Face directory (config.json,
/// model.safetensors and the tokenizer's files) that transformers' `from_pretrained` loads: GPT
/// as GPT2LMHeadModel, a post-LN BERT as BertForPreTraining, a pre-LN BERT (the default) as
/// MegatronBertForPreTraining. Importing the directory again gives
/// the same weights bit for bit (the padded vocabulary rows come back as zeros).
public enum HuggingFaceExport {
    public struct Summary: Sendable {
        public var checkpoint: String
        public var architecture: String
        public var tokenizerFiles: [String]
    }

    /// Hugging Face's file name for each of our tokenizers' files (OpenAI's GPT-2 names map to
    /// transformers' ones).
    static let tokenizerFiles = [("encoder.json", "vocab.json"), ("vocab.bpe", "merges.txt"), ("vocab.json", "vocab.json"),
                                 ("merges.txt", "merges.txt"), ("vocab.txt", "vocab.txt")]

    /// `checkpoint`: a checkpoint file or a directory of them (the newest is taken).
    public static func run(checkpoint: String, to directory: String, tokenizerDirectory: String?) throws -> Summary {
        var isDirectory: ObjCBool = false
        let path = FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDirectory) && isDirectory.boolValue
            ? try CheckpointDirectory(path: checkpoint).latest() : checkpoint
        let contents = try Checkpoint.contents(of: path)
        var config = try TrainingConfig.decode(Data(contents.model.configJSON.utf8), source: "\(path) (config attribute)")
        config.model.paddedVocabSize = contents.model.paddedVocabSize
        config.training.tensorParallel = 1
        config.training.dataParallel = 1
        config.training.globalBatch = config.training.microBatch
        let file = try HDF5File(reading: path, remedy: "point at a checkpoint written by megatron train or megatron import")
        let double = try file.root.stringAttribute("scalar_type") == "Double"
        file.close()
        let description = Self.description(config)
        if double {
            try write(Double.self, path: path, config: config, description: description, to: directory)
        } else {
            try write(Float.self, path: path, config: config, description: description, to: directory)
        }
        var copied: [String] = []
        if let tokenizerDirectory {
            let from = URL(fileURLWithPath: tokenizerDirectory), to = URL(fileURLWithPath: directory)
            for (ours, theirs) in tokenizerFiles
            where FileManager.default.fileExists(atPath: from.appendingPathComponent(ours).path) && !copied.contains(theirs) {
                let target = to.appendingPathComponent(theirs)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: from.appendingPathComponent(ours), to: target)
                copied.append(theirs)
            }
        }
        return Summary(checkpoint: path, architecture: HuggingFaceWriter.architecture(description), tokenizerFiles: copied)
    }

    static func description(_ config: TrainingConfig) -> TransformerDescription {
        let m = config.model
        return TransformerDescription(
            family: m.family == .gpt ? .gpt : .bert, layers: m.layers, hidden: m.hidden, heads: m.heads, ffnHidden: m.ffnHidden,
            maxPositions: m.maxPositions, vocabSize: m.vocabSize, tokenTypes: m.family == .gpt ? 0 : TrainingRun(config: config).bertConfig.tokenTypes,
            gelu: m.gelu, layerNormEpsilon: m.layerNormEpsilon, postLayerNorm: m.postLayerNorm)
    }

    static func write<T: TensorScalar & HDF5Scalar>(_: T.Type, path: String, config: TrainingConfig,
                                                    description: TransformerDescription, to directory: String) throws {
        try SerialModel.withParameters(T.self, config: config) { parameters, grid in
            _ = try Checkpoint.readWeights(from: path, into: parameters, group: TensorParallelGroup(grid.tensorParallel))
            let byName = Dictionary(uniqueKeysWithValues: parameters.parameters.map { ($0.name, $0.value) })
            try HuggingFaceWriter.write(description, to: directory) { name in
                guard let t = byName[name] else { throw CheckpointFormatError.missingTensor(file: path, tensor: "/model/" + name) }
                return t
            }
        }
    }
}
