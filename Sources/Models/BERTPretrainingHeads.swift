import TensorCore
import TensorParallel

/// BERT's pretraining heads on the body's final hidden states (Megatron's bert_model): the
/// masked-LM head (dense, GeLU, layer norm, logits from the tied vocabulary-parallel word
/// embedding plus a vocabulary-parallel bias) and the binary sentence-order head on the pooled
/// [CLS] state. Loss = masked-LM mean + binary mean. The whole model and its last pipeline
/// stage both end in them.
///
/// The LM head (transform, logits, cross-entropy) runs on the scored rows only: the others
/// carry no loss and no gradient, and at the usual 15 % masking the vocabulary GEMMs are most
/// of a small BERT's work. Megatron's BERT computes every position's logits and masks the loss.
final class BERTPretrainingHeads<T: TensorScalar> {
    /// What a forward of the heads produced.
    struct Output {
        /// The masked-LM losses [M] at the M scored positions (nonzero `maskedLossMask`, in order).
        var maskedLosses: Tensor<T>
        /// This rank's MLM logits [M, V/t].
        var maskedLogits: Tensor<T>
        /// [b, 2]
        var binaryLogits: Tensor<T>
        var report: LossReport
    }

    let config: BERTConfig
    let transform: ReplicatedLinear<T>
    let transformNorm: LayerNormParameters<T>
    let logits: VocabParallelLogits<T>
    let crossEntropy: VocabParallelCrossEntropy<T>
    let binaryHead: ReplicatedLinear<T>

    private var forwardState: (input: BERTInput, context: StepContext, output: Output, transformed: Tensor<T>)?
    /// The positions the masked-LM loss scores, in order.
    private var scored: [Int] = []
    private var scoredHidden = Reusable<T>()
    private var activated = Reusable<T>(), normed = Reusable<T>(), mean = Reusable<T>(), rstd = Reusable<T>()
    private var activatedGradient = Reusable<T>(), transformGradient = Reusable<T>()
    private var mlmLossGradient = Reusable<T>()
    private var binaryLosses = Reusable<T>(), binaryLogSumExp = Reusable<T>(), binaryLogitGradient = Reusable<T>()
    private var binaryLossGradient = Reusable<T>()

    /// `wordEmbeddings`: the embedding's own (pp = 1) or the last stage's copy of it.
    init(config: BERTConfig, wordEmbeddings: VocabParallelEmbedding<T>, initializer: ParameterInitializer,
         group: TensorParallelGroup) {
        self.config = config
        transform = ReplicatedLinear(name: "lm_head.dense", inFeatures: config.hidden, outFeatures: config.hidden,
                                     initStd: config.initStd, initializer: initializer, group: group)
        transformNorm = LayerNormParameters(name: "lm_head.layernorm", width: config.hidden,
                                            initializer: initializer, group: group)
        logits = VocabParallelLogits(embedding: wordEmbeddings, biasName: "lm_head.bias",
                                     initializer: initializer, group: group)
        crossEntropy = VocabParallelCrossEntropy(vocabRange: wordEmbeddings.vocabRange, vocabSize: config.vocabSize,
                                                 group: group)
        binaryHead = ReplicatedLinear(name: "binary_head", inFeatures: config.hidden, outFeatures: 2,
                                      initStd: config.initStd, initializer: initializer, group: group)
    }

    /// The tied word embedding is the body's (or the stage's copy), listed there.
    var parameters: [Parameter<T>] {
        transform.parameters + transformNorm.parameters + logits.parameters + binaryHead.parameters
    }

    // hidden: [b·s, h] → the losses and logits; `body` pools (it holds the pooler); `context` carries the padding mask.
    @_specialize(where T == Float)
    func forward(_ hidden: Tensor<T>, input: BERTInput, body: BERTEncoder<T>, context: StepContext) throws -> Output {
        scored = input.maskedLossMask.indices.filter { input.maskedLossMask[$0] != 0 }
        let rows = scoredHidden([scored.count, config.hidden])
        rows.gatherRows(scored, of: hidden)
        let t = transform.forward(rows)
        let g = activated(t.shape)
        GeLU.forward(out: g, x: t, form: config.gelu)
        let n = normed(t.shape)
        LayerNorm.forward(out: n, mean: mean([t.rows]), rstd: rstd([t.rows]), x: g, gamma: transformNorm.gamma.value,
                          beta: transformNorm.beta.value, epsilon: T(config.layerNormEpsilon))
        let z = logits.forward(n)
        let losses = try crossEntropy.forward(logits: z, targets: scored.map { input.maskedLabels[$0] })
        let binary = binaryHead.forward(body.pool(hidden, context: context))
        let maskedLM = maskedMean(losses, scoredWeights(input))
        let binaryMean = binaryLoss(binary, labels: input.binaryLabels)
        let output = Output(maskedLosses: losses, maskedLogits: z, binaryLogits: binary,
                            report: LossReport(total: maskedLM + binaryMean, parts: ["mlm": maskedLM, "binary": binaryMean]))
        forwardState = (input, context, output, t)
        return output
    }

    // → dHidden: [b·s, h] of `lossScale` × the last forward's loss; the heads' and the pooler's gradients accumulate.
    @_specialize(where T == Float)
    func backward(body: BERTEncoder<T>, lossScale: Double) throws -> Tensor<T> {
        guard let (input, context, out, t) = forwardState else { preconditionFailure("BERTPretrainingHeads: no forward state") }
        let dMLM = mlmLossGradient([out.maskedLosses.count])
        fillMaskedMeanGradient(dMLM, scoredWeights(input), scale: lossScale)
        let dn = try logits.backward(crossEntropy.backward(dMLM))
        let dg = activatedGradient(t.shape)
        LayerNorm.backward(dx: dg, dGamma: transformNorm.gamma.gradient, dBeta: transformNorm.beta.gradient,
                           dOut: dn, x: activated(t.shape), mean: mean([t.rows]), rstd: rstd([t.rows]),
                           gamma: transformNorm.gamma.value)
        let dt = transformGradient(t.shape)
        GeLU.backward(dx: dt, dOut: dg, x: t, form: config.gelu)
        let dRows = transform.backward(dt)
        let dHidden = body.zeroHiddenGradient([context.tokens, config.hidden])
        dHidden.scatterRows(scored, of: dRows)

        let dBinary = binaryLogitGradient(out.binaryLogits.shape)
        let dLosses = binaryLossGradient([context.batch])
        dLosses.fill(T(lossScale / Double(context.batch)))
        CrossEntropy.backward(dLogits: dBinary, dLosses: dLosses, logits: out.binaryLogits,
                              logSumExp: binaryLogSumExp([context.batch]), targets: input.binaryLabels)
        body.poolBackward(binaryHead.backward(dBinary), into: dHidden, context: context)
        return dHidden
    }

    /// The loss mask's weights at the scored positions, in their order.
    private func scoredWeights(_ input: BERTInput) -> [Float] {
        scored.map { input.maskedLossMask[$0] }
    }

    /// Mean cross-entropy of the binary logits [b, 2]; keeps the log-sum-exp for the backward.
    private func binaryLoss(_ logits: Tensor<T>, labels: [Int32]) -> Double {
        let b = logits.rows
        let losses = binaryLosses([b])
        CrossEntropy.forward(losses: losses, logSumExp: binaryLogSumExp([b]), logits: logits, targets: labels)
        return maskedMean(losses, nil)
    }
}
