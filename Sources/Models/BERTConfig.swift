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

    /// The share of positions the masked-LM head runs on, for the FLOP count: the pretraining
    /// loader masks 15 % of each sequence (`BERTLoader.Options.maskProbability`).
    public static let scoredFraction = 0.15

    /// Training FLOPs of one sequence through the transformer layers, as GPT's: 6 per weight per
    /// token over the 12·L·h² layer weights, 12·L·s·h for the attention scores.
    public func encoderTrainingFLOPs(sequence: Int) -> Double {
        let (l, h, s) = (Double(layers), Double(hidden), Double(sequence))
        return s * (6 * 12 * l * h * h + 12 * l * s * h)
    }

    /// Pretraining FLOPs of one sequence: the layers, and the LM head (h² transform, V·h tied
    /// output) on the scored 15 % of the positions only, as `BERTModel` computes it.
    public func trainingFLOPs(sequence: Int) -> Double {
        let (h, v, s) = (Double(hidden), Double(paddedVocabSize), Double(sequence))
        return encoderTrainingFLOPs(sequence: sequence) + s * Self.scoredFraction * 6 * (h * h + v * h)
    }
}
