import Testing
import TensorCore

@Suite struct SoftmaxTests {
    // Attention-shaped scores: batch 2 × heads 3 × queries 7 rows, 9 keys.
    let batch = 2, heads = 3, queries = 7, keys = 9
    var rows: Int { batch * heads * queries }
    /// Keys 7 and 8 of batch item 0 and key 0 of item 1 are padding.
    var padding: [Bool] { (0..<(batch * keys)).map { [7, 8, 9].contains($0) } }

    func masks() -> [SoftmaxMask] {
        [.none,
         SoftmaxMask(causalQueries: queries),
         SoftmaxMask(keyPadding: padding, rowsPerBatch: heads * queries),
         SoftmaxMask(causalQueries: queries, keyPadding: padding, rowsPerBatch: heads * queries)]
    }

    func probabilities<T: TensorScalar>(_ scores: Tensor<T>, _ mask: SoftmaxMask) -> Tensor<T> {
        let p = Tensor<T>(zeros: scores.shape)
        Softmax.forward(probs: p, scores: scores, scale: 0.37, mask: mask)
        return p
    }

    @Test func masksGiveExactZerosAndRowsSumToOne() {
        let scores: Tensor<Double> = filled([rows, keys], seed: 1)
        for (m, mask) in masks().enumerated() {
            let p = probabilities(scores, mask)
            for r in 0..<rows {
                let i = r % queries, b = r / (heads * queries)
                var sum = 0.0
                for j in 0..<keys {
                    let hidden = (mask.causalQueries != nil && j > i + keys - queries)
                        || (mask.keyPadding != nil && padding[b * keys + j])
                    if hidden { #expect(p[index: [r, j]] == 0, "mask \(m) row \(r) key \(j)") }
                    sum += p[index: [r, j]]
                }
                #expect(abs(sum - 1) < 1e-12)
            }
        }
    }

    @Test func matchesDefinitionWithoutMask() {
        let scores: Tensor<Double> = filled([rows, keys], seed: 2)
        let p = probabilities(scores, .none)
        for r in 0..<rows {
            let e = (0..<keys).map { Double.exp(0.37 * scores[index: [r, $0]]) }
            let total = e.reduce(0, +)
            for j in 0..<keys { #expect(abs(p[index: [r, j]] - e[j] / total) < 1e-15) }
        }
    }

    @Test func fullyMaskedRowIsZero() {
        let scores: Tensor<Double> = filled([2, 5], seed: 3)
        let mask = SoftmaxMask(keyPadding: [true, true, true, true, true, false, false, true, true, true], rowsPerBatch: 1)
        let p = probabilities(scores, mask)
        #expect(p.array[0..<5].allSatisfy { $0 == 0 })
        #expect(abs(p.array[5..<10].reduce(0, +) - 1) < 1e-12)
    }

    @Test func backwardMatchesFiniteDifferences() {
        for mask in masks() {
            let scores: Tensor<Double> = filled([rows, keys], seed: 4), w: Tensor<Double> = filled([rows, keys], seed: 5)
            let p = probabilities(scores, mask)
            let d = Tensor<Double>(zeros: scores.shape)
            Softmax.backward(dScores: d, dProbs: w, probs: p, scale: 0.37)
            let numeric = numericGradient(of: scores) { weightedSum(probabilities(scores, mask), w) }
            #expect(relativeError(d.array, numeric) <= 1e-6)
        }
    }

    @Test func causalBackwardReadsOnlyTheVisiblePrefix() {
        let mask = SoftmaxMask(causalQueries: queries)
        let scores: Tensor<Double> = filled([rows, keys], seed: 8), w: Tensor<Double> = filled([rows, keys], seed: 9)
        let p = probabilities(scores, mask)
        let full = Tensor<Double>(zeros: p.shape)
        Softmax.backward(dScores: full, dProbs: w, probs: p, scale: 0.37)
        // What a caller that skips the hidden blocks leaves there: anything, even NaN.
        let partial = w.copy()
        for r in 0..<rows {
            for j in (r % queries + 1 + keys - queries)..<keys { partial.pointer[r * keys + j] = .nan }
        }
        let d = Tensor<Double>(shape: p.shape, values: Array(repeating: 5, count: p.count))
        Softmax.backward(dScores: d, dProbs: partial, probs: p, scale: 0.37, causalQueries: queries)
        #expect(d.array == full.array)
    }

    @Test func floatMatchesDouble() {
        // Long rows (odd length over several vectors) with a wide range of scores.
        let scores: Tensor<Double> = filled([21, 301], seed: 6), w: Tensor<Double> = filled([21, 301], seed: 7)
        for i in 0..<scores.count { scores.pointer[i] *= 30 }
        let mask = SoftmaxMask(causalQueries: 7)
        let p = probabilities(scores, mask), pF = probabilities(scores.converted(to: Float.self), mask)
        #expect(relativeError(pF, p) <= 1e-5)
        let d = Tensor<Double>(zeros: p.shape), dF = Tensor<Float>(zeros: p.shape)
        Softmax.backward(dScores: d, dProbs: w, probs: p, scale: 0.37)
        Softmax.backward(dScores: dF, dProbs: w.converted(to: Float.self), probs: pF, scale: 0.37)
        #expect(relativeError(dF, d) <= 1e-5)
    }
}
