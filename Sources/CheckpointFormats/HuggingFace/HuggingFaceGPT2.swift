/// Hugging Face's GPT-2 (`models/gpt2/modeling_gpt2.py`) in our terms: the config fields and the
/// name map. Conv1D weights are stored [in, out], ours [out, in]; c_attn's 3h output columns are
/// already our [Q; K; V] rows, heads-major.
enum HuggingFaceGPT2 {
    static let architectures = ["GPT2LMHeadModel", "GPT2Model"]

    static func description(_ c: HuggingFaceConfig) throws -> TransformerDescription {
        try c.require("model_type", in: ["gpt2"], fallback: "gpt2", because: "this reader maps GPT-2's names")
        try c.require("scale_attn_weights", is: true, fallback: true, because: "attention scores are always divided by √(head dimension)")
        try c.require("scale_attn_by_inverse_layer_idx", is: false, fallback: false, because: "no per-layer attention scaling is implemented")
        try c.require("add_cross_attention", is: false, fallback: false, because: "our GPT has no cross-attention")
        try c.require("tie_word_embeddings", is: true, fallback: true, because: "our output layer is the word embedding (tied)")
        let hidden = try c.positive("n_embd")
        return TransformerDescription(
            family: .gpt, layers: try c.positive("n_layer"), hidden: hidden, heads: try c.positive("n_head"),
            ffnHidden: try c.ffnHidden("n_inner", hidden: hidden), maxPositions: try c.positive("n_positions"),
            vocabSize: try c.positive("vocab_size"), tokenTypes: 0,
            gelu: try c.gelu("activation_function", fallback: "gelu_new"),
            layerNormEpsilon: try c.double("layer_norm_epsilon", fallback: 1e-5), postLayerNorm: false)
    }

    /// Ours → Hugging Face's, with `prefix` ("transformer." in GPT2LMHeadModel files, "" in GPT2Model's).
    static func names(layers: Int, prefix p: String) -> [String: TensorSource] {
        var names: [String: TensorSource] = [
            "embedding.word_embeddings.weight": .same(p + "wte.weight"),
            "embedding.position_embeddings.weight": .same(p + "wpe.weight"),
            "final_layernorm.weight": .same(p + "ln_f.weight"),
            "final_layernorm.bias": .same(p + "ln_f.bias"),
        ]
        for i in 0..<layers {
            let (h, o) = ("\(p)h.\(i).", "layers.\(i).")
            for (ours, theirs, transposed) in [
                ("input_layernorm", "ln_1", false), ("attention.query_key_value", "attn.c_attn", true),
                ("attention.dense", "attn.c_proj", true), ("post_attention_layernorm", "ln_2", false),
                ("mlp.dense_h_to_4h", "mlp.c_fc", true), ("mlp.dense_4h_to_h", "mlp.c_proj", true),
            ] {
                names[o + ours + ".weight"] = transposed ? .transposed(h + theirs + ".weight") : .same(h + theirs + ".weight")
                names[o + ours + ".bias"] = .same(h + theirs + ".bias")
            }
        }
        return names
    }

    /// Tensors a GPT-2 file may hold that are not weights of ours: the causal-mask buffers of
    /// old files, and the tied output layer (checked equal to wte by the reader).
    static func isIgnored(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") || name == "lm_head.weight"
    }
}
