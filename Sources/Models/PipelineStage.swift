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

    /// The tied word embedding's gradient on a stage that holds a copy of it (first and last);
    /// its copies' gradients are summed over the embedding group before the optimizer step.
    var tiedEmbeddingGradient: Tensor<Scalar>? { get }

    /// The names of the loss's parts (`LossReport.parts`), which every stage must know to sum
    /// the last stage's losses over the pipeline.
    var lossParts: [String] { get }

    /// Parameters whose copy on another stage is counted in the global gradient norm instead
    /// (the last stage's copy of the tied embedding).
    var parametersCountedElsewhere: Set<String> { get }
}

extension PipelineStageModel {
    /// Megatron's `_allreduce_word_embedding_grads`: sums the tied word embedding's gradient
    /// over the first and last stage, so both copies take the same update and stay equal.
    public func allReduceTiedEmbeddingGradient(over embeddingGroup: any Communicator) throws {
        guard embeddingGroup.size > 1, let gradient = tiedEmbeddingGradient else { return }
        try embeddingGroup.allReduce(gradient)
    }
}
