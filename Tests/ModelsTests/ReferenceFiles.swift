import Foundation
import HDF5Files
import TensorCore

/// One of the reference files `scripts/reference/model_golden.py` writes with Hugging Face
/// transformers in float64 (see the script's header for the inputs, the losses and the name
/// map). Weights and gradients are stored under our parameter names, in our layouts.
struct ReferenceFile {
    enum Model: String, CaseIterable, Sendable {
        case gpt2
        case bert
        case bertMultipleChoice = "bert_multiple_choice"
    }

    /// The model dimensions the file was made with, in our terms (the `config` attribute).
    struct Config: Decodable, Sendable {
        let layers: Int
        let hidden: Int
        let heads: Int
        let ffnHidden: Int
        let vocab: Int
        let paddedVocab: Int
        let maxPositions: Int
        let layernormEpsilon: Double
        /// "tanh" (GPT-2's gelu_new) or "erf".
        let gelu: String
        /// "pre-LN (GPT-2)" or the original post-LN BERT order.
        let layerOrder: String
        let tokentypes: Int?
        let choices: Int?
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Reference").path

    let model: Model
    let config: Config
    /// What the loss is, in words.
    let lossDefinition: String
    private let file: HDF5File

    init(_ model: Model) throws {
        self.model = model
        file = try HDF5File(reading: ReferenceFile.directory + "/\(model.rawValue).h5",
                            remedy: "regenerate it with scripts/reference/model_golden.py (see its header)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        config = try decoder.decode(Config.self, from: Data(try file.root.stringAttribute("config").utf8))
        lossDefinition = try file.root.stringAttribute("loss")
    }

    func stringAttribute(_ name: String) throws -> String { try file.root.stringAttribute(name) }
    func seed() throws -> Int64 { try file.root.attribute("seed", as: Int64.self) }

    /// Names under `/weights` (the same names are under `/gradients`).
    func parameterNames() throws -> [String] { try file.root.group("weights").names() }
    func gradientNames() throws -> [String] { try file.root.group("gradients").names() }
    func inputNames() throws -> [String] { try file.root.group("inputs").names() }
    func outputNames() throws -> [String] { try file.root.group("outputs").names() }

    func weight<T: TensorScalar>(_ name: String, as _: T.Type = Double.self) throws -> Tensor<T> {
        try tensor("weights", name)
    }

    func gradient<T: TensorScalar>(_ name: String, as _: T.Type = Double.self) throws -> Tensor<T> {
        try tensor("gradients", name)
    }

    /// Logits and the like; scalar outputs (the losses) read best through `scalar(_:)`.
    func output<T: TensorScalar>(_ name: String, as _: T.Type = Double.self) throws -> Tensor<T> {
        try tensor("outputs", name)
    }

    func scalar(_ name: String) throws -> Double {
        let values = try file.root.group("outputs").dataset(name).read(as: Double.self)
        guard values.count == 1 else {
            throw HDF5Error(.wrongShape, file: file.path, object: "/outputs/\(name)",
                            problem: "holds \(values.count) values, expected one",
                            fix: "regenerate it with scripts/reference/model_golden.py")
        }
        return values[0]
    }

    /// An input, row-major, with its shape (e.g. tokens [2, 7], or [2, 4, 7] for multiple choice).
    func input(_ name: String) throws -> (values: [Int32], shape: [Int]) {
        let dataset = try file.root.group("inputs").dataset(name)
        return (try dataset.read(as: Int32.self), dataset.shape)
    }

    func shape(_ group: String, _ name: String) throws -> [Int] {
        try file.root.group(group).dataset(name).shape
    }

    /// Stored as float64; converted once here for a Float model.
    private func tensor<T: TensorScalar>(_ group: String, _ name: String) throws -> Tensor<T> {
        let dataset = try file.root.group(group).dataset(name)
        let values = try dataset.read(as: Double.self)
        return Tensor(shape: dataset.shape, values: values.map { T($0) })
    }
}

/// Our parameter names and full (tp = 1) shapes, written from the naming convention and not
/// from the files, so a file that loses or renames a parameter fails the tests.
enum ReferenceNames {
    static func parameters(_ model: ReferenceFile.Model, _ c: ReferenceFile.Config) -> [String: [Int]] {
        let h = c.hidden
        var names: [String: [Int]] = [
            "embedding.word_embeddings.weight": [c.paddedVocab, h],
            "embedding.position_embeddings.weight": [c.maxPositions, h],
            "final_layernorm.weight": [h],
            "final_layernorm.bias": [h],
        ]
        for i in 0..<c.layers {
            let p = "layers.\(i)."
            names[p + "input_layernorm.weight"] = [h]
            names[p + "input_layernorm.bias"] = [h]
            names[p + "attention.query_key_value.weight"] = [3 * h, h]
            names[p + "attention.query_key_value.bias"] = [3 * h]
            names[p + "attention.dense.weight"] = [h, h]
            names[p + "attention.dense.bias"] = [h]
            names[p + "post_attention_layernorm.weight"] = [h]
            names[p + "post_attention_layernorm.bias"] = [h]
            names[p + "mlp.dense_h_to_4h.weight"] = [c.ffnHidden, h]
            names[p + "mlp.dense_h_to_4h.bias"] = [c.ffnHidden]
            names[p + "mlp.dense_4h_to_h.weight"] = [h, c.ffnHidden]
            names[p + "mlp.dense_4h_to_h.bias"] = [h]
        }
        guard model != .gpt2 else { return names }
        names["embedding.tokentype_embeddings.weight"] = [2, h]
        names["pooler.dense.weight"] = [h, h]
        names["pooler.dense.bias"] = [h]
        if model == .bert {
            names["lm_head.dense.weight"] = [h, h]
            names["lm_head.dense.bias"] = [h]
            names["lm_head.layernorm.weight"] = [h]
            names["lm_head.layernorm.bias"] = [h]
            names["lm_head.bias"] = [c.paddedVocab]
            names["binary_head.weight"] = [2, h]
            names["binary_head.bias"] = [2]
        } else {
            names["multiple_choice_head.weight"] = [1, h]
            names["multiple_choice_head.bias"] = [1]
        }
        return names
    }

    /// Input names and shapes for a batch of `batch` sequences of `sequence` tokens.
    static func inputs(_ model: ReferenceFile.Model, batch: Int, sequence: Int, choices: Int) -> [String: [Int]] {
        switch model {
        case .gpt2:
            return ["tokens": [batch, sequence], "labels": [batch, sequence]]
        case .bert:
            return ["tokens": [batch, sequence], "token_types": [batch, sequence], "padding_mask": [batch, sequence],
                    "masked_labels": [batch, sequence], "loss_mask": [batch, sequence],
                    "sentence_order_labels": [batch]]
        case .bertMultipleChoice:
            let shape = [batch, choices, sequence]
            return ["tokens": shape, "token_types": shape, "padding_mask": shape, "labels": [batch]]
        }
    }

    /// Output names and shapes ([] for a scalar loss).
    static func outputs(_ model: ReferenceFile.Model, batch: Int, sequence: Int, choices: Int,
                        vocab: Int) -> [String: [Int]] {
        switch model {
        case .gpt2:
            return ["logits": [batch, sequence, vocab], "loss": []]
        case .bert:
            return ["mlm_logits": [batch, sequence, vocab], "binary_logits": [batch, 2],
                    "mlm_loss": [], "binary_loss": [], "loss": []]
        case .bertMultipleChoice:
            return ["logits": [batch, choices], "loss": []]
        }
    }
}
