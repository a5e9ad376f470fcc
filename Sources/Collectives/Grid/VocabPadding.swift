/// How the vocabulary is padded so that it splits evenly across TP ranks (and, in Megatron,
/// so that the embedding GEMMs get friendly sizes). The padded rows are never a target.
public enum VocabPadding: Sendable, Equatable {
    /// Megatron's `--make-vocab-size-divisible-by`: pad up to a multiple of `divisor × tp`.
    case multiple(of: Int)
    /// A padded size given outright (as a checkpoint fixes it); must be ≥ the vocabulary and
    /// divisible by tp.
    case fixed(Int)

    /// Megatron's default, 128 × tp.
    public static let megatron = VocabPadding.multiple(of: 128)

    /// The padded vocabulary size, or every reason there is none.
    public func paddedSize(vocabSize: Int, tensorParallel: Int) throws -> Int {
        let problems = violations(vocabSize: vocabSize, tensorParallel: tensorParallel)
        if !problems.isEmpty { throw ParallelConfigError(violations: problems) }
        return unchecked(vocabSize: vocabSize, tensorParallel: tensorParallel)
    }

    func unchecked(vocabSize: Int, tensorParallel: Int) -> Int {
        switch self {
        case .multiple(let divisor):
            let multiple = divisor * tensorParallel
            return (vocabSize + multiple - 1) / multiple * multiple
        case .fixed(let size):
            return size
        }
    }

    /// What is wrong with padding `vocabSize` this way at `tensorParallel` (empty if nothing),
    /// assuming both are positive (checked elsewhere).
    func violations(vocabSize: Int, tensorParallel: Int) -> [ParallelConfigViolation] {
        switch self {
        case .multiple(let divisor):
            return divisor > 0 ? [] : [.notPositive(field: "vocab padding divisor", value: divisor)]
        case .fixed(let size):
            var found: [ParallelConfigViolation] = []
            if size < vocabSize { found.append(.paddedVocabTooSmall(padded: size, vocab: vocabSize)) }
            if tensorParallel > 0 && size % tensorParallel != 0 {
                found.append(.notDivisible(field: "padded vocab size", value: size,
                                           divisor: "tensor-parallel size", by: tensorParallel))
            }
            return found
        }
    }
}
