import Models

/// What a step's trace is derived from: the model, the parallel layout, the batch split, and the
/// training loop that runs the step.
public struct StepTraceConfig: Sendable, Equatable {
    /// Which loop issues the step: they differ in the small collectives around the optimizer.
    public enum Loop: String, Sendable, Codable {
        /// `Trainer.step`: an all-reduce of the losses over dp, and of the gradient norm over tp.
        case trainer
        /// `TrainingStepBench` (`bench train`, the `scaling` experiment): neither.
        case benchmark
    }

    public var model: GPTConfig
    public var tensorParallel: Int
    public var dataParallel: Int
    /// Sequences per micro-batch on one data-parallel rank.
    public var microBatch: Int
    /// Micro-batches per step on each rank (gradient accumulation).
    public var microBatches: Int
    public var sequence: Int
    public var recomputeActivations: Bool
    public var loop: Loop
    /// Bytes of an activation, gradient or parameter element: 4 here (float32), 2 for the
    /// paper's mixed-precision runs (fp16 activations, gradients and all-reduces).
    public var elementBytes: Int

    public init(model: GPTConfig, tensorParallel: Int, dataParallel: Int, microBatch: Int, microBatches: Int = 1,
                sequence: Int, recomputeActivations: Bool = false, loop: Loop = .trainer, elementBytes: Int = 4) {
        self.model = model
        self.tensorParallel = tensorParallel
        self.dataParallel = dataParallel
        self.microBatch = microBatch
        self.microBatches = microBatches
        self.sequence = sequence
        self.recomputeActivations = recomputeActivations
        self.loop = loop
        self.elementBytes = elementBytes
    }

    public var ranks: Int { tensorParallel * dataParallel }
    /// Sequences per step over every data-parallel rank.
    public var globalBatch: Int { microBatch * microBatches * dataParallel }
    public var tokensPerStep: Int { globalBatch * sequence }

    /// Every size the layout cannot divide, at once.
    public var problems: [String] {
        var problems: [String] = []
        let t = tensorParallel
        for (name, value) in [("tp", t), ("dp", dataParallel), ("micro-batch", microBatch),
                              ("micro-batches", microBatches), ("sequence", sequence)] where value <= 0 {
            problems.append("\(name) must be positive, got \(value)")
        }
        guard t > 0 else { return problems }
        if model.heads % t != 0 { problems.append("heads (\(model.heads)) must be a multiple of tp (\(t))") }
        if model.hidden % model.heads != 0 { problems.append("hidden (\(model.hidden)) must be a multiple of heads (\(model.heads))") }
        if model.paddedVocabSize % t != 0 { problems.append("padded vocabulary (\(model.paddedVocabSize)) must be a multiple of tp (\(t))") }
        if sequence > model.maxPositions { problems.append("sequence (\(sequence)) exceeds the model's \(model.maxPositions) positions") }
        return problems
    }
}
