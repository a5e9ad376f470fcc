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
    private var receivedActivation = Reusable<T>(), scoredLosses = Reusable<T>(), scoredLogits = Reusable<T>()

    /// The layers of one micro-batch in flight and what its backward needs.
    final class Slot {
        let embedding: LanguageModelEmbedding<T>?
        let encoder: TransformerEncoder<T>
        let wordEmbeddings: VocabParallelEmbedding<T>?
        let logits: VocabParallelLogits<T>?
        let crossEntropy: VocabParallelCrossEntropy<T>?
        var lossMask: [Float]?
        var tokens = 0
        var lossGradient = Reusable<T>(), scoredHidden = Reusable<T>()

        init(config: GPTConfig, stage: PipelineStage, seed: UInt64, group: TensorParallelGroup, recompute: Bool,
             forwardOnly: Bool) {
            let initializer = ParameterInitializer(seed: seed)
            embedding = stage.isFirst
                ? LanguageModelEmbedding(paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                                         maxPositions: config.maxPositions, tokenTypes: nil,
                                         dropout: config.hiddenDropout, initStd: config.initStd,
                                         initializer: initializer, group: group)
                : nil
            encoder = TransformerEncoder(config: config.transformer, initializer: initializer, group: group,
                                         recomputeActivations: recompute, forwardOnly: forwardOnly,
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

    /// `forwardOnly`: an evaluation stage that keeps nothing for a backward (as GPTModel's).
    public init(config: GPTConfig, stage: PipelineStage, seed: UInt64, group: TensorParallelGroup,
                pipeline: any Communicator, recomputeActivations: Bool = false, forwardOnly: Bool = false) {
        self.config = config
        self.stage = stage
        tensorParallel = group
        self.pipeline = pipeline
        let made = stage.sharedSlots(model: "GPTStageModel", pipeline: pipeline, parameters: \Slot.parameters) {
            Slot(config: config, stage: stage, seed: seed, group: group, recompute: recomputeActivations,
                 forwardOnly: forwardOnly)
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
        let h = try hidden(input, received: received, slot: slot, context: context)
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

    // first stage: tokens [b·s]; others: received [b·s, h] → the stage's layers' output [b·s, h]
    private func hidden(_ input: GPTInput, received: Tensor<T>?, slot: Slot, context: StepContext) throws -> Tensor<T> {
        if let embedding = slot.embedding {
            return try slot.encoder.forward(embedding.forward(tokens: input.tokens, tokenTypes: nil, context: context),
                                            context: context)
        }
        guard let received else { preconditionFailure("GPTStageModel: stage \(stage.index) needs the previous stage's output") }
        return try slot.encoder.forward(received, context: context)
    }
}

extension GPTStageModel: ScoringLanguageModel {
    /// Evaluation's forward through the pipeline in slot 0 (`GPTModel.scoredForward`): the last
    /// stage runs the output layer on `rows` and broadcasts the losses [R] and its logits
    /// [R, V/t] over the pipeline, so every stage returns them.
    @_specialize(where T == Float)
    public func scoredForward(_ input: GPTInput, rows: [Int], context: StepContext) throws
        -> (losses: Tensor<T>, logits: Tensor<T>) {
        let slot = slots[0]
        let x = stage.isFirst ? nil : receivedActivation(boundaryShape(context: context))
        if let x { try pipeline.recv(x, from: stage.index - 1) }
        let h = try hidden(input, received: x, slot: slot, context: context)
        let losses = scoredLosses([rows.count])
        let logits = scoredLogits([rows.count, config.paddedVocabSize / tensorParallel.size])
        if let output = slot.logits, let crossEntropy = slot.crossEntropy {
            let scored = slot.scoredHidden([rows.count, config.hidden])
            scored.gatherRows(rows, of: h)
            let z = output.forward(scored)
            losses.assign(try crossEntropy.forward(logits: z, targets: rows.map { input.labels[$0] }))
            logits.assign(z)
        } else {
            try pipeline.send(h, to: stage.index + 1)
        }
        if stage.count > 1 {
            try pipeline.broadcast(losses, root: stage.count - 1)
            try pipeline.broadcast(logits, root: stage.count - 1)
        }
        return (losses, logits)
    }
}
