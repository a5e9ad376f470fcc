import Testing
import TensorCore

@Suite struct GeLUTests {
    let shape = [7, 23, 37]

    /// Inputs over [−6, 6), so both tails of Φ and tanh are exercised.
    func inputs<T: TensorScalar>(seed: UInt64) -> Tensor<T> {
        let x: Tensor<T> = filled(shape, seed: seed)
        for i in 0..<x.count { x.pointer[i] *= 6 }
        return x
    }

    @Test(arguments: GeLUForm.allCases)
    func forwardMatchesDefinition(form: GeLUForm) {
        let x: Tensor<Double> = inputs(seed: 1), out = Tensor<Double>(zeros: shape)
        GeLU.forward(out: out, x: x, form: form)
        let expected = x.array.map { v in
            switch form {
            case .erf: return v * 0.5 * (1 + Double.erf(v / 2.0.squareRoot()))
            case .tanh: return v * 0.5 * (1 + Double.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            }
        }
        #expect(relativeError(out.array, expected) <= 1e-14)
    }

    /// GeLU is elementwise, so one forward at x + h and one at x − h give every element's
    /// central difference.
    @Test(arguments: GeLUForm.allCases)
    func backwardMatchesFiniteDifferences(form: GeLUForm) {
        let x: Tensor<Double> = inputs(seed: 2), w: Tensor<Double> = filled(shape, seed: 3)
        let dx = Tensor<Double>(zeros: shape)
        GeLU.backward(dx: dx, dOut: w, x: x, form: form)
        let h = 1e-5
        let up = x.copy(), down = x.copy()
        for i in 0..<x.count { up.pointer[i] += h; down.pointer[i] -= h }
        let fUp = Tensor<Double>(zeros: shape), fDown = Tensor<Double>(zeros: shape)
        GeLU.forward(out: fUp, x: up, form: form)
        GeLU.forward(out: fDown, x: down, form: form)
        let numeric = (0..<x.count).map { w.pointer[$0] * (fUp.pointer[$0] - fDown.pointer[$0]) / (2 * h) }
        #expect(relativeError(dx.array, numeric) <= 1e-6)
    }

    @Test(arguments: GeLUForm.allCases)
    func floatMatchesDouble(form: GeLUForm) {
        let x: Tensor<Double> = inputs(seed: 4), w: Tensor<Double> = filled(shape, seed: 5)
        let out = Tensor<Double>(zeros: shape), outF = Tensor<Float>(zeros: shape)
        GeLU.forward(out: out, x: x, form: form)
        GeLU.forward(out: outF, x: x.converted(to: Float.self), form: form)
        #expect(relativeError(outF, out) <= 1e-5)
        let dx = Tensor<Double>(zeros: shape), dxF = Tensor<Float>(zeros: shape)
        GeLU.backward(dx: dx, dOut: w, x: x, form: form)
        GeLU.backward(dx: dxF, dOut: w.converted(to: Float.self), x: x.converted(to: Float.self), form: form)
        #expect(relativeError(dxF, dx) <= 1e-5)
    }

    /// The Float approximations element by element against libm, relative to each value, over
    /// a dense grid: the normal CDF keeps its relative accuracy into the left tail (to x = −5,
    /// where rounding x/√2 alone costs z²·6e−8 ≈ 8e−7).
    @Test func floatNormalCDFAndExpAreAccurate() {
        let n = 4001
        let x = Tensor<Float>(shape: [n], values: (0..<n).map { Float(-5 + 15 * Double($0) / Double(n - 1)) })
        let out = Tensor<Float>(zeros: [n])
        GeLU.forward(out: out, x: x, form: .erf)
        var worst = 0.0
        for i in 0..<n where x.pointer[i] != 0 {
            let v = Double(x.pointer[i])
            let phi = 0.5 * Double.erfc(-v / 2.0.squareRoot())
            if phi < 1e-30 { continue }
            worst = max(worst, abs(Double(out.pointer[i]) / v - phi) / phi)
        }
        #expect(worst <= 2e-6)

        let probs = Tensor<Float>(zeros: [1, 2])
        for v in stride(from: -80.0, through: 0.0, by: 0.37) {
            Softmax.forward(probs: probs, scores: Tensor<Float>(shape: [1, 2], values: [Float(v), 0]))
            let expected = Double.exp(Double(Float(v))) / (1 + Double.exp(Double(Float(v))))
            #expect(abs(Double(probs.pointer[0]) - expected) <= 1e-6 * expected)
        }
    }
}
