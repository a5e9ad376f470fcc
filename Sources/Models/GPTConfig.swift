import TensorCore
import TensorParallel

/// A GPT-2-style model's sizes and settings.
public struct GPTConfig: Sendable, Codable, Equatable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// Learned positions: the longest sequence the model accepts.
    public var maxPositions: Int
    /// The tokenizer's vocabulary (50257 for GPT-2).
    public var vocabSize: Int
    /// The embedding rows, ≥ vocabSize and divisible by tp; Megatron pads to a multiple of 128·tp.
    /// Fixing it makes runs at different tp identical; the padded rows take no probability.
    public var paddedVocabSize: Int
    /// GPT-2 uses the tanh form ("gelu_new"); Megatron defaults to erf.
    public var gelu: GeLUForm
    public var attentionDropout: Double
    public var hiddenDropout: Double
    public var initStd: Double
    public var layerNormEpsilon: Double

    public init(layers: Int, hidden: Int, heads: Int, maxPositions: Int, vocabSize: Int, paddedVocabSize: Int,
                gelu: GeLUForm = .tanh, attentionDropout: Double = 0.1, hiddenDropout: Double = 0.1,
                initStd: Double = 0.02, layerNormEpsilon: Double = 1e-5) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.maxPositions = maxPositions
        self.vocabSize = vocabSize
        self.paddedVocabSize = paddedVocabSize
        self.gelu = gelu
        self.attentionDropout = attentionDropout
        self.hiddenDropout = hiddenDropout
        self.initStd = initStd
        self.layerNormEpsilon = layerNormEpsilon
    }

    public var transformer: TransformerConfig {
        TransformerConfig(layers: layers, hidden: hidden, heads: heads, causal: true,
                          attentionDropout: attentionDropout, hiddenDropout: hiddenDropout, gelu: gelu,
                          layerNormEpsilon: layerNormEpsilon, initStd: initStd)
    }

    /// Forward FLOPs of one sequence of `sequence` tokens with the output layer at `scored`
    /// positions: 2 per layer weight per token, 4·s·h per token per layer for q·kᵀ and probs·v
    /// (causal masking not credited), 2·V·h per scored position.
    public func forwardFLOPs(sequence: Int, scored: Int) -> Double {
        let (l, h, v, s) = (Double(layers), Double(hidden), Double(paddedVocabSize), Double(sequence))
        return s * (2 * 12 * l * h * h + 4 * l * s * h) + 2 * Double(scored) * v * h
    }

    /// Training FLOPs of one sequence of `sequence` tokens: 6 per weight per token for the
    /// matmuls (2 forward, 4 backward) over the 12·L·h² layer weights and the V·h tied output
    /// layer, plus 12·L·s·h per token for q·kᵀ and probs·v (forward 4·s·h, backward twice that).
    public func trainingFLOPs(sequence: Int) -> Double {
        let (l, h, v, s) = (Double(layers), Double(hidden), Double(paddedVocabSize), Double(sequence))
        return s * (6 * (12 * l * h * h + v * h) + 12 * l * s * h)
    }
}
