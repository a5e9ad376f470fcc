import CheckpointFormats
import Foundation
import TensorCore
import Testing

/// A copy of a fixture directory with config.json edited by `edit`.
func editedFixture(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
    let directory = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    try FileManager.default.copyItem(atPath: fixtures + "/" + name, toPath: directory)
    let configPath = directory + "/config.json"
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
    return directory
}

@Suite struct HuggingFaceModelTests {
    @Test func gpt2ConfigAndTensors() throws {
        let model = try HuggingFaceModel(directory: fixtures + "/gpt2-tiny")
        #expect(model.architecture == "GPT2LMHeadModel")
        #expect(model.description == TransformerDescription(family: .gpt, layers: 2, hidden: 16, heads: 4, ffnHidden: 64,
                                                            maxPositions: 32, vocabSize: 100, tokenTypes: 0, gelu: .tanh,
                                                            layerNormEpsilon: 1e-5, postLayerNorm: false))
        #expect(model.absent.isEmpty)
        let qkv: Tensor<Float> = try model.tensor("layers.1.attention.query_key_value.weight", paddedVocabSize: 128)
        let conv: Tensor<Float> = try SafetensorsFile(path: fixtures + "/gpt2-tiny/model.safetensors").tensor("transformer.h.1.attn.c_attn.weight")
        #expect(qkv.shape == [48, 16] && conv.shape == [16, 48])
        #expect(qkv.pointer[37 * 16 + 3] == conv.pointer[3 * 48 + 37])
        let words: Tensor<Float> = try model.tensor("embedding.word_embeddings.weight", paddedVocabSize: 128)
        #expect(words.shape == [128, 16] && words.narrowed(dimension: 0, start: 100, length: 28).array.allSatisfy { $0 == 0 })
    }

    @Test func bertStacksQueryKeyValueAndMapsTheLayerNorms() throws {
        let model = try HuggingFaceModel(directory: fixtures + "/bert-tiny")
        #expect(model.architecture == "BertForPreTraining" && model.description.postLayerNorm && model.description.gelu == .erf)
        #expect(model.description.layerNormEpsilon == 1e-12 && model.description.tokenTypes == 2)
        let file = try SafetensorsFile(path: fixtures + "/bert-tiny/model.safetensors")
        let qkv: Tensor<Double> = try model.tensor("layers.0.attention.query_key_value.bias", paddedVocabSize: 128)
        let key: Tensor<Double> = try file.tensor("bert.encoder.layer.0.attention.self.key.bias")
        #expect(qkv.narrowed(dimension: 0, start: 16, length: 16).array == key.array)
        let final: Tensor<Double> = try model.tensor("final_layernorm.weight", paddedVocabSize: 128)
        #expect(final.array == (try file.tensor("bert.encoder.layer.1.output.LayerNorm.weight", as: Double.self)).array)
        let bias: Tensor<Double> = try model.tensor("lm_head.bias", paddedVocabSize: 128)
        #expect(bias.shape == [128] && bias.array[100...].allSatisfy { $0 == 0 })
    }

    /// transformers' Megatron BERT is pre-LN: its `attention.ln` is our input layer norm, its
    /// `ln` our post-attention one, `encoder.ln` our final one; there is no embedding layer norm.
    @Test func megatronBertIsPreLNWithItsLayerNorms() throws {
        let model = try HuggingFaceModel(directory: fixtures + "/megatron-bert-tiny")
        #expect(model.architecture == "MegatronBertForPreTraining" && model.absent.isEmpty)
        #expect(model.description == TransformerDescription(family: .bert, layers: 2, hidden: 16, heads: 4, ffnHidden: 64,
                                                            maxPositions: 32, vocabSize: 100, tokenTypes: 2, gelu: .erf,
                                                            layerNormEpsilon: 1e-5, postLayerNorm: false))
        let file = try SafetensorsFile(path: fixtures + "/megatron-bert-tiny/model.safetensors")
        for (ours, theirs) in [("layers.1.input_layernorm.weight", "bert.encoder.layer.1.attention.ln.weight"),
                               ("layers.1.post_attention_layernorm.bias", "bert.encoder.layer.1.ln.bias"),
                               ("final_layernorm.weight", "bert.encoder.ln.weight")] {
            let mapped: Tensor<Double> = try model.tensor(ours, paddedVocabSize: 128)
            #expect(mapped.array == (try file.tensor(theirs, as: Double.self)).array, "\(ours)")
        }
        let qkv: Tensor<Double> = try model.tensor("layers.0.attention.query_key_value.weight", paddedVocabSize: 128)
        let value: Tensor<Double> = try file.tensor("bert.encoder.layer.0.attention.self.value.weight")
        #expect(qkv.narrowed(dimension: 0, start: 32, length: 16).array == value.array)
    }

    @Test func unrepresentableConfigsAreRefusedByField() throws {
        let refusals: [(String, String, (inout [String: Any]) -> Void)] = [
            ("gpt2-tiny", "activation_function", { $0["activation_function"] = "relu" }),
            ("gpt2-tiny", "scale_attn_by_inverse_layer_idx", { $0["scale_attn_by_inverse_layer_idx"] = true }),
            ("gpt2-tiny", "tie_word_embeddings", { $0["tie_word_embeddings"] = false }),
            ("gpt2-tiny", "architectures", { $0["architectures"] = ["GPT2ForSequenceClassification"] }),
            ("gpt2-tiny", "n_embd", { $0["n_embd"] = "sixteen" }),
            ("gpt2-tiny", "n_inner", { $0["n_inner"] = 48 }),
            ("bert-tiny", "position_embedding_type", { $0["position_embedding_type"] = "relative_key" }),
            ("bert-tiny", "is_decoder", { $0["is_decoder"] = true }),
            ("bert-tiny", "model_type", { $0["model_type"] = "llama" }),
            ("bert-tiny", "architectures", { $0["architectures"] = ["MegatronBertForPreTraining"] }),
            ("megatron-bert-tiny", "architectures", { $0["architectures"] = ["BertForPreTraining"] }),
            ("megatron-bert-tiny", "is_decoder", { $0["is_decoder"] = true }),
            ("megatron-bert-tiny", "add_cross_attention", { $0["add_cross_attention"] = true }),
            ("megatron-bert-tiny", "tie_word_embeddings", { $0["tie_word_embeddings"] = false }),
            ("megatron-bert-tiny", "hidden_act", { $0["hidden_act"] = "relu" }),
            ("megatron-bert-tiny", "intermediate_size", { $0["intermediate_size"] = 48 }),
        ]
        for (fixture, field, edit) in refusals {
            let directory = try editedFixture(fixture, edit)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let error = formatError { _ = try HuggingFaceModel(directory: directory) }
            guard case let .config(_, named, _)? = error else {
                Issue.record("\(field): \(String(describing: error))")
                continue
            }
            #expect(named == field)
        }
    }

    @Test func shapesThatContradictTheConfigAreNamed() throws {
        let directory = try editedFixture("gpt2-tiny") { $0["n_positions"] = 64 }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = formatError { _ = try HuggingFaceModel(directory: directory) }
        guard case let .tensorContradictsConfig(_, tensor, problem)? = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(tensor == "transformer.wpe.weight" && problem.contains("[64, 16]"))
        let masked = try editedFixture("bert-tiny") { $0["architectures"] = ["BertModel"] }
        defer { try? FileManager.default.removeItem(atPath: masked) }
        guard case let .tensorContradictsConfig(_, extra, _)? = formatError({ _ = try HuggingFaceModel(directory: masked) }) else {
            Issue.record("a BertForPreTraining file read as BertModel must be refused")
            return
        }
        #expect(extra.hasPrefix("cls."))
        // A Megatron BERT's weights under BERT's model_type: its embedding layer norm is missing.
        let order = try editedFixture("megatron-bert-tiny") {
            $0["model_type"] = "bert"
            $0["architectures"] = ["BertForPreTraining"]
        }
        defer { try? FileManager.default.removeItem(atPath: order) }
        guard case let .missingTensor(_, missing)? = formatError({ _ = try HuggingFaceModel(directory: order) }) else {
            Issue.record("a Megatron BERT read as BERT must be refused")
            return
        }
        #expect(missing.hasPrefix("bert.") && missing.contains("LayerNorm"))
    }
}

