import TensorCore
import TensorParallel

/// A BERT-style model's sizes and settings.
public struct BERTConfig: Sendable, Codable, Equatable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var maxPositions: Int
    /// The tokenizer's vocabulary (30522 for BERT uncased).
    public var vocabSize: Int
    /// The embedding rows, ≥ vocabSize and divisible by tp.
    public var paddedVocabSize: Int
    public var tokenTypes: Int
    public var gelu: GeLUForm
    public var attentionDropout: Double
    public var hiddenDropout: Double
    public var initStd: Double
    public var layerNormEpsilon: Double
    /// The original BERT order (true) or the paper's rearranged pre-LN order (false, Megatron's
    /// default); Figure 7 compares the two.
    public var postLayerNorm: Bool

    public init(layers: Int, hidden: Int, heads: Int, maxPositions: Int, vocabSize: Int, paddedVocabSize: Int,
                tokenTypes: Int = 2, gelu: GeLUForm = .erf, attentionDropout: Double = 0.1,
                hiddenDropout: Double = 0.1, initStd: Double = 0.02, layerNormEpsilon: Double = 1e-5,
                postLayerNorm: Bool = false) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.maxPositions = maxPositions
        self.vocabSize = vocabSize
        self.paddedVocabSize = paddedVocabSize
        self.tokenTypes = tokenTypes
        self.gelu = gelu
        self.attentionDropout = attentionDropout
        self.hiddenDropout = hiddenDropout
        self.initStd = initStd
        self.layerNormEpsilon = layerNormEpsilon
        self.postLayerNorm = postLayerNorm
    }

    public var transformer: TransformerConfig {
        TransformerConfig(layers: layers, hidden: hidden, heads: heads, causal: false,
                          attentionDropout: attentionDropout, hiddenDropout: hiddenDropout, gelu: gelu,
                          layerNormEpsilon: layerNormEpsilon, initStd: initStd, postLayerNorm: postLayerNorm)
    }

    /// Training FLOPs of one sequence: as GPT's (6 per weight per token over 12·L·h² layer weights
    /// and the V·h tied output, 12·L·s·h for attention scores), plus the LM head's h² transform.
    public func trainingFLOPs(sequence: Int) -> Double {
        let (l, h, v, s) = (Double(layers), Double(hidden), Double(paddedVocabSize), Double(sequence))
        return s * (6 * (12 * l * h * h + h * h + v * h) + 12 * l * s * h)
    }
}
