import TensorCore
import TensorParallel

/// One micro-batch of BERT pretraining data, `batch × sequence` tokens.
public struct BERTInput: Sendable {
    public var tokens: [Int32]
    public var tokenTypes: [Int32]
    /// 1 for real tokens, 0 for padding (hidden as attention keys).
    public var paddingMask: [Float]
    /// The original token at each masked position (anything elsewhere).
    public var maskedLabels: [Int32]
    /// 1 at the positions the masked-LM loss scores.
    public var maskedLossMask: [Float]
    /// One per sequence: 1 when its two segments were swapped (sentence order), else 0.
    public var binaryLabels: [Int32]

    public init(tokens: [Int32], tokenTypes: [Int32], paddingMask: [Float], maskedLabels: [Int32],
                maskedLossMask: [Float], binaryLabels: [Int32]) {
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.paddingMask = paddingMask
        self.maskedLabels = maskedLabels
        self.maskedLossMask = maskedLossMask
        self.binaryLabels = binaryLabels
    }
}

/// BERT pretraining (paper §2, Fig. 2b; Megatron's bert_model): the masked-LM head (dense, GeLU,
/// layer norm, tied vocabulary-parallel logits plus a vocabulary-parallel bias) and the binary
/// sentence-order head on the pooled [CLS] state. Loss = masked-LM mean + binary mean.
public final class BERTModel<T: TensorScalar>: TrainableModel {
    public let config: BERTConfig
    public let tensorParallel: TensorParallelGroup
    public let parameters: ParameterSet<T>
    let body: BERTEncoder<T>
    let transform: ReplicatedLinear<T>
    let transformNorm: LayerNormParameters<T>
    let logits: VocabParallelLogits<T>
    let crossEntropy: VocabParallelCrossEntropy<T>
    let binaryHead: ReplicatedLinear<T>

    private var context: StepContext?
    private var transformed: Tensor<T>?
    /// The positions the masked-LM loss scores, in order: the LM head runs on these rows only.
    private var scored: [Int] = []
    private var scoredHidden = Reusable<T>()
    private var activated = Reusable<T>(), normed = Reusable<T>(), mean = Reusable<T>(), rstd = Reusable<T>()
    private var activatedGradient = Reusable<T>(), transformGradient = Reusable<T>()
    private var mlmLossGradient = Reusable<T>()
    private var binaryLosses = Reusable<T>(), binaryLogSumExp = Reusable<T>(), binaryLogitGradient = Reusable<T>()
    private var binaryLossGradient = Reusable<T>()

    /// `recomputeActivations`: as GPTModel's, for the transformer layers of the body.
    public init(config: BERTConfig, seed: UInt64, group: TensorParallelGroup, recomputeActivations: Bool = false) {
        self.config = config
        tensorParallel = group
        let initializer = ParameterInitializer(seed: seed)
        body = BERTEncoder(config: config, initializer: initializer, group: group,
                           recomputeActivations: recomputeActivations)
        transform = ReplicatedLinear(name: "lm_head.dense", inFeatures: config.hidden, outFeatures: config.hidden,
                                     initStd: config.initStd, initializer: initializer, group: group)
        transformNorm = LayerNormParameters(name: "lm_head.layernorm", width: config.hidden,
                                            initializer: initializer, group: group)
        logits = VocabParallelLogits(embedding: body.embedding.wordEmbeddings, biasName: "lm_head.bias",
                                     initializer: initializer, group: group)
        crossEntropy = VocabParallelCrossEntropy(vocabRange: body.embedding.wordEmbeddings.vocabRange, vocabSize: config.vocabSize,
                                                 group: group)
        binaryHead = ReplicatedLinear(name: "binary_head", inFeatures: config.hidden, outFeatures: 2,
                                      initStd: config.initStd, initializer: initializer, group: group)
        parameters = ParameterSet(body.parameters + transform.parameters + transformNorm.parameters
                                  + logits.parameters + binaryHead.parameters)
    }

    public func trainingFLOPs(sequenceLength length: Int) -> Double { config.trainingFLOPs(sequence: length) }

