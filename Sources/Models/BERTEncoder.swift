import TensorCore
import TensorParallel

/// BERT's body, shared by the pretraining and the multiple-choice models so a fine-tuned model
/// loads the pretrained weights by name: word + position + token-type embeddings (no embedding
/// layer norm, as Megatron), the transformer stack under a key-padding mask, the final layer norm,
/// and the pooler (dense + tanh on each sequence's first, [CLS], token).
final class BERTEncoder<T: TensorScalar> {
    let embedding: LanguageModelEmbedding<T>
    let encoder: TransformerEncoder<T>
    let pooler: ReplicatedLinear<T>

    private var pooled = Reusable<T>(), firstTokens = Reusable<T>(), encoderGradient = Reusable<T>()

    init(config: BERTConfig, initializer: ParameterInitializer, group: TensorParallelGroup, recomputeActivations: Bool) {
        embedding = LanguageModelEmbedding(paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                                           maxPositions: config.maxPositions, tokenTypes: config.tokenTypes,
                                           dropout: config.hiddenDropout, initStd: config.initStd,
                                           initializer: initializer, group: group)
        encoder = TransformerEncoder(config: config.transformer, initializer: initializer, group: group,
                                     recomputeActivations: recomputeActivations)
        pooler = ReplicatedLinear(name: "pooler.dense", inFeatures: config.hidden, outFeatures: config.hidden,
                                  initStd: config.initStd, initializer: initializer, group: group)
    }

    var parameters: [Parameter<T>] { embedding.parameters + encoder.parameters + pooler.parameters }

    /// The context with the padding mask set: `paddingMask[i] == 0` hides token i as a key.
    static func masked(_ context: StepContext, paddingMask: [Float]?) -> StepContext {
        var context = context
        context.keyPadding = paddingMask.map { $0.map { $0 == 0 } }
        return context
    }

    // tokens, tokenTypes: [b·s] → hidden states [b·s, h]
    func forward(tokens: [Int32], tokenTypes: [Int32], context: StepContext) throws -> Tensor<T> {
        let x = try embedding.forward(tokens: tokens, tokenTypes: tokenTypes, context: context)
        return try encoder.forward(x, context: context)
    }

    // hidden: [b·s, h] → tanh(dense(hidden at each sequence's first token)): [b, h]
    func pool(_ hidden: Tensor<T>, context: StepContext) -> Tensor<T> {
        let h = hidden.lastDimension, s = context.sequence
        let first = firstTokens([context.batch, h])
        for b in 0..<context.batch { first[b].assign(hidden[b * s]) }
        let y = pooler.forward(first)
        let out = pooled(y.shape)
        for i in 0..<y.count { out.pointer[i] = T.tanh(y.pointer[i]) }
        return out
    }

    // dPooled: [b, h] (consumed) → the first tokens' gradient, added into dHidden: [b·s, h]
    func poolBackward(_ dPooled: Tensor<T>, into dHidden: Tensor<T>, context: StepContext) {
        let out = pooled(dPooled.shape)
        for i in 0..<dPooled.count { dPooled.pointer[i] *= 1 - out.pointer[i] * out.pointer[i] }
        let dFirst = pooler.backward(dPooled)
        let s = context.sequence
        for b in 0..<context.batch {
            let row = dHidden[b * s]
            ResidualAdd.forward(out: row, a: row, b: dFirst[b])
        }
    }

    /// A zeroed gradient buffer for the hidden states, for heads that touch only some rows.
    func zeroHiddenGradient(_ shape: [Int]) -> Tensor<T> {
        let g = encoderGradient(shape)
        g.fill(0)
        return g
    }

    // dHidden: [b·s, h] → parameter gradients of the body.
    func backward(_ dHidden: Tensor<T>) throws {
        let dx = try encoder.backward(dHidden)
        embedding.backward(dx)
    }
}
