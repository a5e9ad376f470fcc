/// One way a parallel layout and a model do not fit together.
public enum ParallelConfigViolation: Sendable, Equatable, CustomStringConvertible {
    case notPositive(field: String, value: Int)
    case worldSizeMismatch(worldSize: Int, tensorParallel: Int, dataParallel: Int, pipelineParallel: Int)
    /// Fewer micro-batches per step than pipeline stages: 1F1B never fills the pipeline.
    case tooFewMicroBatches(microBatches: Int, pipelineParallel: Int)
    case notDivisible(field: String, value: Int, divisor: String, by: Int)
    case paddedVocabTooSmall(padded: Int, vocab: Int)
    case sequenceParallelWithoutTensorParallel
    case sequenceNotDivisibleForSequenceParallel(sequenceLength: Int, tensorParallel: Int)

    public var description: String {
        switch self {
        case let .notPositive(field, value):
            return "\(field) is \(value); it must be positive"
        case let .worldSizeMismatch(world, tp, dp, pp):
            return "world size \(world) ≠ tp × pp × dp = \(tp) × \(pp) × \(dp) = \(tp * pp * dp); "
                + "launch \(tp * pp * dp) ranks or change tp/pp/dp"
        case let .tooFewMicroBatches(microBatches, pp):
            return "\(microBatches) micro-batches per step (global batch / (dp × micro batch)) are fewer than the "
                + "\(pp) pipeline stages; raise the global batch or lower the micro batch to give at least \(pp)"
        case let .notDivisible(field, value, divisor, by):
            return "\(field) \(value) is not divisible by the \(divisor) \(by); choose a multiple of \(by) or another \(divisor)"
        case let .paddedVocabTooSmall(padded, vocab):
            return "padded vocab size \(padded) is smaller than the vocabulary \(vocab); it must hold every token id"
        case .sequenceParallelWithoutTensorParallel:
            return "sequence parallel needs a tensor-parallel size above 1 (it shards the sequence across the tensor-parallel ranks); set tp ≥ 2 or turn sequence_parallel off"
        case let .sequenceNotDivisibleForSequenceParallel(sequence, tp):
            return "sequence length \(sequence) is not divisible by the tensor-parallel size \(tp) that sequence parallelism shards it across; choose a multiple of \(tp) or turn sequence_parallel off"
        }
    }
}

/// Every violation of a parallel layout, reported at once so one fix-and-retry covers them all.
public struct ParallelConfigError: Error, Equatable, CustomStringConvertible {
    public let violations: [ParallelConfigViolation]

    public init(violations: [ParallelConfigViolation]) {
        self.violations = violations
    }

    public var description: String {
        "invalid parallel configuration (\(violations.count) problem\(violations.count == 1 ? "" : "s")):\n"
            + violations.map { "  - \($0)" }.joined(separator: "\n")
    }
}
