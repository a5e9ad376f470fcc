import Testing
import TensorCore

@Suite struct BiasResidualTests {
    let shape = [7, 23, 37]

    @Test func biasAddForwardAndBackward() {
        let x: Tensor<Double> = filled(shape, seed: 1), bias: Tensor<Double> = filled([37], seed: 2)
        let w: Tensor<Double> = filled(shape, seed: 3)
        let add = { () -> Tensor<Double> in
            let out = Tensor<Double>(zeros: shape)
            BiasAdd.forward(out: out, x: x, bias: bias)
            return out
        }
        let out = add()
        for i in 0..<x.count { #expect(out.pointer[i] == x.pointer[i] + bias.pointer[i % 37]) }

        let start: Tensor<Double> = filled([37], seed: 4)
        for threads in [1, 2] {
            let dBias = start.copy()
            withComputeThreads(threads) { BiasAdd.backward(dBias: dBias, dOut: w) }
            let numeric = numericGradient(of: bias) { weightedSum(add(), w) }
            #expect(relativeError(dBias.array, zip(start.array, numeric).map { $0 + $1 }) <= 1e-6)
        }

        let outF = Tensor<Float>(zeros: shape), dBiasF = Tensor<Float>(zeros: [37]), dBias = Tensor<Double>(zeros: [37])
        BiasAdd.forward(out: outF, x: x.converted(to: Float.self), bias: bias.converted(to: Float.self))
        #expect(relativeError(outF, out) <= 1e-6)
        BiasAdd.backward(dBias: dBiasF, dOut: w.converted(to: Float.self))
        BiasAdd.backward(dBias: dBias, dOut: w)
        #expect(relativeError(dBiasF, dBias) <= 1e-5)
    }

    @Test func residualAddForwardAndBackward() {
        let a: Tensor<Double> = filled(shape, seed: 5), b: Tensor<Double> = filled(shape, seed: 6)
        let w: Tensor<Double> = filled(shape, seed: 7)
        let add = { () -> Tensor<Double> in
            let out = Tensor<Double>(zeros: shape)
            ResidualAdd.forward(out: out, a: a, b: b)
            return out
        }
        #expect(add().array == zip(a.array, b.array).map { $0 + $1 })
        let dA = Tensor<Double>(zeros: shape), dB = Tensor<Double>(zeros: shape)
        ResidualAdd.backward(dA: dA, dB: dB, dOut: w)
        #expect(relativeError(dA.array, numericGradient(of: a) { weightedSum(add(), w) }) <= 1e-6)
        #expect(relativeError(dB.array, numericGradient(of: b) { weightedSum(add(), w) }) <= 1e-6)

        // In place: out aliases a.
        let aF = a.converted(to: Float.self)
        ResidualAdd.forward(out: aF, a: aF, b: b.converted(to: Float.self))
        #expect(relativeError(aF, add()) <= 1e-6)
    }
}
