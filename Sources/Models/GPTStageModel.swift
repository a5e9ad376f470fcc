import Collectives
import TensorCore
import TensorParallel

/// One pipeline stage of GPT-2 (Narayanan et al. 2021, §2.2): the word and position
/// embeddings on the first stage, an even share of the layers on every stage, the final layer
/// norm, the tied output layer and the vocabulary-parallel cross-entropy on the last. The last
/// stage keeps its own copy of the word embedding for the output layer, built from the same
/// seed as the first stage's (so the copies start equal, as Megatron's initial all-reduce over
/// the embedding group makes them), and the trainer sums the copies' gradients over that group
/// so they stay equal. At pp = 1 it is `GPTModel`.
///
/// Each micro-batch in flight has a slot of its own: layer objects with their own activation
/// buffers whose parameters point at the one parameter set, so 1F1B keeps up to
/// `stage.activationSets` micro-batches' activations alive while the gradients add up in one place.
public final class GPTStageModel<T: TensorScalar>: PipelineStageModel {
    public typealias Batch = GPTInput
    public let config: GPTConfig
    public let stage: PipelineStage
    public let tensorParallel: TensorParallelGroup
    public let pipeline: any Communicator
    public let parameters: ParameterSet<T>
    private let slots: [Slot]

    /// The layers of one micro-batch in flight and what its backward needs.
    final class Slot {
        let embedding: LanguageModelEmbedding<T>?
        let encoder: TransformerEncoder<T>
        let wordEmbeddings: VocabParallelEmbedding<T>?
        let logits: VocabParallelLogits<T>?
        let crossEntropy: VocabParallelCrossEntropy<T>?
        var lossMask: [Float]?
        var tokens = 0
        var lossGradient = Reusable<T>()

        init(config: GPTConfig, stage: PipelineStage, seed: UInt64, group: TensorParallelGroup, recompute: Bool) {
            let initializer = ParameterInitializer(seed: seed)
            embedding = stage.isFirst
                ? LanguageModelEmbedding(paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                                         maxPositions: config.maxPositions, tokenTypes: nil,
                                         dropout: config.hiddenDropout, initStd: config.initStd,
                                         initializer: initializer, group: group)
                : nil
            encoder = TransformerEncoder(config: config.transformer, initializer: initializer, group: group,
                                         recomputeActivations: recompute,
                                         layerRange: stage.layers(of: config.layers), withFinalLayerNorm: stage.isLast)
            let words = LanguageModelEmbedding.tiedWordEmbeddings(
                stage: stage, embedding: embedding, paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                initStd: config.initStd, initializer: initializer, group: group)
            wordEmbeddings = words
            logits = words.map { VocabParallelLogits(embedding: $0, biasName: nil, initializer: initializer, group: group) }
            crossEntropy = words.map {
                VocabParallelCrossEntropy(vocabRange: $0.vocabRange, vocabSize: config.vocabSize, group: group)
            }
        }

        /// The embedding's (first stage) or the output layer's copy of the word embedding (last stage).
        var parameters: [Parameter<T>] {
            if let embedding { return embedding.parameters + encoder.parameters }
            return encoder.parameters + (wordEmbeddings?.parameters ?? [])
        }
    }

    public init(config: GPTConfig, stage: PipelineStage, seed: UInt64, group: TensorParallelGroup,
                pipeline: any Communicator, recomputeActivations: Bool = false) {
        self.config = config
        self.stage = stage
        tensorParallel = group
        self.pipeline = pipeline
        let made = stage.sharedSlots(model: "GPTStageModel", pipeline: pipeline, parameters: \Slot.parameters) {
            Slot(config: config, stage: stage, seed: seed, group: group, recompute: recomputeActivations)
        }
        slots = made.slots
        parameters = made.parameters
    }

    public func trainingFLOPs(sequenceLength length: Int) -> Double { config.trainingFLOPs(sequence: length) }

    public func boundaryShape(context: StepContext) -> [Int] { [context.tokens, config.hidden] }

    public var tiedWordEmbeddings: VocabParallelEmbedding<T>? {
        slots[0].embedding?.wordEmbeddings ?? slots[0].wordEmbeddings
    }

    public var lossParts: [String] { ["lm"] }

    // first stage: tokens [b·s]; others: received [b·s, h] → [b·s, h] to send, or the loss on the last stage.
    @_specialize(where T == Float)
    public func forwardStage(_ input: GPTInput, received: Tensor<T>?, slot index: Int, context: StepContext) throws
        -> StageOutput<T> {
        let slot = slots[index]
        let x: Tensor<T>
        if let embedding = slot.embedding {
            x = try embedding.forward(tokens: input.tokens, tokenTypes: nil, context: context)
        } else {
            guard let received else { preconditionFailure("GPTStageModel: stage \(stage.index) needs the previous stage's output") }
            x = received
        }
        let h = try slot.encoder.forward(x, context: context)
        guard let logits = slot.logits, let crossEntropy = slot.crossEntropy else { return .activation(h) }
        let losses = try crossEntropy.forward(logits: logits.forward(h), targets: input.labels)
        slot.lossMask = input.lossMask
        slot.tokens = losses.count
        let mean = maskedMean(losses, input.lossMask)
        return .loss(LossReport(total: mean, parts: ["lm": mean]))
    }

    // last stage: from the loss; others: dOut [b·s, h] → dx [b·s, h], nil on the first stage.
    @_specialize(where T == Float)
    public func backwardStage(outputGradient: Tensor<T>?, slot index: Int, lossScale: Double) throws -> Tensor<T>? {
        let slot = slots[index]
        let dh: Tensor<T>
        if let logits = slot.logits, let crossEntropy = slot.crossEntropy {
            let dLosses = slot.lossGradient([slot.tokens])
            fillMaskedMeanGradient(dLosses, slot.lossMask, scale: lossScale)
            dh = try logits.backward(crossEntropy.backward(dLosses))
        } else {
            guard let outputGradient else { preconditionFailure("GPTStageModel: stage \(stage.index) needs the next stage's gradient") }
            dh = outputGradient
        }
        let dx = try slot.encoder.backward(dh)
        guard let embedding = slot.embedding else { return dx }
        embedding.backward(dx)
        return nil
    }
}