/// Fixture variants written by our own writer: the same weights under other names and files.
@Suite struct HuggingFaceVariantTests {
    /// A directory with `config` and the tensors of `fixture` renamed by `rename` (nil drops one),
    /// split over `shards` files with an index when more than one.
    static func variant(_ fixture: String, shards: Int = 1, config edit: (inout [String: Any]) -> Void,
                        rename: (String) -> String?) throws -> String {
        let directory = try editedFixture(fixture, edit)
        let source = try SafetensorsFile(path: directory + "/model.safetensors")
        try FileManager.default.removeItem(atPath: directory + "/model.safetensors")
        var tensors: [(name: String, tensor: Tensor<Float>)] = []
        for name in source.names {
            if let renamed = rename(name) { tensors.append((renamed, try source.tensor(name))) }
        }
        guard shards > 1 else {
            try SafetensorsWriter.write(tensors, to: directory + "/model.safetensors")
            return directory
        }
        var map: [String: String] = [:]
        let per = (tensors.count + shards - 1) / shards
        for s in 0..<shards {
            let file = String(format: "model-%05d-of-%05d.safetensors", s + 1, shards)
            let part = Array(tensors[(s * per)..<min(tensors.count, (s + 1) * per)])
            try SafetensorsWriter.write(part, to: directory + "/" + file)
            for t in part { map[t.name] = file }
        }
        try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map])
            .write(to: URL(fileURLWithPath: directory + "/" + SafetensorsCheckpoint.index))
        return directory
    }

    static func sameTensors(_ a: HuggingFaceModel, _ b: HuggingFaceModel, names: [String]) throws -> Bool {
        try names.allSatisfy { name in
            let x: Tensor<Float> = try a.tensor(name, paddedVocabSize: 128), y: Tensor<Float> = try b.tensor(name, paddedVocabSize: 128)
            return x.shape == y.shape && x.array == y.array
        }
    }

    @Test func shardedGPT2EqualsTheSingleFile() throws {
        let single = try HuggingFaceModel(directory: fixtures + "/gpt2-tiny")
        let directory = try Self.variant("gpt2-tiny", shards: 3, config: { _ in }, rename: { $0 })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sharded = try HuggingFaceModel(directory: directory)
        #expect(try Self.sameTensors(single, sharded, names: single.description.shapes.keys.sorted()))
    }

    /// GPT2Model files have no `transformer.` prefix.
    @Test func gpt2ModelWithoutPrefix() throws {
        let full = try HuggingFaceModel(directory: fixtures + "/gpt2-tiny")
        let directory = try Self.variant("gpt2-tiny", config: { $0["architectures"] = ["GPT2Model"] },
                                         rename: { String($0.dropFirst("transformer.".count)) })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bare = try HuggingFaceModel(directory: directory)
        #expect(bare.architecture == "GPT2Model" && bare.absent.isEmpty)
        #expect(try Self.sameTensors(full, bare, names: full.description.shapes.keys.sorted()))
    }

    /// BertModel files: no `bert.` prefix, no masked-LM or binary head (ours keep their
    /// initialisation), and old files' LayerNorm.gamma / beta names.
    @Test func bertModelWithLegacyLayerNormNames() throws {
        let full = try HuggingFaceModel(directory: fixtures + "/bert-tiny")
        let directory = try Self.variant("bert-tiny", config: { $0["architectures"] = ["BertModel"] }, rename: { name in
            guard name.hasPrefix("bert.") else { return nil }
            return String(name.dropFirst("bert.".count))
                .replacingOccurrences(of: "LayerNorm.weight", with: "LayerNorm.gamma")
                .replacingOccurrences(of: "LayerNorm.bias", with: "LayerNorm.beta")
        })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bare = try HuggingFaceModel(directory: directory)
        #expect(bare.absent == ["binary_head.bias", "binary_head.weight", "lm_head.bias", "lm_head.dense.bias",
                                "lm_head.dense.weight", "lm_head.layernorm.bias", "lm_head.layernorm.weight"])
        #expect(try Self.sameTensors(full, bare, names: Array(bare.sources.keys)))
    }

    @Test func bertForMaskedLMHasNoPoolerOrBinaryHead() throws {
        let directory = try Self.variant("bert-tiny", config: { $0["architectures"] = ["BertForMaskedLM"] }, rename: { name in
            name.contains("pooler") || name.contains("seq_relationship") ? nil : name
        })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = try HuggingFaceModel(directory: directory)
        #expect(model.absent == ["binary_head.bias", "binary_head.weight", "pooler.dense.bias", "pooler.dense.weight"])
    }

    /// MegatronBertModel files: no `bert.` prefix, no heads; MegatronBertForMaskedLM: no pooler
    /// or binary head. What they hold is the pretraining class's tensors.
    @Test func megatronBertModelAndMaskedLM() throws {
        let full = try HuggingFaceModel(directory: fixtures + "/megatron-bert-tiny")
        let bare = try Self.variant("megatron-bert-tiny", config: { $0["architectures"] = ["MegatronBertModel"] }, rename: { name in
            name.hasPrefix("bert.") ? String(name.dropFirst("bert.".count)) : nil
        })
        let masked = try Self.variant("megatron-bert-tiny", config: { $0["architectures"] = ["MegatronBertForMaskedLM"] }, rename: { name in
            name.contains("pooler") || name.contains("seq_relationship") ? nil : name
        })
        defer { for d in [bare, masked] { try? FileManager.default.removeItem(atPath: d) } }
        let model = try HuggingFaceModel(directory: bare), maskedLM = try HuggingFaceModel(directory: masked)
        #expect(model.architecture == "MegatronBertModel" && !model.description.postLayerNorm)
        #expect(model.absent == ["binary_head.bias", "binary_head.weight", "lm_head.bias", "lm_head.dense.bias",
                                 "lm_head.dense.weight", "lm_head.layernorm.bias", "lm_head.layernorm.weight"])
        #expect(maskedLM.absent == ["binary_head.bias", "binary_head.weight", "pooler.dense.bias", "pooler.dense.weight"])
        #expect(try Self.sameTensors(full, model, names: Array(model.sources.keys)))
        #expect(try Self.sameTensors(full, maskedLM, names: Array(maskedLM.sources.keys)))
    }

    /// A GPT-2 file whose output layer differs from its embedding is untied: refused.
    @Test func untiedOutputLayerIsRefused() throws {
        let directory = try Self.variant("gpt2-tiny", config: { _ in }, rename: { $0 })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = try SafetensorsFile(path: directory + "/model.safetensors")
        var tensors: [(name: String, tensor: Tensor<Float>)] = try source.names.map { ($0, try source.tensor($0)) }
        let head: Tensor<Float> = try source.tensor("transformer.wte.weight")
        head.pointer[7] += 1
        tensors.append(("lm_head.weight", head))
        try SafetensorsWriter.write(tensors, to: directory + "/model.safetensors")
        guard case let .tensorContradictsConfig(_, tensor, _)? = formatError({ _ = try HuggingFaceModel(directory: directory) }) else {
            Issue.record("an untied lm_head must be refused")
            return
        }
        #expect(tensor == "lm_head.weight")
    }
}
