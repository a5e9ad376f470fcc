/// One way a parallel layout and a model do not fit together.
public enum ParallelConfigViolation: Sendable, Equatable, CustomStringConvertible {
    case notPositive(field: String, value: Int)
    case worldSizeMismatch(worldSize: Int, tensorParallel: Int, dataParallel: Int)
    case notDivisible(field: String, value: Int, divisor: String, by: Int)
    case paddedVocabTooSmall(padded: Int, vocab: Int)
    case sequenceParallelWithoutTensorParallel
    case sequenceNotDivisibleForSequenceParallel(sequenceLength: Int, tensorParallel: Int)

    public var description: String {
        switch self {
        case let .notPositive(field, value):
            return "\(field) is \(value); it must be positive"
        case let .worldSizeMismatch(world, tp, dp):
            return "world size \(world) ≠ tp × dp = \(tp) × \(dp) = \(tp * dp); launch \(tp * dp) ranks or change tp/dp"
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
