import TensorCore
import TensorParallel

/// What the training loop needs from a model, whatever its family: its parameters in one flat
/// set, and a forward + backward over one micro-batch that accumulates parameter gradients.
public protocol TrainableModel: AnyObject {
    associatedtype Scalar: TensorScalar
    associatedtype Batch: Sendable

    /// Every parameter of this rank (shards of the split ones, copies of the replicated ones).
    var parameters: ParameterSet<Scalar> { get }
    /// The ranks that hold the other shards of this model.
    var tensorParallel: TensorParallelGroup { get }

    /// Forward and backward of one micro-batch. Parameter gradients accumulate the gradient of
    /// `lossScale` × the micro-batch loss (the trainer passes 1/micro-batches per step).
    /// Returns the unscaled loss and its parts, identical on every rank of the TP group.
    func forwardBackward(_ batch: Batch, context: StepContext, lossScale: Double) throws -> LossReport

    /// Forward only (no dropout unless `context.training`), for validation losses.
    func loss(_ batch: Batch, context: StepContext) throws -> LossReport

    /// Model FLOPs of one forward + backward over one sequence of `length` tokens (the formula
    /// is the model's to state).
    func trainingFLOPs(sequenceLength length: Int) -> Double
}

/// A micro-batch's loss and the terms it is made of ("lm", "mlm", "sop", "race").
public struct LossReport: Sendable, Equatable {
    public var total: Double
    public var parts: [String: Double]

    public init(total: Double, parts: [String: Double] = [:]) {
        self.total = total
        self.parts = parts
    }
}
