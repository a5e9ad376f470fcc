import TensorCore

/// What a foreign checkpoint says about its model, in our terms: enough to build our GPT or BERT
/// with the same function. Independent of how either side stores it.
public struct TransformerDescription: Sendable, Equatable {
    public enum Family: String, Sendable, Equatable {
        case gpt, bert
    }

    public var family: Family
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var ffnHidden: Int
    public var maxPositions: Int
    public var vocabSize: Int
    /// 0 for GPT.
    public var tokenTypes: Int
    public var gelu: GeLUForm
    public var layerNormEpsilon: Double
    public var postLayerNorm: Bool

    public init(family: Family, layers: Int, hidden: Int, heads: Int, ffnHidden: Int, maxPositions: Int,
                vocabSize: Int, tokenTypes: Int, gelu: GeLUForm, layerNormEpsilon: Double, postLayerNorm: Bool) {
        self.family = family
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.ffnHidden = ffnHidden
        self.maxPositions = maxPositions
        self.vocabSize = vocabSize
        self.tokenTypes = tokenTypes
        self.gelu = gelu
        self.layerNormEpsilon = layerNormEpsilon
        self.postLayerNorm = postLayerNorm
    }

    /// Megatron's parameter names and full logical shapes (vocabulary rows unpadded) for this
    /// model: the layout our checkpoints hold (`docs` of `Checkpoint`), tied output layer
    /// included in the word embeddings.
    public var shapes: [String: [Int]] {
        let (h, f) = (hidden, ffnHidden)
        var shapes: [String: [Int]] = [
            "embedding.word_embeddings.weight": [vocabSize, h],
            "embedding.position_embeddings.weight": [maxPositions, h],
            "final_layernorm.weight": [h], "final_layernorm.bias": [h],
        ]
        for i in 0..<layers {
            let p = "layers.\(i)."
            for (name, shape) in [("input_layernorm.weight", [h]), ("input_layernorm.bias", [h]),
                                  ("attention.query_key_value.weight", [3 * h, h]), ("attention.query_key_value.bias", [3 * h]),
                                  ("attention.dense.weight", [h, h]), ("attention.dense.bias", [h]),
                                  ("post_attention_layernorm.weight", [h]), ("post_attention_layernorm.bias", [h]),
                                  ("mlp.dense_h_to_4h.weight", [f, h]), ("mlp.dense_h_to_4h.bias", [f]),
                                  ("mlp.dense_4h_to_h.weight", [h, f]), ("mlp.dense_4h_to_h.bias", [h])] {
                shapes[p + name] = shape
            }
        }
        if family == .bert {
            shapes["embedding.tokentype_embeddings.weight"] = [tokenTypes, h]
            for (name, shape) in [("pooler.dense.weight", [h, h]), ("pooler.dense.bias", [h]),
                                  ("lm_head.dense.weight", [h, h]), ("lm_head.dense.bias", [h]),
                                  ("lm_head.layernorm.weight", [h]), ("lm_head.layernorm.bias", [h]),
                                  ("lm_head.bias", [vocabSize]), ("binary_head.weight", [2, h]), ("binary_head.bias", [2])] {
                shapes[name] = shape
            }
        }
        return shapes
    }

    /// The tensors whose rows are vocabulary ids, padded with zero rows to the padded vocabulary.
    public static let vocabularyRows: Set<String> = ["embedding.word_embeddings.weight", "lm_head.bias"]
}
