import Collectives
import TensorCore
import TensorParallel

/// One pipeline stage of BERT pretraining, as `GPTStageModel` is of GPT-2 (Megatron pipelines
/// BERT the same way): the word, position and token-type embeddings on the first stage, an even
/// share of the layers on every stage, the final layer norm, the pooler and the pretraining
/// heads (`BERTPretrainingHeads`) on the last, whose masked-LM output layer uses its own copy of
/// the tied word embedding, kept equal to the first stage's over the embedding group. Every stage
/// reads the micro-batch's padding mask for its attention. At pp = 1 it is `BERTModel`.
public final class BERTStageModel<T: TensorScalar>: PipelineStageModel {
    public typealias Batch = BERTInput
    public let config: BERTConfig
    public let stage: PipelineStage
    public let tensorParallel: TensorParallelGroup
    public let pipeline: any Communicator
    public let parameters: ParameterSet<T>
    private let slots: [Slot]

    /// The layers of one micro-batch in flight and what its backward needs.
    final class Slot {
        let body: BERTEncoder<T>
        let wordEmbeddings: VocabParallelEmbedding<T>?
        let heads: BERTPretrainingHeads<T>?

        init(config: BERTConfig, stage: PipelineStage, seed: UInt64, group: TensorParallelGroup, recompute: Bool) {
            let initializer = ParameterInitializer(seed: seed)
            body = BERTEncoder(config: config, initializer: initializer, group: group, recomputeActivations: recompute,
                               stage: stage)
            let words = LanguageModelEmbedding.tiedWordEmbeddings(
                stage: stage, embedding: body.embedding, paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                initStd: config.initStd, initializer: initializer, group: group)
            wordEmbeddings = words
            heads = words.map { BERTPretrainingHeads(config: config, wordEmbeddings: $0, initializer: initializer, group: group) }
        }

        /// The body's, the last stage's copy of the word embedding (unless the body holds it), the heads'.
        var parameters: [Parameter<T>] {
            let copy = body.embedding == nil ? wordEmbeddings?.parameters ?? [] : []
            return body.parameters + copy + (heads?.parameters ?? [])
        }
    }

    public init(config: BERTConfig, stage: PipelineStage, seed: UInt64, group: TensorParallelGroup,
                pipeline: any Communicator, recomputeActivations: Bool = false) {
        self.config = config
        self.stage = stage
        tensorParallel = group
        self.pipeline = pipeline
        let made = stage.sharedSlots(model: "BERTStageModel", pipeline: pipeline, parameters: \Slot.parameters) {
            Slot(config: config, stage: stage, seed: seed, group: group, recompute: recomputeActivations)
        }
        slots = made.slots
        parameters = made.parameters
    }

    public func trainingFLOPs(sequenceLength length: Int) -> Double { config.trainingFLOPs(sequence: length) }

    public func boundaryShape(context: StepContext) -> [Int] { [context.tokens, config.hidden] }

    public var tiedWordEmbeddings: VocabParallelEmbedding<T>? {
        slots[0].body.embedding?.wordEmbeddings ?? slots[0].wordEmbeddings
    }

    public var lossParts: [String] { ["binary", "mlm"] }

    // first stage: tokens [b·s]; others: received [b·s, h] → [b·s, h] to send, or the loss on the last stage.
    @_specialize(where T == Float)
    public func forwardStage(_ input: BERTInput, received: Tensor<T>?, slot index: Int, context: StepContext) throws
        -> StageOutput<T> {
        input.checkShape(context, model: "BERTStageModel")
        let slot = slots[index]
        let context = BERTEncoder<T>.masked(context, paddingMask: input.paddingMask)
        let hidden = try slot.body.forward(tokens: input.tokens, tokenTypes: input.tokenTypes, received: received,
                                           context: context)
        guard let heads = slot.heads else { return .activation(hidden) }
        return .loss(try heads.forward(hidden, input: input, body: slot.body, context: context).report)
    }

    // last stage: from the loss; others: dOut [b·s, h] → dx [b·s, h], nil on the first stage.
    @_specialize(where T == Float)
    public func backwardStage(outputGradient: Tensor<T>?, slot index: Int, lossScale: Double) throws -> Tensor<T>? {
        let slot = slots[index]
        if let heads = slot.heads {
            return try slot.body.backward(heads.backward(body: slot.body, lossScale: lossScale))
        }
        guard let outputGradient else { preconditionFailure("BERTStageModel: stage \(stage.index) needs the next stage's gradient") }
        return try slot.body.backward(outputGradient)
    }
}