    /// The masked-LM losses [M] and this rank's MLM logits [M, V/t] at the M scored positions
    /// (those with a nonzero `maskedLossMask`, in order), and the binary logits [b, 2].
    ///
    /// The LM head (transform, logits, cross-entropy) runs on the scored rows only: the others
    /// carry no loss and no gradient, and at the usual 15 % masking the vocabulary GEMMs are most
    /// of a small BERT's work. Megatron's BERT computes every position's logits and masks the loss.
    @_specialize(where T == Float)
    public func forward(_ input: BERTInput, context: StepContext) throws
        -> (maskedLosses: Tensor<T>, maskedLogits: Tensor<T>, binaryLogits: Tensor<T>) {
        precondition(input.tokens.count == context.tokens && input.binaryLabels.count == context.batch
                     && input.maskedLossMask.count == context.tokens,
                     "BERTModel: \(input.tokens.count) tokens, \(input.maskedLossMask.count) loss-mask entries and \(input.binaryLabels.count) labels for batch \(context.batch) × sequence \(context.sequence)")
        let context = BERTEncoder<T>.masked(context, paddingMask: input.paddingMask)
        self.context = context
        let hidden = try body.forward(tokens: input.tokens, tokenTypes: input.tokenTypes, context: context)
        scored = input.maskedLossMask.indices.filter { input.maskedLossMask[$0] != 0 }
        let rows = scoredHidden([scored.count, config.hidden])
        rows.gatherRows(scored, of: hidden)
        let t = transform.forward(rows)
        transformed = t
        let g = activated(t.shape)
        GeLU.forward(out: g, x: t, form: config.gelu)
        let n = normed(t.shape)
        LayerNorm.forward(out: n, mean: mean([t.rows]), rstd: rstd([t.rows]), x: g, gamma: transformNorm.gamma.value,
                          beta: transformNorm.beta.value, epsilon: T(config.layerNormEpsilon))
        let z = logits.forward(n)
        let losses = try crossEntropy.forward(logits: z, targets: scored.map { input.maskedLabels[$0] })
        let binary = binaryHead.forward(body.pool(hidden, context: context))
        return (losses, z, binary)
    }

    @_specialize(where T == Float)
    public func loss(_ input: BERTInput, context: StepContext) throws -> LossReport {
        let out = try forward(input, context: context)
        return report(maskedLM: maskedMean(out.maskedLosses, scoredWeights(input)),
                      binary: binaryLoss(out.binaryLogits, labels: input.binaryLabels))
    }

    @_specialize(where T == Float)
    public func forwardBackward(_ input: BERTInput, context: StepContext, lossScale: Double) throws -> LossReport {
        let out = try forward(input, context: context)
        guard let context = self.context, let t = transformed else { preconditionFailure("BERTModel: no forward state") }
        let weights = scoredWeights(input)
        let mlm = maskedMean(out.maskedLosses, weights)
        let binary = binaryLoss(out.binaryLogits, labels: input.binaryLabels)

        let dMLM = mlmLossGradient([out.maskedLosses.count])
        fillMaskedMeanGradient(dMLM, weights, scale: lossScale)
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
        try body.backward(dHidden)
        return report(maskedLM: mlm, binary: binary)
    }

    /// The loss mask's weights at the scored positions, in their order.
    func scoredWeights(_ input: BERTInput) -> [Float] {
        scored.map { input.maskedLossMask[$0] }
    }

    /// Mean cross-entropy of the binary logits [b, 2]; keeps the log-sum-exp for the backward.
    func binaryLoss(_ logits: Tensor<T>, labels: [Int32]) -> Double {
        let b = logits.rows
        let losses = binaryLosses([b])
        CrossEntropy.forward(losses: losses, logSumExp: binaryLogSumExp([b]), logits: logits, targets: labels)
        return maskedMean(losses, nil)
    }

    func report(maskedLM: Double, binary: Double) -> LossReport {
        LossReport(total: maskedLM + binary, parts: ["mlm": maskedLM, "binary": binary])
    }
}
