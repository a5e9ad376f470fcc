import Collectives
import TensorCore

/// Cross-entropy of logits split along the vocabulary, without ever gathering them: three
/// all-reduces of one scalar per token (the maximum logit, the target's logit, the sum of
/// exponentials) give every rank the loss, and the backward needs no communication. Only the
/// `vocabSize` real classes take part: the padded rows (on the last ranks' shards) take no
/// probability and get no gradient, so a model's softmax is its vocabulary's whatever the padding.
public final class VocabParallelCrossEntropy<T: TensorScalar> {
    let group: TensorParallelGroup
    let vocabRange: Range<Int>
    /// This shard's columns that are real classes.
    let columns: Int

    private var logits: Tensor<T>?
    private var targets: [Int32] = []
    private var ignore: [Bool]?
    private var maxima = Reusable<T>(), targetLogits = Reusable<T>(), sums = Reusable<T>()
    private var losses = Reusable<T>(), logitGradient = Reusable<T>()

    /// `vocabSize`: the real classes, ids below it; nil counts every row of the shard.
    public init(vocabRange: Range<Int>, vocabSize: Int? = nil, group: TensorParallelGroup) {
        self.vocabRange = vocabRange
        self.group = group
        columns = Self.realColumns(vocabRange, vocabSize: vocabSize)
    }

    /// How many of the shard `vocabRange`'s ids are below `vocabSize`.
    public static func realColumns(_ vocabRange: Range<Int>, vocabSize: Int?) -> Int {
        min(vocabRange.count, max(0, (vocabSize ?? vocabRange.upperBound) - vocabRange.lowerBound))
    }

    // logits: [N, V/t], targets: [N] global ids → losses: [N], identical on every rank;
    // ignored rows get loss 0.
    @_specialize(where T == Float)
    public func forward(logits: Tensor<T>, targets: [Int32], ignore: [Bool]? = nil) throws -> Tensor<T> {
        precondition(logits.lastDimension == vocabRange.count && logits.rows == targets.count,
                     "VocabParallelCrossEntropy: logits \(logits.shape) for \(targets.count) targets and vocab shard \(vocabRange)")
        self.logits = logits
        self.targets = targets
        self.ignore = ignore
        let n = targets.count
        let m = maxima([n]), p = targetLogits([n]), s = sums([n])
        VocabShardCrossEntropy.rowMaxima(m, logits: logits, columns: columns)
        try group.allReduce(m, op: .max)
        VocabShardCrossEntropy.targetLogits(p, logits: logits, targets: targets, firstClass: vocabRange.lowerBound)
        try group.allReduce(p)
        VocabShardCrossEntropy.sumExp(s, logits: logits, maxima: m, columns: columns)
        try group.allReduce(s)
        let loss = losses([n])
        for r in 0..<n {
            loss.pointer[r] = (ignore?[r] ?? false) ? 0 : T.log(s.pointer[r]) + m.pointer[r] - p.pointer[r]
        }
        return loss
    }

    // dLosses: [N] → dLogits: [N, V/t] = dLoss · (softmax − onehot(target)) on this shard's columns.
    @_specialize(where T == Float)
    public func backward(_ dLosses: Tensor<T>) -> Tensor<T> {
        guard let logits else { preconditionFailure("VocabParallelCrossEntropy.backward before forward") }
        let d = logitGradient(logits.shape)
        VocabShardCrossEntropy.backward(dLogits: d, dLosses: dLosses, logits: logits,
                                        maxima: maxima([targets.count]), sums: sums([targets.count]),
                                        targets: targets, firstClass: vocabRange.lowerBound, ignore: ignore,
                                        columns: columns)
        return d
    }
}
