import RealModule

/// Per-row cross-entropy of softmax(logits) against a target class:
/// loss_r = logΣ_v e^(logits[r, v]) − logits[r, target_r].
///
/// Rows marked in `ignore` (padding, or tokens that are not prediction targets) get loss 0 and
/// gradient 0. How the per-row losses are reduced (a mean over the counted rows, say) is the
/// caller's; backward takes the resulting per-row loss gradients. Forward saves only the
/// per-row log-sum-exp: backward recomputes the softmax from the logits, which avoids a
/// second [rows, V] buffer and lets the logits' own storage receive their gradient.
public enum CrossEntropy {
    // losses, logSumExp: [rows]; logits: [rows, V]; targets: [rows]; ignore: [rows] or nil.
    @inlinable
    public static func forward<T: TensorScalar>(
        losses: Tensor<T>, logSumExp: Tensor<T>, logits: Tensor<T>, targets: [Int32], ignore: [Bool]? = nil
    ) {
        let v = logits.lastDimension, rows = logits.rows
        check(rows: rows, classes: v, losses: losses, logSumExp: logSumExp, targets: targets, ignore: ignore)
        let lp = losses.pointer, sp = logSumExp.pointer, x = logits.pointer
        parallelChunks(rows, grain: rowGrain(v)) { range in
            for r in range {
                let row = x + r * v
                let m = rowMax(row, v)
                let sum = LayerNorm.rowSum(row, v) { VectorMath.exp($0 - m) }
                let lse = m + T.log(sum)
                sp[r] = lse
                lp[r] = (ignore?[r] ?? false) ? 0 : lse - row[Int(targets[r])]
            }
        }
    }

    // dLogits, logits: [rows, V]; dLosses, logSumExp: [rows]. dLogits is written and may be logits.
    // dLogits[r, v] = dLosses[r] · (softmax[r, v] − [v == target_r]), and 0 on ignored rows.
    @inlinable
    public static func backward<T: TensorScalar>(
        dLogits: Tensor<T>, dLosses: Tensor<T>, logits: Tensor<T>, logSumExp: Tensor<T>,
        targets: [Int32], ignore: [Bool]? = nil
    ) {
        let v = logits.lastDimension, rows = logits.rows
        precondition(dLogits.count == logits.count, "CrossEntropy.backward: dLogits \(dLogits.shape) for logits \(logits.shape)")
        check(rows: rows, classes: v, losses: dLosses, logSumExp: logSumExp, targets: targets, ignore: ignore)
        let d = dLogits.pointer, gp = dLosses.pointer, x = logits.pointer, sp = logSumExp.pointer
        parallelChunks(rows, grain: rowGrain(v)) { range in
            for r in range {
                let dr = d + r * v
                if ignore?[r] ?? false {
                    dr.update(repeating: 0, count: v)
                    continue
                }
                let g = gp[r], lse = sp[r]
                map8(v, dr, x + r * v) { VectorMath.exp($0 - lse) * g }
                dr[Int(targets[r])] -= g
            }
        }
    }

    @inlinable
    static func check<T: TensorScalar>(
        rows: Int, classes: Int, losses: Tensor<T>, logSumExp: Tensor<T>, targets: [Int32], ignore: [Bool]?
    ) {
        precondition(losses.count == rows && logSumExp.count == rows && targets.count == rows
                     && (ignore?.count ?? rows) == rows,
                     "CrossEntropy: losses \(losses.shape), logSumExp \(logSumExp.shape), \(targets.count) targets, \(ignore?.count ?? rows) ignore flags for \(rows) rows")
        for r in 0..<rows where !(ignore?[r] ?? false) {
            precondition(targets[r] >= 0 && Int(targets[r]) < classes,
                         "CrossEntropy: target \(targets[r]) of row \(r) outside 0..<\(classes)")
        }
    }

    @inlinable @inline(__always)
    static func rowMax<T: TensorScalar>(_ row: UnsafePointer<T>, _ n: Int) -> T {
        var m0 = SIMD8<T>(repeating: -.infinity), m1 = m0
        var j = 0
        while j + 16 <= n {
            m0 = VectorMath.maximum(m0, load8(row + j))
            m1 = VectorMath.maximum(m1, load8(row + j + 8))
            j += 16
        }
        var m = horizontalMax(VectorMath.maximum(m0, m1))
        while j < n {
            m = Swift.max(m, row[j])
            j += 1
        }
        return m
    }
}
