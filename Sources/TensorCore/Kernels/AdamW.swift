import RealModule

/// AdamW's settings (Loshchilov & Hutter): decoupled weight decay, bias-corrected moments.
public struct AdamWHyperparameters: Sendable, Codable, Equatable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double

    public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// One AdamW update over a flat parameter buffer, as torch.optim.AdamW:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·(m̂/(√v̂ + ε) + λp),
/// with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ). The decay uses p before this step's Adam update.
public enum AdamW {
    // parameters, gradients, firstMoments, secondMoments: [n]; step t counts from 1.
    @inlinable
    public static func update<T: TensorScalar>(
        parameters: Tensor<T>, gradients: Tensor<T>, firstMoments: Tensor<T>, secondMoments: Tensor<T>,
        step: Int, hyperparameters hp: AdamWHyperparameters
    ) {
        let n = parameters.count
        precondition(gradients.count == n && firstMoments.count == n && secondMoments.count == n,
                     "AdamW.update: gradients \(gradients.shape), moments \(firstMoments.shape), \(secondMoments.shape) for parameters \(parameters.shape)")
        precondition(step >= 1, "AdamW.update: step counts from 1, got \(step)")
        let b1 = T(hp.beta1), b2 = T(hp.beta2)
        // As torch: p ← p·(1 − lr·λ) − (lr/c₁)·m / (√v/√c₂ + ε), with c = 1 − βᵗ.
        let c1 = 1 - Double.pow(hp.beta1, step), c2 = 1 - Double.pow(hp.beta2, step)
        let stepSize = T(hp.learningRate / c1), rootC2 = T(1 / c2.squareRoot())
        let eps = T(hp.epsilon), decay = T(1 - hp.learningRate * hp.weightDecay)
        let p = parameters.pointer, g = gradients.pointer, m = firstMoments.pointer, v = secondMoments.pointer
        parallelChunks(n) { range in
            var i = range.lowerBound
            @inline(__always) func step8(_ i: Int, _ lanes: Int) {
                let gi = lanes == 8 ? load8(g + i) : load8(g + i, count: lanes, padding: 0)
                let mi = lanes == 8 ? load8(m + i) : load8(m + i, count: lanes, padding: 0)
                let vi = lanes == 8 ? load8(v + i) : load8(v + i, count: lanes, padding: 0)
                let pi = lanes == 8 ? load8(p + i) : load8(p + i, count: lanes, padding: 0)
                let m1 = b1 * mi + (1 - b1) * gi
                let v1 = b2 * vi + (1 - b2) * gi * gi
                let p1 = pi * decay - stepSize * m1 / (VectorMath.squareRoot(v1) * rootC2 + eps)
                if lanes == 8 {
                    store8(m1, m + i); store8(v1, v + i); store8(p1, p + i)
                } else {
                    store8(m1, m + i, count: lanes); store8(v1, v + i, count: lanes); store8(p1, p + i, count: lanes)
                }
            }
            while i + 8 <= range.upperBound {
                step8(i, 8)
                i += 8
            }
            if i < range.upperBound { step8(i, range.upperBound - i) }
        }
    }
}
