import TensorCore

/// The sizes and settings of a transformer layer stack, as the paper's models use them.
public struct TransformerConfig: Sendable, Codable, Equatable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// The MLP's inner width, 4·hidden in GPT-2 and BERT.
    public var ffnHidden: Int
    public var causal: Bool
    public var attentionDropout: Double
    public var hiddenDropout: Double
    public var gelu: GeLUForm
    public var layerNormEpsilon: Double
    /// N(0, initStd²) for every weight; the two projections that feed the residual stream use
    /// initStd / √(2·layers), as Megatron's scaled_init_method_normal.
    public var initStd: Double
    /// The original BERT order (the paper's Figure 7): each residual starts from the layer norm's
    /// output instead of its input, Megatron's apply_residual_connection_post_layernorm.
    public var postLayerNorm: Bool

    public init(layers: Int, hidden: Int, heads: Int, ffnHidden: Int? = nil, causal: Bool = true,
                attentionDropout: Double = 0.1, hiddenDropout: Double = 0.1, gelu: GeLUForm = .erf,
                layerNormEpsilon: Double = 1e-5, initStd: Double = 0.02, postLayerNorm: Bool = false) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.ffnHidden = ffnHidden ?? 4 * hidden
        self.causal = causal
        self.attentionDropout = attentionDropout
        self.hiddenDropout = hiddenDropout
        self.gelu = gelu
        self.layerNormEpsilon = layerNormEpsilon
        self.initStd = initStd
        self.postLayerNorm = postLayerNorm
    }

    public var headDimension: Int { hidden / heads }
    public var outputInitStd: Double { initStd / (2.0 * Double(layers)).squareRoot() }
}

/// What one forward pass needs to know beyond its input: where its samples sit in the global
/// batch and which step it is, so that every dropout mask is a function of (seed, step, site,
/// global element index) and a tp × dp run draws exactly the masks a tp = dp = 1 run draws.
public struct StepContext: Sendable {
    public var step: Int
    /// This rank's sequences per micro-batch.
    public var batch: Int
    public var sequence: Int
    /// The global index of this rank's first sequence (dp_rank × batch for a plain split).
    public var batchOffset: Int
    public var dropoutSeed: UInt64
    /// False turns every dropout off (evaluation).
    public var training: Bool
    /// `keyPadding[b · sequence + j]` hides key j of sequence b (BERT padding); nil for none.
    public var keyPadding: [Bool]?

    public init(step: Int, batch: Int, sequence: Int, batchOffset: Int = 0, dropoutSeed: UInt64,
                training: Bool = true, keyPadding: [Bool]? = nil) {
        self.step = step
        self.batch = batch
        self.sequence = sequence
        self.batchOffset = batchOffset
        self.dropoutSeed = dropoutSeed
        self.training = training
        self.keyPadding = keyPadding
    }

    public var tokens: Int { batch * sequence }

    /// The counter stream of dropout site `site` at this step.
    public func dropoutRNG(_ site: String) -> CounterRNG {
        CounterRNG(seed: dropoutSeed, stream: streamID(site) &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15)
    }
}

/// Dropout on a replicated activation [batch·rows, width]: the same mask on every rank of a
/// tensor-parallel group (it depends on the global element index only), as Megatron's default stream.
public struct HiddenDropout<T: TensorScalar> {
    public let site: String
    public let probability: Double

    public init(site: String, probability: Double) {
        self.site = site
        self.probability = probability
    }

    /// False where forward and backward leave the tensor as it is (evaluation, or p = 0).
    public func isActive(_ context: StepContext) -> Bool {
        context.training && probability > 0
    }

    // x: [N, w] in place; with `shard`, x is that group's sequence shard [b·s/t, w].
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, context: StepContext, shard: TensorParallelGroup? = nil) {
        guard isActive(context) else { return }
        forEachBlock(x, context, shard) { block, offset in
            Dropout.forward(out: block, x: block, probability: probability, rng: context.dropoutRNG(site), offset: offset)
        }
    }

    // dx: [N, w] in place, as forward.
    @_specialize(where T == Float)
    public func backward(_ dx: Tensor<T>, context: StepContext, shard: TensorParallelGroup? = nil) {
        guard isActive(context) else { return }
        forEachBlock(dx, context, shard) { block, offset in
            Dropout.backward(dx: block, dOut: block, probability: probability, rng: context.dropoutRNG(site),
                             offset: offset)
        }
    }

    /// x whole with the global index of its first element, or, for a sequence shard, each
    /// sequence's s/t rows with theirs: the masks of the positions a tp = 1 run draws there.
    private func forEachBlock(_ x: Tensor<T>, _ context: StepContext, _ shard: TensorParallelGroup?,
                              _ body: (Tensor<T>, Int) -> Void) {
        guard let shard, shard.shardsSequence else { return body(x, firstIndex(x, context)) }
        let (s, w) = (context.sequence, x.lastDimension), rows = s / shard.size
        for i in 0..<context.batch {
            body(x.rows((i * rows)..<((i + 1) * rows)),
                 ((context.batchOffset + i) * s + shard.rank * rows) * w)
        }
    }

    /// The global index of x's first element: x holds this rank's `batch` sequences, one or
    /// more rows each (tokens, or one pooled row), after `batchOffset` sequences on other ranks.
    func firstIndex(_ x: Tensor<T>, _ context: StepContext) -> Int {
        context.batchOffset * (x.rows / context.batch) * x.lastDimension
    }
}
