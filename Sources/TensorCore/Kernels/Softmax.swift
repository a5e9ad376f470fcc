/// Which scores a row's softmax may not see.
///
/// A masked score gets probability exactly 0, as if it were −∞ before the softmax. Megatron
/// fills masked scores with −10000 instead; in float that gives the same probabilities (e^−10000
/// underflows to 0) except in a row with every key masked, which Megatron makes uniform and this
/// makes all zeros, so nothing flows from a fully padded row.
public struct SoftmaxMask: Sendable {
    /// Rows come in attention matrices of `causalQueries` rows each (one per batch item and head);
    /// row r is query i = r mod causalQueries and sees keys 0 ... i + (keys − causalQueries).
    public var causalQueries: Int?
    /// `keyPadding[b · keys + j] == true` hides key j from every row of batch item b, where
    /// batch item b owns rows [b · rowsPerBatch, (b + 1) · rowsPerBatch) (heads × queries).
    public var keyPadding: [Bool]?
    public var rowsPerBatch: Int

    public init(causalQueries: Int? = nil, keyPadding: [Bool]? = nil, rowsPerBatch: Int = 0) {
        precondition(causalQueries.map { $0 > 0 } ?? true, "SoftmaxMask: causalQueries must be positive")
        precondition(keyPadding == nil || rowsPerBatch > 0, "SoftmaxMask: keyPadding needs rowsPerBatch > 0")
        self.causalQueries = causalQueries
        self.keyPadding = keyPadding
        self.rowsPerBatch = rowsPerBatch
    }

    public static let none = SoftmaxMask()
}

/// probs = softmax(scale · scores) along the last dimension, under a mask.
public enum Softmax {
    // probs, scores: [rows, keys]; probs may be scores.
    @inlinable
    public static func forward<T: TensorScalar>(
        probs: Tensor<T>, scores: Tensor<T>, scale: T = 1, mask: SoftmaxMask = .none
    ) {
        let keys = scores.lastDimension, rows = scores.rows
        precondition(probs.count == scores.count, "Softmax.forward: probs \(probs.shape) for scores \(scores.shape)")
        precondition(scale > 0, "Softmax.forward: scale must be positive, got \(scale)")
        if let q = mask.causalQueries {
            precondition(q <= keys && rows % q == 0, "Softmax.forward: \(q) causal queries for scores \(scores.shape)")
        }
        // Padding as an additive bias (0 or −∞) per batch item, so the mask loads as vectors.
        let bias: [T]? = mask.keyPadding.map { padding in
            precondition(rows % mask.rowsPerBatch == 0 && padding.count == rows / mask.rowsPerBatch * keys,
                         "Softmax.forward: keyPadding of \(padding.count) for \(rows / Swift.max(mask.rowsPerBatch, 1)) batch items × \(keys) keys")
            return padding.map { $0 ? -.infinity : 0 }
        }
        let o = probs.pointer, s = scores.pointer
        bias.withOptionalPointer { bp in
            parallelChunks(rows, grain: rowGrain(keys)) { range in
                for r in range {
                    let visible = mask.causalQueries.map { q in r % q + 1 + keys - q } ?? keys
                    if let bp {
                        softmaxRow(o + r * keys, s + r * keys, visible: visible, keys: keys, scale: scale,
                                   bias: bp + (r / mask.rowsPerBatch) * keys)
                    } else {
                        softmaxRow(o + r * keys, s + r * keys, visible: visible, keys: keys, scale: scale, bias: nil)
                    }
                }
            }
        }
    }

