import Testing
import TensorCore

@Suite struct AdamWTests {
    let hp = AdamWHyperparameters(learningRate: 1e-2, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)

    /// AdamW as Loshchilov & Hutter write it, one scalar at a time.
    func reference(_ p: inout [Double], _ m: inout [Double], _ v: inout [Double], _ g: [Double], step t: Int) {
        for i in p.indices {
            m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g[i]
            v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g[i] * g[i]
            let mHat = m[i] / (1 - Double.pow(hp.beta1, t))
            let vHat = v[i] / (1 - Double.pow(hp.beta2, t))
            p[i] -= hp.learningRate * (mHat / (vHat.squareRoot() + hp.epsilon) + hp.weightDecay * p[i])
        }
    }

    func run<T: TensorScalar>(_: T.Type, steps: Int, n: Int) -> [Double] {
        let p: Tensor<T> = filled([n], seed: 1)
        let m = Tensor<T>(zeros: [n]), v = Tensor<T>(zeros: [n])
        for t in 1...steps {
            let g: Tensor<T> = filled([n], seed: UInt64(100 + t))
            AdamW.update(parameters: p, gradients: g, firstMoments: m, secondMoments: v, step: t, hyperparameters: hp)
        }
        return p.array.map { Double($0) }
    }

    @Test func matchesScalarReference() {
        let n = 1001, steps = 5
        var p: [Double] = filled([n], seed: 1).array
        var m = [Double](repeating: 0, count: n), v = m
        for t in 1...steps {
            let g: Tensor<Double> = filled([n], seed: UInt64(100 + t))
            reference(&p, &m, &v, g.array, step: t)
        }
        #expect(relativeError(run(Double.self, steps: steps, n: n), p) <= 1e-12)
        #expect(relativeError(run(Float.self, steps: steps, n: n), p) <= 1e-5)
        // Every parameter moved.
        let start: [Double] = filled([n], seed: 1).array
        #expect(zip(start, p).allSatisfy { $0 != $1 })
    }

    @Test func zeroGradientOnlyDecays() {
        let p = Tensor<Float>(shape: [3], values: [1, -2, 0])
        let zero = Tensor<Float>(zeros: [3]), m = Tensor<Float>(zeros: [3]), v = Tensor<Float>(zeros: [3])
        AdamW.update(parameters: p, gradients: zero, firstMoments: m, secondMoments: v, step: 1, hyperparameters: hp)
        let factor = Float(1 - hp.learningRate * hp.weightDecay)
        #expect(p.array == [1 * factor, -2 * factor, 0])
    }
}
