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

extension BERTInput {
    func checkShape(_ context: StepContext, model: String) {
        precondition(tokens.count == context.tokens && binaryLabels.count == context.batch
                     && maskedLossMask.count == context.tokens,
                     "\(model): \(tokens.count) tokens, \(maskedLossMask.count) loss-mask entries and \(binaryLabels.count) labels for batch \(context.batch) × sequence \(context.sequence)")
    }
}

/// BERT pretraining (paper §2, Fig. 2b; Megatron's bert_model): the body and the pretraining
/// heads (`BERTPretrainingHeads`: masked-LM and sentence order). Loss = masked-LM mean + binary mean.
public final class BERTModel<T: TensorScalar>: TrainableModel {
    public let config: BERTConfig
    public let tensorParallel: TensorParallelGroup
    public let parameters: ParameterSet<T>
    let body: BERTEncoder<T>
    let heads: BERTPretrainingHeads<T>

    /// `recomputeActivations`: as GPTModel's, for the transformer layers of the body.
    public init(config: BERTConfig, seed: UInt64, group: TensorParallelGroup, recomputeActivations: Bool = false) {
        self.config = config
        tensorParallel = group
        let initializer = ParameterInitializer(seed: seed)
        body = BERTEncoder(config: config, initializer: initializer, group: group,
                           recomputeActivations: recomputeActivations)
        heads = BERTPretrainingHeads(config: config, wordEmbeddings: body.wordEmbeddings, initializer: initializer,
                                     group: group)
        parameters = ParameterSet(body.parameters + heads.parameters)
    }

    public func trainingFLOPs(sequenceLength length: Int) -> Double { config.trainingFLOPs(sequence: length) }

    /// The masked-LM losses [M] and this rank's MLM logits [M, V/t] at the M scored positions
    /// (those with a nonzero `maskedLossMask`, in order), and the binary logits [b, 2].
    @_specialize(where T == Float)
    public func forward(_ input: BERTInput, context: StepContext) throws
        -> (maskedLosses: Tensor<T>, maskedLogits: Tensor<T>, binaryLogits: Tensor<T>) {
        let out = try headsForward(input, context: context)
        return (out.maskedLosses, out.maskedLogits, out.binaryLogits)
    }

    @_specialize(where T == Float)
    public func loss(_ input: BERTInput, context: StepContext) throws -> LossReport {
        try headsForward(input, context: context).report
    }

    @_specialize(where T == Float)
    public func forwardBackward(_ input: BERTInput, context: StepContext, lossScale: Double) throws -> LossReport {
        let report = try headsForward(input, context: context).report
        try body.backward(heads.backward(body: body, lossScale: lossScale))
        return report
    }

    private func headsForward(_ input: BERTInput, context: StepContext) throws -> BERTPretrainingHeads<T>.Output {
        input.checkShape(context, model: "BERTModel")
        let context = BERTEncoder<T>.masked(context, paddingMask: input.paddingMask)
        let hidden = try body.forward(tokens: input.tokens, tokenTypes: input.tokenTypes, context: context)
        return try heads.forward(hidden, input: input, body: body, context: context)
    }
}
