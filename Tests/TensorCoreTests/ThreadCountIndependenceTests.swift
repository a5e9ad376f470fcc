import Testing
@testable import TensorCore

/// Parameter gradients summed over rows have the same bits whatever the thread count: the in-process
/// engine gives a rank a share of the cores, an MPI process another, and a checkpoint must not
/// depend on which.
@Suite struct ThreadCountIndependenceTests {
    // 4096 rows of 64: rowGrain gives several parts, so the threads really split the sum.
    let shape = [4096, 64]

    func bits(_ t: Tensor<Float>) -> [UInt32] { t.array.map(\.bitPattern) }

    @Test func biasGradientBitsIndependentOfThreads() {
        let dOut: Tensor<Float> = filled(shape, seed: 1)
        let results = [1, 2, 3, 7].map { threads in
            let dBias = Tensor<Float>(zeros: [shape[1]])
            withComputeThreads(threads) { BiasAdd.backward(dBias: dBias, dOut: dOut) }
            return bits(dBias)
        }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    @Test func layerNormGradientBitsIndependentOfThreads() {
        let x: Tensor<Float> = filled(shape, seed: 2), dOut: Tensor<Float> = filled(shape, seed: 3)
        let gamma: Tensor<Float> = filled([shape[1]], seed: 4), beta: Tensor<Float> = filled([shape[1]], seed: 5)
        let out = Tensor<Float>(zeros: shape), mean = Tensor<Float>(zeros: [shape[0]]), rstd = Tensor<Float>(zeros: [shape[0]])
        LayerNorm.forward(out: out, mean: mean, rstd: rstd, x: x, gamma: gamma, beta: beta)
        let results = [1, 2, 3, 7].map { threads in
            let dx = Tensor<Float>(zeros: shape)
            let dGamma = Tensor<Float>(zeros: [shape[1]]), dBeta = Tensor<Float>(zeros: [shape[1]])
            withComputeThreads(threads) {
                LayerNorm.backward(dx: dx, dGamma: dGamma, dBeta: dBeta, dOut: dOut, x: x, mean: mean, rstd: rstd, gamma: gamma)
            }
            return bits(dx) + bits(dGamma) + bits(dBeta)
        }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    /// Products large enough to be cut into blocks (`GEMMPieces`): by rows when c is taller, by
    /// columns when wider, for every layout of the operands; one thread runs the same blocks.
    @Test(arguments: [(600, 300, 100), (100, 700, 200)], [(false, false), (false, true), (true, false), (true, true)])
    func splitProductBitsIndependentOfThreads(shape: (Int, Int, Int), layout: (Bool, Bool)) {
        let (m, n, k) = shape, (transA, transB) = layout
        #expect(GEMMPieces(m: m, n: n, k: k).count > 1 && GEMMPieces(m: m, n: n, k: k).alongRows == (m >= n))
        let a: Tensor<Double> = filled(transA ? [k, m] : [m, k], seed: 6)
        let b: Tensor<Double> = filled(transB ? [n, k] : [k, n], seed: 7)
        let c0: Tensor<Double> = filled([m, n], seed: 8)
        let expected = naiveProduct(a, b, transA: transA, transB: transB)
        let results = [1, 2, 3, 7].map { threads in
            let c = c0.converted(to: Float.self), af = a.converted(to: Float.self), bf = b.converted(to: Float.self)
            GEMM.product(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2,
                         a: af.pointer, lda: af.lastDimension, b: bf.pointer, ldb: bf.lastDimension,
                         beta: 1, c: c.pointer, ldc: n, threads: threads)
            return c
        }
        #expect(results.allSatisfy { bits($0) == bits(results[0]) })
        for i in 0..<(m * n) {
            let want = c0.pointer[i] + 2 * expected[i]
            #expect(abs(Double(results[0].pointer[i]) - want) <= 1e-4 * max(1, abs(want)))
        }
    }

    /// OpenBLAS stays at one thread, whatever it started with: its threaded products round
    /// differently from its one-thread products, and its count is shared by the whole process.
    @Test func productsLeaveOpenBLASOnOneThread() {
        let a: Tensor<Float> = filled([300, 200], seed: 9), b: Tensor<Float> = filled([200, 100], seed: 10)
        let c = Tensor<Float>(zeros: [300, 100])
        #expect(GEMMPieces(m: 300, n: 100, k: 200).count == 1)
        let results = [1, 2, 4].map { threads in
            withComputeThreads(threads) { GEMM.matmul(a, b, into: c) }
            return bits(c)
        }
        #expect(results.allSatisfy { $0 == results[0] })
        #expect(BLASThreads.current == 1)
    }
}
