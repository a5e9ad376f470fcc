import TensorCore
import TensorParallel

/// BERT's body, shared by the pretraining and the multiple-choice models so a fine-tuned model
/// loads the pretrained weights by name: word + position + token-type embeddings (no embedding
/// layer norm, as Megatron), the transformer stack under a key-padding mask, the final layer norm,
/// and the pooler (dense + tanh on each sequence's first, [CLS], token). A pipeline stage holds
/// its share: the embeddings on the first stage, its layers, the final norm and the pooler on the last.
final class BERTEncoder<T: TensorScalar> {
    let embedding: LanguageModelEmbedding<T>?
    let encoder: TransformerEncoder<T>
    let pooler: ReplicatedLinear<T>?

    private var pooled = Reusable<T>(), firstTokens = Reusable<T>(), encoderGradient = Reusable<T>()

    init(config: BERTConfig, initializer: ParameterInitializer, group: TensorParallelGroup, recomputeActivations: Bool,
         stage: PipelineStage = .whole) {
        embedding = stage.isFirst
            ? LanguageModelEmbedding(paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                                     maxPositions: config.maxPositions, tokenTypes: config.tokenTypes,
                                     dropout: config.hiddenDropout, initStd: config.initStd,
                                     initializer: initializer, group: group)
            : nil
        encoder = TransformerEncoder(config: config.transformer, initializer: initializer, group: group,
                                     recomputeActivations: recomputeActivations,
                                     layerRange: stage.layers(of: config.layers), withFinalLayerNorm: stage.isLast)
        pooler = stage.isLast
            ? ReplicatedLinear(name: "pooler.dense", inFeatures: config.hidden, outFeatures: config.hidden,
                               initStd: config.initStd, initializer: initializer, group: group)
            : nil
    }

    var parameters: [Parameter<T>] {
        (embedding?.parameters ?? []) + encoder.parameters + (pooler?.parameters ?? [])
    }

    /// The word embedding of the whole body (pp = 1), which the heads' output layer shares.
    var wordEmbeddings: VocabParallelEmbedding<T> {
        guard let embedding else { preconditionFailure("BERTEncoder: a later pipeline stage has no embedding") }
        return embedding.wordEmbeddings
    }

    /// The context with the padding mask set: `paddingMask[i] == 0` hides token i as a key.
    static func masked(_ context: StepContext, paddingMask: [Float]?) -> StepContext {
        var context = context
        context.keyPadding = paddingMask.map { $0.map { $0 == 0 } }
        return context
    }

    // tokens, tokenTypes: [b·s] (first stage) or received: [b·s, h] (later stages) → hidden states [b·s, h]
    func forward(tokens: [Int32], tokenTypes: [Int32], received: Tensor<T>? = nil, context: StepContext) throws
        -> Tensor<T> {
        let x: Tensor<T>
        if let embedding {
            x = try embedding.forward(tokens: tokens, tokenTypes: tokenTypes, context: context)
        } else {
            guard let received else { preconditionFailure("BERTEncoder: a later stage needs the previous stage's output") }
            x = received
        }
        return try encoder.forward(x, context: context)
    }

    // hidden: [b·s, h] → tanh(dense(hidden at each sequence's first token)): [b, h]
    func pool(_ hidden: Tensor<T>, context: StepContext) -> Tensor<T> {
        let h = hidden.lastDimension, s = context.sequence
        let first = firstTokens([context.batch, h])
        for b in 0..<context.batch { first[b].assign(hidden[b * s]) }
        let y = requirePooler.forward(first)
        let out = pooled(y.shape)
        for i in 0..<y.count { out.pointer[i] = T.tanh(y.pointer[i]) }
        return out
    }

    // dPooled: [b, h] (consumed) → the first tokens' gradient, added into dHidden: [b·s, h]
    func poolBackward(_ dPooled: Tensor<T>, into dHidden: Tensor<T>, context: StepContext) {
        let out = pooled(dPooled.shape)
        for i in 0..<dPooled.count { dPooled.pointer[i] *= 1 - out.pointer[i] * out.pointer[i] }
        let dFirst = requirePooler.backward(dPooled)
        let s = context.sequence
        for b in 0..<context.batch {
            let row = dHidden[b * s]
            ResidualAdd.forward(out: row, a: row, b: dFirst[b])
        }
    }

    private var requirePooler: ReplicatedLinear<T> {
        guard let pooler else { preconditionFailure("BERTEncoder: only the last pipeline stage pools") }
        return pooler
    }

    /// A zeroed gradient buffer for the hidden states, for heads that touch only some rows.
    func zeroHiddenGradient(_ shape: [Int]) -> Tensor<T> {
        let g = encoderGradient(shape)
        g.fill(0)
        return g
    }

    // dHidden: [b·s, h] → parameter gradients of the body; the gradient at a later stage's input [b·s, h], nil on the first.
    @discardableResult
    func backward(_ dHidden: Tensor<T>) throws -> Tensor<T>? {
        let dx = try encoder.backward(dHidden)
        guard let embedding else { return dx }
        embedding.backward(dx)
        return nil
    }
}
