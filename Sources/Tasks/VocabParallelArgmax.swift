import Collectives
import TensorCore
import TensorParallel

/// The argmax over the whole vocabulary of logits split along it, without gathering them:
/// each rank finds its largest logit, the group takes the maximum value, and among the ranks
/// holding it the lowest id wins (all-reduce MAX of the negated ids). Ties therefore go to the
/// lowest id, as `torch.argmax` (first occurrence) decides them on Megatron's gathered logits.
/// Two all-reduces of one number per row instead of an all-gather of the rows. Ids from
/// `vocabSize` on (the padded rows) are never chosen.
public enum VocabParallelArgmax {
    /// logits: [N, V/t], this rank's vocabulary block starting at id `vocabStart` → N ids.
    public static func argmax<T: TensorScalar>(_ logits: Tensor<T>, vocabStart: Int, vocabSize: Int? = nil,
                                               group: TensorParallelGroup) throws -> [Int] {
        let rows = logits.rows, width = logits.lastDimension
        let columns = VocabParallelCrossEntropy<T>.realColumns(vocabStart..<(vocabStart + width), vocabSize: vocabSize)
        let best = Tensor<T>(zeros: [rows])
        var local = [Int](repeating: 0, count: rows)
        for n in 0..<rows {
            let row = logits.pointer + n * width
            var top = -T.infinity, at = 0
            for v in 0..<columns where row[v] > top {
                top = row[v]
                at = v
            }
            best.pointer[n] = top
            local[n] = vocabStart + at
        }
        guard group.size > 1 else { return local }
        let mine = best.copy()
        try group.allReduce(best, op: .max)
        let negatedIDs = Tensor<Double>(zeros: [rows])
        for n in 0..<rows {
            negatedIDs.pointer[n] = mine.pointer[n] == best.pointer[n] ? -Double(local[n]) : -Double.infinity
        }
        try group.allReduce(negatedIDs, op: .max)
        return (0..<rows).map { Int(-negatedIDs.pointer[$0]) }
    }
}
