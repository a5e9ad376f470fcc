import Testing
import TensorCore

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
}
