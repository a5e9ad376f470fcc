import Foundation
import TensorCore

/// A Hugging Face model directory (`config.json` + safetensors) of a GPT-2, BERT or Megatron BERT class, read
/// as our full logical tensors; and ours written back as one. Everything that can be checked is
/// checked before a weight is converted: the class and every config field we cannot represent
/// (refused by name), each tensor's dtype and shape against the config, tensors missing, and
/// tensors left over that would belong to another class.
public struct HuggingFaceModel: Sendable {
    public let directory: String
    public let architecture: String
    public let description: TransformerDescription
    /// Ours → theirs, for the tensors this class holds.
    public let sources: [String: TensorSource]
    let weights: SafetensorsCheckpoint

    public init(directory: String) throws {
        self.directory = directory
        let configPath = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        let config = try HuggingFaceConfig(file: configPath)
        let modelType = try config.string("model_type", fallback: "")
        let ignored: (String) -> Bool
        switch modelType {
        case "gpt2":
            architecture = try config.architecture(HuggingFaceGPT2.architectures)
            weights = try SafetensorsCheckpoint(directory: directory)
            description = try HuggingFaceGPT2.description(config)
            let prefix = weights.contains("transformer.wte.weight") ? "transformer." : ""
            sources = HuggingFaceGPT2.names(layers: description.layers, prefix: prefix)
            ignored = HuggingFaceGPT2.isIgnored
        case "bert", "megatron-bert":
            let megatron = modelType == "megatron-bert"
            architecture = try config.architecture(megatron ? HuggingFaceMegatronBERT.architectures : HuggingFaceBERT.architectures)
            weights = try SafetensorsCheckpoint(directory: directory)
            description = try megatron ? HuggingFaceMegatronBERT.description(config) : HuggingFaceBERT.description(config)
            let prefix = weights.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
            sources = megatron
                ? HuggingFaceMegatronBERT.names(layers: description.layers, prefix: prefix, architecture: architecture)
                : HuggingFaceBERT.names(layers: description.layers, prefix: prefix, architecture: architecture)
            ignored = HuggingFaceBERT.isIgnored
        default:
            throw config.fail("model_type", "\"\(modelType)\" is not supported; GPT-2 (\"gpt2\"), BERT (\"bert\") and Megatron BERT (\"megatron-bert\") are")
        }
        try checkHeads()
        try checkShapes()
        let used = Set(sources.values.flatMap(\.names).map(resolved))
        if let extra = weights.names.first(where: { !used.contains($0) && !ignored($0) }) {
            throw CheckpointFormatError.tensorContradictsConfig(
                file: weights.path(of: extra), tensor: extra, problem: "is not part of a \(architecture) as config.json names it")
        }
    }

    public var hasDoubleWeights: Bool {
        sources.values.flatMap(\.names).contains { (try? weights.entry(resolved($0)).dtype) == .F64 }
    }

    /// A BertModel has no masked-LM head, a BertForMaskedLM no pooler or binary head.
    public var absent: [String] { description.shapes.keys.filter { sources[$0] == nil }.sorted() }

    /// Old files name layer-norm parameters gamma and beta.
    func resolved(_ name: String) -> String {
        guard !weights.contains(name) else { return name }
        for (new, old) in [("LayerNorm.weight", "LayerNorm.gamma"), ("LayerNorm.bias", "LayerNorm.beta")]
        where name.hasSuffix(new) {
            let legacy = String(name.dropLast(new.count)) + old
            if weights.contains(legacy) { return legacy }
        }
        return name
    }

    /// The GPT-2 output layer, where a file holds it, must be the word embedding (tied).
    func checkHeads() throws {
        guard description.family == .gpt, weights.contains("lm_head.weight"),
              case let .same(wte)? = sources["embedding.word_embeddings.weight"] else { return }
        let head: Tensor<Double> = try weights.tensor("lm_head.weight"), embedding: Tensor<Double> = try weights.tensor(wte)
        guard head.shape == embedding.shape, head.array == embedding.array else {
            throw CheckpointFormatError.tensorContradictsConfig(
                file: weights.path(of: "lm_head.weight"), tensor: "lm_head.weight",
                problem: "differs from \(wte): an untied output layer, which our GPT (output tied to the embedding) cannot hold")
        }
    }

    func checkShapes() throws {
        let shapes = description.shapes
        for (ours, source) in sources.sorted(by: { $0.key < $1.key }) {
            for (name, expected) in zip(source.names, source.sourceShapes(ours: shapes[ours]!)) {
                let name = resolved(name)
                let entry = try weights.entry(name)
                guard [.F64, .F32, .F16, .BF16].contains(entry.dtype) else {
                    throw CheckpointFormatError.tensorContradictsConfig(file: weights.path(of: name), tensor: name,
                                                                        problem: "dtype \(entry.dtype.rawValue) for a weight; a float type is expected")
                }
                guard entry.shape == expected else {
                    throw CheckpointFormatError.tensorContradictsConfig(file: weights.path(of: name), tensor: name,
                                                                        problem: "shape \(entry.shape), config.json implies \(expected)")
                }
            }
        }
    }

    public func tensor<T: TensorScalar>(_ name: String, paddedVocabSize: Int, as _: T.Type = T.self) throws -> Tensor<T> {
        guard let source = sources[name] else { throw CheckpointFormatError.missingTensor(file: directory, tensor: name) }
        let full: Tensor<T> = source.combine(try source.names.map { try weights.tensor(resolved($0), as: T.self) })
        guard TransformerDescription.vocabularyRows.contains(name), paddedVocabSize > full.shape[0] else { return full }
        let padded = Tensor<T>(zeros: [paddedVocabSize] + full.shape.dropFirst())
        padded.place(full, dimension: 0, start: 0)
        return padded
    }
}
