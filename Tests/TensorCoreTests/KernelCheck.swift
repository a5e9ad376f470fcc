import TensorCore

/// The error measure of the kernel tests: max|a − b| / max(max|b|, 1e−300), the largest
/// deviation relative to the reference's largest magnitude (b is the reference).
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) values")
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        diff = max(diff, abs(x - y))
        scale = max(scale, abs(y))
    }
    return diff / max(scale, 1e-300)
}

func relativeError<A: TensorScalar, B: TensorScalar>(_ a: Tensor<A>, _ b: Tensor<B>) -> Double {
    relativeError(a.array.map { Double($0) }, b.array.map { Double($0) })
}

/// Σ out ⊙ w: the scalar whose gradient with respect to out is w, so backward(dOut: w) must
/// give the gradient of this loss.
func weightedSum(_ out: Tensor<Double>, _ w: Tensor<Double>) -> Double {
    var s = 0.0
    for i in 0..<out.count { s += out.pointer[i] * w.pointer[i] }
    return s
}

/// Central differences (L(x + h) − L(x − h)) / 2h for every element of `x`, which `loss` reads.
func numericGradient(of x: Tensor<Double>, h: Double = 1e-5, _ loss: () -> Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let saved = x.pointer[i]
        x.pointer[i] = saved + h
        let up = loss()
        x.pointer[i] = saved - h
        let down = loss()
        x.pointer[i] = saved
        g[i] = (up - down) / (2 * h)
    }
    return g
}

/// Runs `body` with the calling thread's kernel thread count set to `n`, then restores it.
func withComputeThreads<R>(_ n: Int, _ body: () -> R) -> R {
    let saved = ComputeThreads.current
    ComputeThreads.set(n)
    defer { ComputeThreads.set(saved) }
    return body()
}
