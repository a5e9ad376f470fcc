import Collectives
import TensorCore
import TensorParallel

/// The model part of a training config, neutral between the two families: the sizes and
/// switches a GPT or BERT model is built from. Keys are snake_case in the JSON file.
public struct ModelSection: Sendable, Equatable, Encodable, Decodable {
    public enum Family: String, Sendable, Codable, CaseIterable {
        case gpt, bert
    }

    public var family: Family
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// The MLP's inner width; 4·hidden when absent.
    public var ffnHidden: Int
    /// Tokens per training sequence.
    public var sequenceLength: Int
    /// Learned position embeddings; the sequence length when absent.
    public var maxPositions: Int
    /// The tokenizer's vocabulary.
    public var vocabSize: Int
    /// Fixes the embedding rows (so runs at different tp are identical and checkpoints move
    /// between them); nil pads to a multiple of 128·tp as Megatron does.
    public var paddedVocabSize: Int?
    public var gelu: GeLUForm
    public var attentionDropout: Double
    public var hiddenDropout: Double
    /// BERT's original post-LN order (the paper's Figure 7); false is the rearranged pre-LN order.
    public var postLayerNorm: Bool
    public var initStd: Double
    public var layerNormEpsilon: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case family, layers, hidden, heads
        case ffnHidden = "ffn_hidden"
        case sequenceLength = "sequence_length"
        case maxPositions = "max_positions"
        case vocabSize = "vocab_size"
        case paddedVocabSize = "padded_vocab_size"
        case gelu
        case attentionDropout = "attention_dropout"
        case hiddenDropout = "hidden_dropout"
        case postLayerNorm = "post_layernorm"
        case initStd = "init_std"
        case layerNormEpsilon = "layernorm_epsilon"
    }

    public init(family: Family, layers: Int, hidden: Int, heads: Int, ffnHidden: Int? = nil, sequenceLength: Int,
                maxPositions: Int? = nil, vocabSize: Int, paddedVocabSize: Int? = nil, gelu: GeLUForm = .erf,
                attentionDropout: Double = 0.1, hiddenDropout: Double = 0.1, postLayerNorm: Bool = false,
                initStd: Double = 0.02, layerNormEpsilon: Double = 1e-5) {
        self.family = family
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.ffnHidden = ffnHidden ?? 4 * hidden
        self.sequenceLength = sequenceLength
        self.maxPositions = maxPositions ?? sequenceLength
        self.vocabSize = vocabSize
        self.paddedVocabSize = paddedVocabSize
        self.gelu = gelu
        self.attentionDropout = attentionDropout
        self.hiddenDropout = hiddenDropout
        self.postLayerNorm = postLayerNorm
        self.initStd = initStd
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Decodes one section alone; every problem is reported in one `TrainingConfigError`.
    public init(from decoder: any Decoder) throws {
        let problems = ConfigProblems()
        self.init(reading: decoder, problems: problems)
        try problems.throwIfAny()
    }

    static let placeholder = ModelSection(family: .gpt, layers: 0, hidden: 0, heads: 0, sequenceLength: 0, vocabSize: 0)

    init(reading decoder: any Decoder, problems: ConfigProblems) {
        let r = ConfigSectionReader<CodingKeys>(decoder, problems: problems)
        let hidden: Int = r.required(.hidden, placeholder: 0)
        let sequenceLength: Int = r.required(.sequenceLength, placeholder: 0)
        self.init(family: r.choice(.family, default: nil, placeholder: .gpt),
                  layers: r.required(.layers, placeholder: 0), hidden: hidden, heads: r.required(.heads, placeholder: 0),
                  ffnHidden: r.optional(.ffnHidden, default: 4 * hidden), sequenceLength: sequenceLength,
                  maxPositions: r.optional(.maxPositions, default: sequenceLength),
                  vocabSize: r.required(.vocabSize, placeholder: 0), paddedVocabSize: r.nullable(.paddedVocabSize),
                  gelu: r.choice(.gelu, default: .erf, placeholder: .erf),
                  attentionDropout: r.optional(.attentionDropout, default: 0.1),
                  hiddenDropout: r.optional(.hiddenDropout, default: 0.1),
                  postLayerNorm: r.optional(.postLayerNorm, default: false),
                  initStd: r.optional(.initStd, default: 0.02),
                  layerNormEpsilon: r.optional(.layerNormEpsilon, default: 1e-5))
        guard r.isReadable else { return }
        // Sizes ParallelConfig checks (hidden, heads, FFN, vocab, sequence) are left to it.
        r.check(layers > 0, .layers, "\(layers); must be positive")
        r.check(maxPositions >= sequenceLength, .maxPositions,
                "\(maxPositions) is shorter than the sequence length \(sequenceLength)")
        for (key, p) in [(CodingKeys.attentionDropout, attentionDropout), (.hiddenDropout, hiddenDropout)] {
            r.check(p >= 0 && p < 1, key, "\(p); a dropout probability must be in [0, 1)")
        }
        r.check(initStd > 0, .initStd, "\(initStd); must be positive")
        r.check(layerNormEpsilon > 0, .layerNormEpsilon, "\(layerNormEpsilon); must be positive")
    }

    /// The embedding rows at `tensorParallel`: the fixed size, or Megatron's 128·tp padding.
    public func paddedVocab(tensorParallel: Int) -> Int {
        let multiple = 128 * tensorParallel
        return paddedVocabSize ?? (vocabSize + multiple - 1) / multiple * multiple
    }

    public var vocabPadding: VocabPadding { paddedVocabSize.map(VocabPadding.fixed) ?? .megatron }

    /// The layer stack's settings: causal attention for GPT, bidirectional for BERT.
    public var transformer: TransformerConfig {
        TransformerConfig(layers: layers, hidden: hidden, heads: heads, ffnHidden: ffnHidden, causal: family == .gpt,
                          attentionDropout: attentionDropout, hiddenDropout: hiddenDropout, gelu: gelu,
                          layerNormEpsilon: layerNormEpsilon, initStd: initStd, postLayerNorm: postLayerNorm)
    }
}
