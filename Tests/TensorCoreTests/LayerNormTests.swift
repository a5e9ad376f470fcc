import Testing
import TensorCore

@Suite struct LayerNormTests {
    let shape = [7, 23, 37]

    /// Forward of x into fresh buffers; returns (out, mean, rstd).
    func forward<T: TensorScalar>(_ x: Tensor<T>, _ gamma: Tensor<T>, _ beta: Tensor<T>) -> (Tensor<T>, Tensor<T>, Tensor<T>) {
        let out = Tensor<T>(zeros: x.shape), mean = Tensor<T>(zeros: [x.rows]), rstd = Tensor<T>(zeros: [x.rows])
        LayerNorm.forward(out: out, mean: mean, rstd: rstd, x: x, gamma: gamma, beta: beta)
        return (out, mean, rstd)
    }

    @Test func forwardNormalizesRows() {
        let x: Tensor<Double> = filled(shape, seed: 1)
        let gamma = Tensor<Double>(zeros: [37]), beta = Tensor<Double>(zeros: [37])
        gamma.fill(1)
        let (out, _, _) = forward(x, gamma, beta)
        for r in 0..<x.rows {
            let row = (0..<37).map { out.pointer[r * 37 + $0] }
            let mean = row.reduce(0, +) / 37
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 37
            #expect(abs(mean) < 1e-12)
            #expect(abs(variance - 1) < 1e-3)   // ε = 1e-5 shrinks it slightly
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        let x: Tensor<Double> = filled(shape, seed: 2)
        let gamma: Tensor<Double> = filled([37], seed: 3), beta: Tensor<Double> = filled([37], seed: 4)
        let w: Tensor<Double> = filled(shape, seed: 5)
        let (_, mean, rstd) = forward(x, gamma, beta)

        let dx = Tensor<Double>(zeros: shape)
        let start: Tensor<Double> = filled([37], seed: 6)   // parameter gradients accumulate onto it
        let dGamma = start.copy(), dBeta = start.copy()
        LayerNorm.backward(dx: dx, dGamma: dGamma, dBeta: dBeta, dOut: w, x: x, mean: mean, rstd: rstd, gamma: gamma)

        let loss = { weightedSum(forward(x, gamma, beta).0, w) }
        #expect(relativeError(dx.array, numericGradient(of: x, loss)) <= 1e-6)
        let accumulatedGamma = zip(start.array, numericGradient(of: gamma, loss)).map { $0 + $1 }
        let accumulatedBeta = zip(start.array, numericGradient(of: beta, loss)).map { $0 + $1 }
        #expect(relativeError(dGamma.array, accumulatedGamma) <= 1e-6)
        #expect(relativeError(dBeta.array, accumulatedBeta) <= 1e-6)
    }

    @Test(arguments: [1, 2, 3])
    func floatMatchesDouble(threads: Int) {
        let x: Tensor<Double> = filled(shape, seed: 7)
        let gamma: Tensor<Double> = filled([37], seed: 8), beta: Tensor<Double> = filled([37], seed: 9)
        let w: Tensor<Double> = filled(shape, seed: 10)
        withComputeThreads(threads) {
            let (out, mean, rstd) = forward(x, gamma, beta)
            let (outF, meanF, rstdF) = forward(x.converted(to: Float.self), gamma.converted(to: Float.self), beta.converted(to: Float.self))
            #expect(relativeError(outF, out) <= 1e-5)

            let dx = Tensor<Double>(zeros: shape), dg = Tensor<Double>(zeros: [37]), db = Tensor<Double>(zeros: [37])
            LayerNorm.backward(dx: dx, dGamma: dg, dBeta: db, dOut: w, x: x, mean: mean, rstd: rstd, gamma: gamma)
            let dxF = Tensor<Float>(zeros: shape), dgF = Tensor<Float>(zeros: [37]), dbF = Tensor<Float>(zeros: [37])
            LayerNorm.backward(dx: dxF, dGamma: dgF, dBeta: dbF, dOut: w.converted(to: Float.self), x: x.converted(to: Float.self),
                               mean: meanF, rstd: rstdF, gamma: gamma.converted(to: Float.self))
            #expect(relativeError(dxF, dx) <= 1e-5)
            #expect(relativeError(dgF, dg) <= 1e-5)
            #expect(relativeError(dbF, db) <= 1e-5)
        }
    }
}
