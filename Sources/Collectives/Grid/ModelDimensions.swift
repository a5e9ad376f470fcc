/// The sizes of a model and its batches that the parallel layout has to divide.
public struct ModelDimensions: Sendable, Equatable {
    public var hiddenSize: Int
    public var attentionHeads: Int
    /// The MLP's inner width (4h in GPT-2 and BERT).
    public var ffnHiddenSize: Int
    /// The tokenizer's vocabulary, before padding.
    public var vocabSize: Int
    public var vocabPadding: VocabPadding
    public var sequenceLength: Int
    /// Sequences per optimizer step over all DP ranks.
    public var globalBatchSize: Int
    /// Sequences per forward pass on one DP rank; nil means the global batch / dp in one pass.
    public var microBatchSize: Int?
    /// Transformer layers, which pipeline stages split evenly; nil leaves that unchecked.
    public var layers: Int?

    public init(hiddenSize: Int, attentionHeads: Int, ffnHiddenSize: Int? = nil, vocabSize: Int,
                vocabPadding: VocabPadding = .megatron, sequenceLength: Int, globalBatchSize: Int,
                microBatchSize: Int? = nil, layers: Int? = nil) {
        self.hiddenSize = hiddenSize
        self.attentionHeads = attentionHeads
        self.ffnHiddenSize = ffnHiddenSize ?? 4 * hiddenSize
        self.vocabSize = vocabSize
        self.vocabPadding = vocabPadding
        self.sequenceLength = sequenceLength
        self.globalBatchSize = globalBatchSize
        self.microBatchSize = microBatchSize
        self.layers = layers
    }
}