    // dScores, dProbs, probs: [rows, keys]; dScores is written and may be dProbs.
    // dScores = scale · p ⊙ (dp − Σ dp ⊙ p); masked entries have p = 0 and get 0.
    // With `causalQueries` (the forward's), only each row's visible prefix of dProbs is read,
    // so a caller may leave the rest of dProbs uncomputed; the rest of dScores gets 0.
    @inlinable
    public static func backward<T: TensorScalar>(
        dScores: Tensor<T>, dProbs: Tensor<T>, probs: Tensor<T>, scale: T = 1, causalQueries: Int? = nil
    ) {
        let keys = probs.lastDimension, rows = probs.rows
        precondition(dScores.count == probs.count && dProbs.count == probs.count,
                     "Softmax.backward: dScores \(dScores.shape), dProbs \(dProbs.shape) for probs \(probs.shape)")
        if let q = causalQueries {
            precondition(q > 0 && q <= keys && rows % q == 0, "Softmax.backward: \(q) causal queries for probs \(probs.shape)")
        }
        let d = dScores.pointer, g = dProbs.pointer, p = probs.pointer
        parallelChunks(rows, grain: rowGrain(keys)) { range in
            for r in range {
                let n = causalQueries.map { q in r % q + 1 + keys - q } ?? keys
                let gr = g + r * keys, pr = p + r * keys, dr = d + r * keys
                var a0 = SIMD8<T>(), a1 = SIMD8<T>()
                var j = 0
                while j + 16 <= n {
                    a0 += load8(gr + j) * load8(pr + j)
                    a1 += load8(gr + j + 8) * load8(pr + j + 8)
                    j += 16
                }
                var dot = (a0 + a1).sum()
                while j < n {
                    dot += gr[j] * pr[j]
                    j += 1
                }
                map8(n, dr, gr, pr) { g, p in p * (g - dot) * scale }
                (dr + n).update(repeating: 0, count: keys - n)
            }
        }
    }

    /// One row: the first `visible` scores take part (the causal prefix); `bias` (0 or −∞ per
    /// key) hides padding. e^−∞ = 0 on both the Float and the Double path.
    @inlinable @inline(__always)
    static func softmaxRow<T: TensorScalar>(
        _ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>,
        visible n: Int, keys: Int, scale: T, bias: UnsafePointer<T>?
    ) {
        @inline(__always) func masked(_ j: Int) -> SIMD8<T> {
            bias.map { load8(x + j) + load8($0 + j) } ?? load8(x + j)
        }
        var m0 = SIMD8<T>(repeating: -.infinity), m1 = m0
        var j = 0
        while j + 16 <= n {
            m0 = VectorMath.maximum(m0, masked(j))
            m1 = VectorMath.maximum(m1, masked(j + 8))
            j += 16
        }
        var maximum = horizontalMax(VectorMath.maximum(m0, m1))
        while j < n {
            maximum = Swift.max(maximum, x[j] + (bias?[j] ?? 0))
            j += 1
        }
        if maximum == -.infinity {
            out.update(repeating: 0, count: keys)
            return
        }
        // The largest exponent is 0, so exp cannot overflow.
        let shift = maximum * scale
        var s0 = SIMD8<T>(), s1 = SIMD8<T>()
        j = 0
        while j + 16 <= n {
            let e0 = VectorMath.exp(masked(j) * scale - shift)
            let e1 = VectorMath.exp(masked(j + 8) * scale - shift)
            store8(e0, out + j)
            store8(e1, out + j + 8)
            s0 += e0
            s1 += e1
            j += 16
        }
        if j + 8 <= n {
            let e = VectorMath.exp(masked(j) * scale - shift)
            store8(e, out + j)
            s0 += e
            j += 8
        }
        var sum = (s0 + s1).sum()
        if j < n {
            let r = n - j
            var v = load8(x + j, count: r, padding: 0)
            if let bias { v += load8(bias + j, count: r, padding: 0) }
            let e = VectorMath.exp(v * scale - shift)
            store8(e, out + j, count: r)
            for i in 0..<r { sum += e[i] }
        }
        let inverse = 1 / sum
        map8(n, out, out) { $0 * inverse }
        (out + n).update(repeating: 0, count: keys - n)
    }
}

extension Optional {
    /// Runs `body` with a pointer to the array's elements, or nil.
    @inlinable
    func withOptionalPointer<E, R>(_ body: (UnsafePointer<E>?) -> R) -> R where Wrapped == [E] {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
