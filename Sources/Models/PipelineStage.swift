import Collectives
import TensorCore
import TensorParallel

/// Which part of the model one pipeline stage holds: an even, contiguous share of the layers,
/// the embedding on the first stage, the final norm, the output layer and the loss on the last.
public struct PipelineStage: Sendable, Equatable {
    /// This stage, `0..<count`.
    public let index: Int
    /// Stages of the pipeline (pp).
    public let count: Int

    public init(index: Int, count: Int) {
        precondition(count > 0 && (0..<count).contains(index), "PipelineStage: stage \(index) of \(count)")
        self.index = index
        self.count = count
    }

    /// The whole model on one stage (pp = 1).
    public static let whole = PipelineStage(index: 0, count: 1)

    public var isFirst: Bool { index == 0 }
    public var isLast: Bool { index == count - 1 }

    /// This stage's layers of `total` (which the config check has made divisible by `count`).
    public func layers(of total: Int) -> Range<Int> {
        let perStage = total / count
        return (index * perStage)..<((index + 1) * perStage)
    }

    /// Micro-batches whose activations the 1F1B schedule keeps alive at once on this stage:
    /// the warm-up's count − index − 1 forwards plus the steady state's one.
    public var activationSets: Int { count - index }

    /// A stage model's slots, one per micro-batch it holds at once (`activationSets`), made by
    /// `make`, and the one parameter set they share: the first slot's, the others' parameters
    /// pointing at its values and gradients. `pipeline` must be this stage's.
    func sharedSlots<T: TensorScalar, Slot>(model: String, pipeline: any Communicator,
                                            parameters: (Slot) -> [Parameter<T>], make: () -> Slot)
        -> (slots: [Slot], parameters: ParameterSet<T>) {
        precondition(pipeline.size == count && pipeline.rank == index,
                     "\(model): stage \(index) of \(count) on pipeline rank \(pipeline.rank) of \(pipeline.size)")
        let slots = (0..<activationSets).map { _ in make() }
        let set = ParameterSet(parameters(slots[0]))
        for slot in slots.dropFirst() { set.share(with: parameters(slot)) }
        return (slots, set)
    }
}

/// What a stage's forward of one micro-batch produced: the activation for the next stage, or
/// on the last stage the micro-batch's loss.
public enum StageOutput<T: TensorScalar> {
    case activation(Tensor<T>)
    case loss(LossReport)
}

/// A model split into pipeline stages, as the 1F1B schedule drives it. Each micro-batch in
/// flight has a slot of its own (`0..<stage.activationSets`) holding its activations from its
/// forward to its backward; the slots share one set of parameters and gradients.
public protocol PipelineStageModel: TrainableModel {
    var stage: PipelineStage { get }

    /// The shape of the activation that travels between stages for one micro-batch, [b·s, h].
    func boundaryShape(context: StepContext) -> [Int]

    /// Forward of one micro-batch into `slot`: the first stage reads `batch`, the others
    /// `received` (the previous stage's output). Returns the output to send on, or the loss on
    /// the last stage.
    func forwardStage(_ batch: Batch, received: Tensor<Scalar>?, slot: Int, context: StepContext) throws
        -> StageOutput<Scalar>

    /// Backward of the micro-batch in `slot`: the last stage starts from `lossScale` × its loss,
    /// the others from `outputGradient` (the next stage's input gradient). Parameter gradients
    /// accumulate. Returns the gradient at the stage's input to send back, nil on the first stage.
    func backwardStage(outputGradient: Tensor<Scalar>?, slot: Int, lossScale: Double) throws -> Tensor<Scalar>?

    /// This rank's pipeline: one rank per stage, by stage.
    var pipeline: any Communicator { get }

    /// The stage's copy of the tied word embedding: the embedding's on the first stage, the
    /// output layer's on the last, none between. Its copies' gradients are summed over the
    /// embedding group before the optimizer step.
    var tiedWordEmbeddings: VocabParallelEmbedding<Scalar>? { get }

    /// The names of the loss's parts (`LossReport.parts`), which every stage must know to sum
    /// the last stage's losses over the pipeline.
    var lossParts: [String] { get }
}

extension PipelineStageModel {
    /// Megatron's `_allreduce_word_embedding_grads`: sums the tied word embedding's gradient
    /// over the first and last stage, so both copies take the same update and stay equal.
    public func allReduceTiedEmbeddingGradient(over embeddingGroup: any Communicator) throws {
        guard stage.count > 1, embeddingGroup.size > 1, let words = tiedWordEmbeddings else { return }
        try embeddingGroup.allReduce(words.weight.gradient)
    }

    /// Parameters whose copy on another stage is counted in the global gradient norm instead
    /// (the last stage's copy of the tied embedding).
    public var parametersCountedElsewhere: Set<String> {
        guard !stage.isFirst, let words = tiedWordEmbeddings else { return [] }
        return [words.weight.name]
    }

    /// One micro-batch through the pipeline and back (no overlap): what the trainer's 1F1B
    /// schedule does with one micro-batch. Returns the loss on every stage.
    public func forwardBackward(_ batch: Batch, context: StepContext, lossScale: Double) throws -> LossReport {
        let report = try forwardThroughPipeline(batch, context: context)
        let received = stage.isLast ? nil : Tensor<Scalar>(zeros: boundaryShape(context: context))
        if let received { try pipeline.recv(received, from: stage.index + 1) }
        if let dx = try backwardStage(outputGradient: received, slot: 0, lossScale: lossScale) {
            try pipeline.send(dx, to: stage.index - 1)
        }
        return report
    }

    public func loss(_ batch: Batch, context: StepContext) throws -> LossReport {
        try forwardThroughPipeline(batch, context: context)
    }

    /// Forward of one micro-batch through every stage in slot 0; the last stage's loss and its
    /// parts, summed over the pipeline (the other stages add zeros), so every stage returns them.
    private func forwardThroughPipeline(_ batch: Batch, context: StepContext) throws -> LossReport {
        let received = stage.isFirst ? nil : Tensor<Scalar>(zeros: boundaryShape(context: context))
        if let received { try pipeline.recv(received, from: stage.index - 1) }
        var last = LossReport(total: 0)
        switch try forwardStage(batch, received: received, slot: 0, context: context) {
        case .activation(let h): try pipeline.send(h, to: stage.index + 1)
        case .loss(let report): last = report
        }
        let parts = lossParts
        let sums = Tensor<Double>(shape: [1 + parts.count], values: [last.total] + parts.map { last.parts[$0] ?? 0 })
        if stage.count > 1 { try pipeline.allReduce(sums) }
        var summed = LossReport(total: sums.pointer[0])
        for (i, part) in parts.enumerated() { summed.parts[part] = sums.pointer[1 + i] }
        return summed
    }
}
