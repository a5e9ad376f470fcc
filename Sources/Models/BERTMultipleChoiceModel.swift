import TensorCore
import TensorParallel

/// One micro-batch of multiple-choice questions: `questions × choices` sequences of
/// `sequence` tokens (RACE: `[CLS] question+option [SEP] passage [SEP]`, 4 choices).
public struct MultipleChoiceInput: Sendable {
    public var tokens: [Int32]
    public var tokenTypes: [Int32]
    /// 1 for real tokens, 0 for padding.
    public var paddingMask: [Float]
    /// The correct choice of each question.
    public var labels: [Int32]
    public var choices: Int

    public init(tokens: [Int32], tokenTypes: [Int32], paddingMask: [Float], labels: [Int32], choices: Int) {
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.paddingMask = paddingMask
        self.labels = labels
        self.choices = choices
    }
}

/// BERT with Megatron's multiple-choice head (RACE, paper Table 5): each (question, choice)
/// sequence is encoded, its pooled [CLS] state goes through dropout and a Linear(h, 1), and the
/// choices' scores are a softmax over the question's choices. `StepContext.batch` counts
/// sequences (questions × choices). Its body's parameters carry the pretraining model's names.
public final class BERTMultipleChoiceModel<T: TensorScalar>: TrainableModel {
    public let config: BERTConfig
    public let tensorParallel: TensorParallelGroup
    public let parameters: ParameterSet<T>
    let body: BERTEncoder<T>
    let head: ReplicatedLinear<T>
    let dropout: HiddenDropout<T>

    private var context: StepContext?
    private var dropped = Reusable<T>()
    private var logSumExp = Reusable<T>(), losses = Reusable<T>(), lossGradient = Reusable<T>()
    private var scoreGradient = Reusable<T>()

    /// `recomputeActivations`: as GPTModel's, for the transformer layers of the body.
    public init(config: BERTConfig, seed: UInt64, group: TensorParallelGroup, recomputeActivations: Bool = false) {
        self.config = config
        tensorParallel = group
        let initializer = ParameterInitializer(seed: seed)
        body = BERTEncoder(config: config, initializer: initializer, group: group,
                           recomputeActivations: recomputeActivations)
        head = ReplicatedLinear(name: "multiple_choice_head", inFeatures: config.hidden, outFeatures: 1,
                                initStd: config.initStd, initializer: initializer, group: group)
        dropout = HiddenDropout(site: "multiple_choice.dropout", probability: config.hiddenDropout)
        parameters = ParameterSet(body.parameters + head.parameters)
    }

    /// The layers, and the pooler and one-score head once per sequence; there is no LM head.
    public func trainingFLOPs(sequenceLength length: Int) -> Double {
        let h = Double(config.hidden)
        return config.encoderTrainingFLOPs(sequence: length) + 6 * (h * h + h)
    }

    /// The choices' scores: [questions, choices].
    @_specialize(where T == Float)
    public func forward(_ input: MultipleChoiceInput, context: StepContext) throws -> Tensor<T> {
        precondition(input.tokens.count == context.tokens && input.labels.count * input.choices == context.batch,
                     "BERTMultipleChoiceModel: \(input.tokens.count) tokens, \(input.labels.count) questions × \(input.choices) choices for batch \(context.batch) × sequence \(context.sequence)")
        let context = BERTEncoder<T>.masked(context, paddingMask: input.paddingMask)
        self.context = context
        let hidden = try body.forward(tokens: input.tokens, tokenTypes: input.tokenTypes, context: context)
        let pooled = body.pool(hidden, context: context)
        let d = dropped(pooled.shape)
        d.assign(pooled)
        dropout.forward(d, context: context)
        return head.forward(d).reshaped([input.labels.count, input.choices])
    }

    @_specialize(where T == Float)
    public func loss(_ input: MultipleChoiceInput, context: StepContext) throws -> LossReport {
        let mean = choiceLoss(try forward(input, context: context), labels: input.labels)
        return LossReport(total: mean, parts: ["choice": mean])
    }

    @_specialize(where T == Float)
    public func forwardBackward(_ input: MultipleChoiceInput, context: StepContext, lossScale: Double) throws -> LossReport {
        let scores = try forward(input, context: context)
        guard let context = self.context else { preconditionFailure("BERTMultipleChoiceModel: no forward state") }
        let mean = choiceLoss(scores, labels: input.labels)
        let q = input.labels.count
        let dLosses = lossGradient([q])
        dLosses.fill(T(lossScale / Double(q)))
        let dScores = scoreGradient(scores.shape)
        CrossEntropy.backward(dLogits: dScores, dLosses: dLosses, logits: scores, logSumExp: logSumExp([q]),
                              targets: input.labels)
        let dPooled = head.backward(dScores.reshaped([context.batch, 1]))
        dropout.backward(dPooled, context: context)
        let dHidden = body.zeroHiddenGradient([context.tokens, config.hidden])
        body.poolBackward(dPooled, into: dHidden, context: context)
        try body.backward(dHidden)
        return LossReport(total: mean, parts: ["choice": mean])
    }

    /// Mean cross-entropy over the questions of scores [questions, choices].
    func choiceLoss(_ scores: Tensor<T>, labels: [Int32]) -> Double {
        let q = scores.rows
        let l = losses([q])
        CrossEntropy.forward(losses: l, logSumExp: logSumExp([q]), logits: scores, targets: labels)
        return maskedMean(l, nil)
    }
}
