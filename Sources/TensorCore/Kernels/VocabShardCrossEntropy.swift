/// The per-row pieces of a cross-entropy whose logits are split along the class dimension, each
/// computed over one shard's classes [firstClass, firstClass + V/t). The caller combines them
/// across shards (max of the maxima, sum of the target logits, sum of the sums) and then
///   loss = log(sum) + max − targetLogit.
/// The backward needs only the combined maxima and sums, so it runs on each shard alone.
/// `columns` limits every piece to the shard's first columns: the last shard's padded vocabulary
/// rows are no classes (they take no probability and get no gradient).
public enum VocabShardCrossEntropy {
    // maxima: [rows] ← max over the shard's first `columns` of logits: [rows, V/t] (−∞ for none).
    @inlinable
    public static func rowMaxima<T: TensorScalar>(_ maxima: Tensor<T>, logits: Tensor<T>, columns: Int? = nil) {
        let v = logits.lastDimension, rows = logits.rows, c = columns ?? v
        precondition(maxima.count == rows, "VocabShardCrossEntropy.rowMaxima: maxima \(maxima.shape) for logits \(logits.shape)")
        let x = logits.pointer, m = maxima.pointer
        parallelChunks(rows, grain: rowGrain(v)) { range in
            for r in range { m[r] = CrossEntropy.rowMax(x + r * v, c) }
        }
    }

    // out: [rows] ← logits[r, targets[r] − firstClass] where the target is in the shard, else 0.
    @inlinable
    public static func targetLogits<T: TensorScalar>(_ out: Tensor<T>, logits: Tensor<T>, targets: [Int32], firstClass: Int) {
        let v = logits.lastDimension, rows = logits.rows
        precondition(out.count == rows && targets.count == rows,
                     "VocabShardCrossEntropy.targetLogits: out \(out.shape), \(targets.count) targets for logits \(logits.shape)")
        for r in 0..<rows {
            let local = Int(targets[r]) - firstClass
            out.pointer[r] = local >= 0 && local < v ? logits.pointer[r * v + local] : 0
        }
    }

    // sums: [rows] ← Σ over the shard's first `columns` of exp(logits[r, ·] − maxima[r]).
    @inlinable
    public static func sumExp<T: TensorScalar>(_ sums: Tensor<T>, logits: Tensor<T>, maxima: Tensor<T>, columns: Int? = nil) {
        let v = logits.lastDimension, rows = logits.rows, c = columns ?? v
        precondition(sums.count == rows && maxima.count == rows,
                     "VocabShardCrossEntropy.sumExp: sums \(sums.shape), maxima \(maxima.shape) for logits \(logits.shape)")
        let x = logits.pointer, m = maxima.pointer, s = sums.pointer
        parallelChunks(rows, grain: rowGrain(v)) { range in
            for r in range {
                let mr = m[r]
                s[r] = c > 0 ? LayerNorm.rowSum(x + r * v, c) { VectorMath.exp($0 - mr) } : 0
            }
        }
    }

    // dLogits[r, ·] = dLosses[r] · (exp(logits[r, ·] − maxima[r]) / sums[r] − onehot(target − firstClass));
    // rows flagged in `ignore` and columns past `columns` get zeros. dLogits is written and may be logits.
    @inlinable
    public static func backward<T: TensorScalar>(
        dLogits: Tensor<T>, dLosses: Tensor<T>, logits: Tensor<T>, maxima: Tensor<T>, sums: Tensor<T>,
        targets: [Int32], firstClass: Int, ignore: [Bool]? = nil, columns: Int? = nil
    ) {
        let v = logits.lastDimension, rows = logits.rows, c = columns ?? v
        precondition(dLogits.count == logits.count && dLosses.count == rows && maxima.count == rows
                     && sums.count == rows && targets.count == rows && (ignore?.count ?? rows) == rows,
                     "VocabShardCrossEntropy.backward: dLogits \(dLogits.shape), dLosses \(dLosses.shape), \(targets.count) targets for logits \(logits.shape)")
        let d = dLogits.pointer, x = logits.pointer, g = dLosses.pointer, m = maxima.pointer, s = sums.pointer
        targets.withUnsafeBufferPointer { targets in
            parallelChunks(rows, grain: rowGrain(v)) { range in
                for r in range {
                    let dr = d + r * v
                    if ignore?[r] ?? false {
                        dr.update(repeating: 0, count: v)
                        continue
                    }
                    let mr = m[r], scale = g[r] / s[r]
                    map8(c, dr, x + r * v) { VectorMath.exp($0 - mr) * scale }
                    (dr + c).update(repeating: 0, count: v - c)
                    let local = Int(targets[r]) - firstClass
                    if local >= 0 && local < c { dr[local] -= g[r] }
                }
            }
        }
    }
}
