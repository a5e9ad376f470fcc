import TensorCore
import TensorParallel

/// One micro-batch of GPT training or evaluation data, `batch × sequence` tokens.
public struct GPTInput: Sendable {
    public var tokens: [Int32]
    /// The next token of each position.
    public var labels: [Int32]
    /// 1 where a position's loss counts, 0 where it does not; nil counts every position.
    public var lossMask: [Float]?

    public init(tokens: [Int32], labels: [Int32], lossMask: [Float]? = nil) {
        self.tokens = tokens
        self.labels = labels
        self.lossMask = lossMask
    }
}

/// GPT-2 (paper §2, Fig. 2a): word + position embeddings, pre-LN transformer layers, a final
/// layer norm, and logits from the tied vocabulary-parallel embedding, scored by the
/// vocabulary-parallel cross-entropy. The loss is the mean over the positions the mask keeps.
public final class GPTModel<T: TensorScalar>: TrainableModel {
    public let config: GPTConfig
    public let tensorParallel: TensorParallelGroup
    public let parameters: ParameterSet<T>
    let embedding: LanguageModelEmbedding<T>
    let encoder: TransformerEncoder<T>
    let logits: VocabParallelLogits<T>
    let crossEntropy: VocabParallelCrossEntropy<T>

    private var lossGradient = Reusable<T>(), scoredHidden = Reusable<T>()

    /// `recomputeActivations`: keep only each layer's input from forward to backward and run the
    /// layer's forward again in backward (`LayerRecomputation`); the same losses and gradients,
    /// less activation memory, one more forward of the layers per step. `forwardOnly`: an
    /// evaluation model that keeps nothing for a backward (and has none).
    public init(config: GPTConfig, seed: UInt64, group: TensorParallelGroup, recomputeActivations: Bool = false,
                forwardOnly: Bool = false) {
        self.config = config
        tensorParallel = group
        let initializer = ParameterInitializer(seed: seed)
        embedding = LanguageModelEmbedding(paddedVocabSize: config.paddedVocabSize, hidden: config.hidden,
                                           maxPositions: config.maxPositions, tokenTypes: nil,
                                           dropout: config.hiddenDropout, initStd: config.initStd,
                                           initializer: initializer, group: group)
        encoder = TransformerEncoder(config: config.transformer, initializer: initializer, group: group,
                                     recomputeActivations: recomputeActivations, forwardOnly: forwardOnly)
        logits = VocabParallelLogits(embedding: embedding.wordEmbeddings, biasName: nil,
                                     initializer: initializer, group: group)
        crossEntropy = VocabParallelCrossEntropy(vocabRange: embedding.wordEmbeddings.vocabRange, vocabSize: config.vocabSize,
                                                 group: group)
        parameters = ParameterSet(embedding.parameters + encoder.parameters)
    }

    public func trainingFLOPs(sequenceLength length: Int) -> Double { config.trainingFLOPs(sequence: length) }

    /// Per-position cross-entropy [b·s] and this rank's logits [b·s, V/t], identical losses on every rank.
    @_specialize(where T == Float)
    public func forward(_ input: GPTInput, context: StepContext) throws -> (losses: Tensor<T>, logits: Tensor<T>) {
        precondition(input.tokens.count == context.tokens && input.labels.count == context.tokens,
                     "GPTModel: \(input.tokens.count) tokens for batch \(context.batch) × sequence \(context.sequence)")
        let x = try embedding.forward(tokens: input.tokens, tokenTypes: nil, context: context)
        let h = try encoder.forward(x, context: context)
        let z = logits.forward(h)
        return (try crossEntropy.forward(logits: z, targets: input.labels), z)
    }

    /// Evaluation's forward: the output layer and the cross-entropy run on the positions `rows`
    /// of the b·s flattened ones only (the targets a task scores), so the vocabulary GEMM costs
    /// what is scored. Losses [R] and this rank's logits [R, V/t], in the order of `rows`.
    @_specialize(where T == Float)
    public func scoredForward(_ input: GPTInput, rows: [Int], context: StepContext) throws
        -> (losses: Tensor<T>, logits: Tensor<T>) {
        precondition(input.tokens.count == context.tokens && input.labels.count == context.tokens,
                     "GPTModel: \(input.tokens.count) tokens for batch \(context.batch) × sequence \(context.sequence)")
        let x = try embedding.forward(tokens: input.tokens, tokenTypes: nil, context: context)
        let h = try encoder.forward(x, context: context)
        let scored = scoredHidden([rows.count, config.hidden])
        scored.gatherRows(rows, of: h)
        let z = logits.forward(scored)
        return (try crossEntropy.forward(logits: z, targets: rows.map { input.labels[$0] }), z)
    }

    @_specialize(where T == Float)
    public func loss(_ input: GPTInput, context: StepContext) throws -> LossReport {
        let losses = try forward(input, context: context).losses
        let mean = maskedMean(losses, input.lossMask)
        return LossReport(total: mean, parts: ["lm": mean])
    }

    @_specialize(where T == Float)
    public func forwardBackward(_ input: GPTInput, context: StepContext, lossScale: Double) throws -> LossReport {
        let losses = try forward(input, context: context).losses
        let mean = maskedMean(losses, input.lossMask)
        let dLosses = lossGradient([losses.count])
        fillMaskedMeanGradient(dLosses, input.lossMask, scale: lossScale)
        let dz = crossEntropy.backward(dLosses)
        let dh = try logits.backward(dz)
        let dx = try encoder.backward(dh)
        embedding.backward(dx)
        return LossReport(total: mean, parts: ["lm": mean])
    }
}

/// Σ losses·mask / Σ mask, in Double.
func maskedMean<T: TensorScalar>(_ losses: Tensor<T>, _ mask: [Float]?) -> Double {
    var sum = 0.0, weight = 0.0
    for i in 0..<losses.count {
        let m = Double(mask?[i] ?? 1)
        sum += Double(losses.pointer[i]) * m
        weight += m
    }
    return weight > 0 ? sum / weight : 0
}

/// d(mean)/d(loss_i) = scale · mask_i / Σ mask.
func fillMaskedMeanGradient<T: TensorScalar>(_ d: Tensor<T>, _ mask: [Float]?, scale: Double) {
    let weight = mask.map { $0.reduce(0) { $0 + Double($1) } } ?? Double(d.count)
    for i in 0..<d.count {
        d.pointer[i] = weight > 0 ? T(scale * Double(mask?[i] ?? 1) / weight) : 0
    }
}
