import Foundation
import TensorCore

/// Our full tensors written as a Hugging Face directory that `from_pretrained` loads: GPT as
/// GPT2LMHeadModel, a post-LN BERT as BertForPreTraining, a pre-LN BERT (ours by default, and
/// Megatron-LM's) as MegatronBertForPreTraining (`config.json` and `model.safetensors`), the
/// inverse of `HuggingFaceModel`'s name maps. The padded vocabulary rows are dropped.
public enum HuggingFaceWriter {
    public static func architecture(_ d: TransformerDescription) -> String {
        switch d.family {
        case .gpt: return "GPT2LMHeadModel"
        case .bert: return d.postLayerNorm ? "BertForPreTraining" : "MegatronBertForPreTraining"
        }
    }

    /// `tensor(name)` gives our full tensor of that name.
    public static func write<T: TensorScalar>(_ d: TransformerDescription, to directory: String,
                                              tensor: (String) throws -> Tensor<T>) throws {
        let names: [String: TensorSource]
        switch d.family {
        case .gpt: names = HuggingFaceGPT2.names(layers: d.layers, prefix: "transformer.")
        case .bert where d.postLayerNorm: names = HuggingFaceBERT.names(layers: d.layers, prefix: "bert.", architecture: architecture(d))
        case .bert: names = HuggingFaceMegatronBERT.names(layers: d.layers, prefix: "bert.", architecture: architecture(d))
        }
        var tensors: [(name: String, tensor: Tensor<T>)] = []
        for (ours, rule) in names {
            var full = try tensor(ours)
            if TransformerDescription.vocabularyRows.contains(ours) {
                full = full.narrowed(dimension: 0, start: 0, length: d.vocabSize)
            }
            tensors += zip(rule.names, rule.split(full)).map { ($0, $1) }
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let config = try JSONSerialization.data(withJSONObject: configJSON(d, scalar: T.self),
                                                    options: [.prettyPrinted, .sortedKeys])
            try config.write(to: URL(fileURLWithPath: directory).appendingPathComponent("config.json"))
        } catch {
            throw CheckpointFormatError.io(file: directory, problem: "cannot write config.json (\(error.localizedDescription))")
        }
        try SafetensorsWriter.write(tensors.sorted { $0.name < $1.name },
                                    to: URL(fileURLWithPath: directory).appendingPathComponent(SafetensorsCheckpoint.single).path)
    }

    static func configJSON<T>(_ d: TransformerDescription, scalar: T.Type) -> [String: Any] {
        let dtype = T.self == Double.self ? "float64" : "float32"
        switch d.family {
        case .gpt:
            return ["architectures": [architecture(d)], "model_type": "gpt2", "n_embd": d.hidden, "n_layer": d.layers,
                    "n_head": d.heads, "n_positions": d.maxPositions, "n_ctx": d.maxPositions, "vocab_size": d.vocabSize,
                    "n_inner": d.ffnHidden, "activation_function": d.gelu == .tanh ? "gelu_new" : "gelu",
                    "layer_norm_epsilon": d.layerNormEpsilon, "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
                    "initializer_range": 0.02, "scale_attn_weights": true, "tie_word_embeddings": true,
                    "bos_token_id": d.vocabSize - 1, "eos_token_id": d.vocabSize - 1, "torch_dtype": dtype]
        case .bert:
            var config: [String: Any] = [
                "architectures": [architecture(d)], "hidden_size": d.hidden,
                "num_hidden_layers": d.layers, "num_attention_heads": d.heads, "intermediate_size": d.ffnHidden,
                "max_position_embeddings": d.maxPositions, "vocab_size": d.vocabSize, "type_vocab_size": d.tokenTypes,
                "hidden_act": d.gelu == .tanh ? "gelu_new" : "gelu", "layer_norm_eps": d.layerNormEpsilon,
                "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
                "pad_token_id": 0, "initializer_range": 0.02, "tie_word_embeddings": true, "torch_dtype": dtype]
            if d.postLayerNorm {
                config["model_type"] = "bert"
                config["position_embedding_type"] = "absolute"
            } else {
                config["model_type"] = "megatron-bert"
            }
            return config
        }
    }
}
