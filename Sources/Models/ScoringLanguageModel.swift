import TensorCore
import TensorParallel

/// What evaluation needs of a GPT, whole (`GPTModel`) or one pipeline stage of it
/// (`GPTStageModel`): the forward that runs the output layer on the scored positions only.
public protocol ScoringLanguageModel: AnyObject {
    associatedtype Scalar: TensorScalar
    var config: GPTConfig { get }
    var tensorParallel: TensorParallelGroup { get }

    /// Losses [R] and this tensor-parallel rank's logits [R, V/t] at the positions `rows` of the
    /// b·s flattened ones, in the order of `rows`; the same on every stage of a pipeline.
    func scoredForward(_ input: GPTInput, rows: [Int], context: StepContext) throws
        -> (losses: Tensor<Scalar>, logits: Tensor<Scalar>)
}

extension GPTModel: ScoringLanguageModel {}
