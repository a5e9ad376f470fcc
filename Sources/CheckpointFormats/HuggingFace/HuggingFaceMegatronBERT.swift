/// transformers' Megatron BERT (`models/megatron_bert/modeling_megatron_bert.py`,
/// model_type "megatron-bert") in our terms: Megatron-LM's pre-LN order, our BERT's default
/// (Figure 7). No embedding layer norm; each layer's `attention.ln` is our input layer norm, its
/// `ln` our post-attention one, `encoder.ln` our final layer norm. The config fields, linear
/// layers, pooler and heads are BERT's.
enum HuggingFaceMegatronBERT {
    static let architectures = ["MegatronBertForPreTraining", "MegatronBertForMaskedLM", "MegatronBertModel"]

    static func description(_ c: HuggingFaceConfig) throws -> TransformerDescription {
        try c.require("model_type", in: ["megatron-bert"], fallback: "megatron-bert", because: "this reader maps Megatron BERT's names")
        return try HuggingFaceBERT.encoder(c, postLayerNorm: false)
    }

    /// Ours → Hugging Face's, with `prefix` ("bert." in the pretraining and masked-LM classes,
    /// "" in MegatronBertModel's files).
    static func names(layers: Int, prefix p: String, architecture: String) -> [String: TensorSource] {
        var names = HuggingFaceBERT.embeddingsAndHeads(prefix: p, architecture: architecture)
        for i in 0..<layers {
            let h = "\(p)encoder.layer.\(i)."
            HuggingFaceBERT.addAttentionAndMLP(layer: i, from: h, to: &names)
            for part in ["weight", "bias"] {
                names["layers.\(i).input_layernorm.\(part)"] = .same(h + "attention.ln.\(part)")
                names["layers.\(i).post_attention_layernorm.\(part)"] = .same(h + "ln.\(part)")
            }
        }
        names["final_layernorm.weight"] = .same(p + "encoder.ln.weight")
        names["final_layernorm.bias"] = .same(p + "encoder.ln.bias")
        return names
    }
}
