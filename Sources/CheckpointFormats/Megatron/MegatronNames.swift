/// Megatron-LM's parameter names, from every layout since 2019, as ours
/// (`TransformerDescription.shapes`): the nesting flattened with dots, `language_model.` dropped,
/// v2's `encoder` and `self_attention` read as v1's `transformer` and `attention`, and 2019's
/// flat files' bare embeddings placed under `embedding.`. And how each tensor is split over
/// tensor-parallel ranks (`mpu/layers.py`), which is how its shards merge.
enum MegatronNames {
    enum Partition: Equatable {
        /// The same on every rank.
        case replicated
        /// Column-parallel outputs and the vocabulary-parallel embedding: ranks' rows stacked.
        case rows
        /// Row-parallel inputs: ranks' columns side by side.
        case columns
        /// The fused query/key/value projection: each rank holds its heads of all three.
        case queryKeyValue
    }

    /// Our name for a flattened Megatron name; nil for tensors that are not weights of ours
    /// (the pipeline's copy of the output embedding, modules' extra state).
    static func ours(_ name: String) -> String? {
        var n = name
        for prefix in ["module.", "model.", "language_model.", "transformer.", "encoder."] where n.hasPrefix(prefix) {
            n.removeFirst(prefix.count)
        }
        if n.hasPrefix("word_embeddings_for_head.") || n.hasSuffix("._extra_state") { return nil }
        for bare in ["word_embeddings.", "position_embeddings.", "tokentype_embeddings."] where n.hasPrefix(bare) {
            n = "embedding." + n
        }
        return n.replacingOccurrences(of: ".self_attention.", with: ".attention.")
    }

    static func partition(_ ours: String) -> Partition {
        if ours.hasSuffix("attention.query_key_value.weight") || ours.hasSuffix("attention.query_key_value.bias") {
            return .queryKeyValue
        }
        if ours == "embedding.word_embeddings.weight" || ours == "lm_head.bias" || ours.hasSuffix("mlp.dense_h_to_4h.weight")
            || ours.hasSuffix("mlp.dense_h_to_4h.bias") {
            return .rows
        }
        if ours.hasSuffix("attention.dense.weight") || ours.hasSuffix("mlp.dense_4h_to_h.weight") { return .columns }
        return .replicated
    }
}
