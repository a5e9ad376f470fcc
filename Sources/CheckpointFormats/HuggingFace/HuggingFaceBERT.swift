/// Hugging Face's BERT (`models/bert/modeling_bert.py`) in our terms. It is the original post-LN
/// BERT with an embedding layer norm; our post-LN order (Megatron's
/// apply_residual_connection_post_layernorm) computes the same function when the embedding layer
/// norm becomes layer 0's input layer norm and each layer's output LayerNorm becomes the next
/// layer's input layer norm (the last one our final layer norm).
enum HuggingFaceBERT {
    static let architectures = ["BertForPreTraining", "BertForMaskedLM", "BertModel"]

    static func description(_ c: HuggingFaceConfig) throws -> TransformerDescription {
        try c.require("model_type", in: ["bert"], fallback: "bert", because: "this reader maps BERT's names")
        return try encoder(c, postLayerNorm: true)
    }

    /// The config fields BERT and Megatron BERT share; only the layer-norm order differs.
    static func encoder(_ c: HuggingFaceConfig, postLayerNorm: Bool) throws -> TransformerDescription {
        try c.require("position_embedding_type", in: ["absolute"], fallback: "absolute",
                      because: "only learned absolute positions are implemented")
        try c.require("is_decoder", is: false, fallback: false, because: "our BERT is a bidirectional encoder")
        try c.require("add_cross_attention", is: false, fallback: false, because: "our BERT has no cross-attention")
        try c.require("tie_word_embeddings", is: true, fallback: true, because: "our masked-LM output layer is the word embedding (tied)")
        let hidden = try c.positive("hidden_size")
        return TransformerDescription(
            family: .bert, layers: try c.positive("num_hidden_layers"), hidden: hidden,
            heads: try c.positive("num_attention_heads"), ffnHidden: try c.ffnHidden("intermediate_size", hidden: hidden),
            maxPositions: try c.positive("max_position_embeddings"), vocabSize: try c.positive("vocab_size"),
            tokenTypes: try c.positive("type_vocab_size", fallback: 2), gelu: try c.gelu("hidden_act", fallback: "gelu"),
            layerNormEpsilon: try c.double("layer_norm_eps", fallback: 1e-12), postLayerNorm: postLayerNorm)
    }

    /// Ours → Hugging Face's, with `prefix` ("bert." in the pretraining and masked-LM classes,
    /// "" in BertModel's files); the heads only where the class has them.
    static func names(layers: Int, prefix p: String, architecture: String) -> [String: TensorSource] {
        let e = p + "embeddings."
        var names = embeddingsAndHeads(prefix: p, architecture: architecture)
        names["layers.0.input_layernorm.weight"] = .same(e + "LayerNorm.weight")
        names["layers.0.input_layernorm.bias"] = .same(e + "LayerNorm.bias")
        for i in 0..<layers {
            let h = "\(p)encoder.layer.\(i)."
            let after = i + 1 < layers ? "layers.\(i + 1).input_layernorm" : "final_layernorm"
            addAttentionAndMLP(layer: i, from: h, to: &names)
            for part in ["weight", "bias"] {
                names["layers.\(i).post_attention_layernorm.\(part)"] = .same(h + "attention.output.LayerNorm.\(part)")
                names["\(after).\(part)"] = .same(h + "output.LayerNorm.\(part)")
            }
        }
        return names
    }

    /// Layer `i`'s linear layers, named alike in BERT and Megatron BERT (`h`: the layer's prefix).
    static func addAttentionAndMLP(layer i: Int, from h: String, to names: inout [String: TensorSource]) {
        for part in ["weight", "bias"] {
            names["layers.\(i).attention.query_key_value.\(part)"] = .rows(["query", "key", "value"].map {
                h + "attention.self.\($0).\(part)"
            })
            names["layers.\(i).attention.dense.\(part)"] = .same(h + "attention.output.dense.\(part)")
            names["layers.\(i).mlp.dense_h_to_4h.\(part)"] = .same(h + "intermediate.dense.\(part)")
            names["layers.\(i).mlp.dense_4h_to_h.\(part)"] = .same(h + "output.dense.\(part)")
        }
    }

    /// The embeddings, pooler and heads, named alike in BERT and Megatron BERT; a …Model has no
    /// masked-LM or binary head, a …ForMaskedLM no pooler or binary head.
    static func embeddingsAndHeads(prefix p: String, architecture: String) -> [String: TensorSource] {
        let e = p + "embeddings."
        var names: [String: TensorSource] = [
            "embedding.word_embeddings.weight": .same(e + "word_embeddings.weight"),
            "embedding.position_embeddings.weight": .same(e + "position_embeddings.weight"),
            "embedding.tokentype_embeddings.weight": .same(e + "token_type_embeddings.weight"),
        ]
        if !architecture.hasSuffix("ForMaskedLM") {
            names["pooler.dense.weight"] = .same(p + "pooler.dense.weight")
            names["pooler.dense.bias"] = .same(p + "pooler.dense.bias")
        }
        if !architecture.hasSuffix("Model") {
            let c = "cls.predictions."
            names["lm_head.dense.weight"] = .same(c + "transform.dense.weight")
            names["lm_head.dense.bias"] = .same(c + "transform.dense.bias")
            names["lm_head.layernorm.weight"] = .same(c + "transform.LayerNorm.weight")
            names["lm_head.layernorm.bias"] = .same(c + "transform.LayerNorm.bias")
            names["lm_head.bias"] = .same(c + "bias")
        }
        if architecture.hasSuffix("ForPreTraining") {
            names["binary_head.weight"] = .same("cls.seq_relationship.weight")
            names["binary_head.bias"] = .same("cls.seq_relationship.bias")
        }
        return names
    }

    /// Tensors a BERT file may hold that are not weights of ours: the position-id buffer, and
    /// the tied decoder (its weight is the word embedding, its bias cls.predictions.bias).
    static func isIgnored(_ name: String) -> Bool {
        name.hasSuffix("embeddings.position_ids") || name.hasSuffix("embeddings.token_type_ids")
            || name.hasPrefix("cls.predictions.decoder.")
    }
}
