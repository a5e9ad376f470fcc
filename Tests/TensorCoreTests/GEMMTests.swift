import Testing
import TensorCore

/// A deterministic pseudo-random fill in [-1, 1), independent of the kernels under test.
func filled<T: TensorScalar>(_ shape: [Int], seed: UInt64) -> Tensor<T> {
    let t = Tensor<T>(zeros: shape)
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    for i in 0..<t.count {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        t.pointer[i] = T(Double(state >> 11) / Double(1 << 53) * 2 - 1)
    }
    return t
}

/// c = op(a)·op(b) by the definition, in Double.
func naiveProduct(_ a: Tensor<Double>, _ b: Tensor<Double>, transA: Bool, transB: Bool) -> [Double] {
    let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
    let n = transB ? b.shape[0] : b.shape[1]
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transA ? a[index: [p, i]] : a[index: [i, p]]
                let y = transB ? b[index: [j, p]] : b[index: [p, j]]
                s += x * y
            }
            c[i * n + j] = s
        }
    }
    return c
}

@Suite struct GEMMTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matchesNaiveProduct(transA: Bool, transB: Bool) {
        let (m, k, n) = (7, 23, 37)
        let a: Tensor<Double> = filled(transA ? [k, m] : [m, k], seed: 1)
        let b: Tensor<Double> = filled(transB ? [n, k] : [k, n], seed: 2)
        let expected = naiveProduct(a, b, transA: transA, transB: transB)

        let c = Tensor<Double>(zeros: [m, n])
        GEMM.matmul(a, b, into: c, transA: transA, transB: transB)
        for i in 0..<c.count { #expect(abs(c.pointer[i] - expected[i]) <= 1e-12 * max(1, abs(expected[i]))) }

        let cf = Tensor<Float>(zeros: [m, n])
        GEMM.matmul(a.converted(to: Float.self), b.converted(to: Float.self), into: cf,
                    transA: transA, transB: transB)
        for i in 0..<cf.count { #expect(abs(Double(cf.pointer[i]) - expected[i]) <= 1e-5 * max(1, abs(expected[i]))) }
    }

    @Test func accumulatesWithBeta() {
        let a: Tensor<Double> = filled([5, 3], seed: 3), b: Tensor<Double> = filled([3, 4], seed: 4)
        let c: Tensor<Double> = filled([5, 4], seed: 5)
        let before = c.array
        let product = naiveProduct(a, b, transA: false, transB: false)
        GEMM.matmul(a, b, into: c, alpha: 2, beta: 1)
        for i in 0..<c.count { #expect(abs(c.pointer[i] - (before[i] + 2 * product[i])) <= 1e-12) }
    }

    @Test func stridedBatchedMatchesEachProduct() {
        let (batch, m, k, n) = (3, 4, 5, 6)
        let a: Tensor<Double> = filled([batch, m, k], seed: 6)
        let b: Tensor<Double> = filled([batch, n, k], seed: 7)
        let c = Tensor<Double>(zeros: [batch, m, n])
        GEMM.stridedBatched(batch: batch, transA: false, transB: true, m: m, n: n, k: k,
                            a: a.pointer, lda: k, strideA: m * k,
                            b: b.pointer, ldb: k, strideB: n * k,
                            c: c.pointer, ldc: n, strideC: m * n)
        for i in 0..<batch {
            let expected = naiveProduct(a[i], b[i], transA: false, transB: true)
            for j in 0..<(m * n) { #expect(abs(c[i].pointer[j] - expected[j]) <= 1e-12) }
        }
    }
}

@Suite struct TensorViewTests {
    @Test func viewsShareStorageAndNarrowCopies() {
        let t = Tensor<Float>(shape: [2, 3], values: [0, 1, 2, 3, 4, 5])
        let row = t[1]
        #expect(row.shape == [3] && row.array == [3, 4, 5])
        row.pointer[0] = 30
        #expect(t[index: [1, 0]] == 30)
        let column = t.narrowed(dimension: 1, start: 1, length: 2)
        #expect(column.shape == [2, 2] && column.array == [1, 2, 4, 5])
        let back = Tensor<Float>(zeros: [2, 3])
        back.place(column, dimension: 1, start: 1)
        #expect(back.array == [0, 1, 2, 0, 4, 5])
        #expect(Int(bitPattern: t.pointer) % 64 == 0)
    }
}
