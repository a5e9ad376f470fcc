import TensorCore

/// The sgemm rate at the shapes a GPT layer issues (forward Y = X·W, dX = dY·Wᵀ, dW = Xᵀ·dY),
/// through `GEMM.matmul`: `bench gemm` prints it, and `bench train` divides its model FLOP/s by it.
struct GEMMPeak {
    /// Token rows M of the activations (GPT: batch × sequence).
    var rows: [Int] = [2048, 4096]
    /// Feature sizes used for K and N (GPT: h and 4h).
    var features: [Int] = [768, 3072]
    /// Timed repetitions per shape (the median is reported).
    var repeats: Int = 5

    /// Every (pass, m, k, n) the peak is the median over.
    var shapes: [(pass: GEMMPass, m: Int, k: Int, n: Int)] {
        rows.flatMap { m in
            features.flatMap { k in
                features.flatMap { n in GEMMPass.allCases.map { (pass: $0, m: m, k: k, n: n) } }
            }
        }
    }

    /// The median GFLOP/s over `shapes` at the calling thread's current BLAS thread count.
    func medianGFLOPs() -> Double {
        medianOf(shapes.map { shape in
            let operands = GEMMOperands(m: shape.m, k: shape.k, n: shape.n)
            return operands.gflops(operands.seconds(shape.pass, repeats: repeats))
        })
    }
}

enum GEMMPass: String, CaseIterable {
    case forward, dX, dW
}

/// X [m, k], W [k, n], Y [m, n] filled with small values, for the three passes of a linear layer.
struct GEMMOperands {
    let m: Int, k: Int, n: Int
    let x: Tensor<Float>, w: Tensor<Float>, y: Tensor<Float>

    init(m: Int, k: Int, n: Int) {
        (self.m, self.k, self.n) = (m, k, n)
        x = Tensor(zeros: [m, k])
        w = Tensor(zeros: [k, n])
        y = Tensor(zeros: [m, n])
        for t in [x, w, y] {
            for i in 0..<t.count { t.pointer[i] = Float(i % 17) * 0.01 - 0.08 }
        }
    }

    var flops: Double { 2.0 * Double(m) * Double(k) * Double(n) }

    func gflops(_ seconds: Double) -> Double { flops / seconds / 1e9 }

    /// The median seconds of one pass through `GEMM.matmul`.
    func seconds(_ pass: GEMMPass, repeats: Int) -> Double {
        medianSeconds(repeats: repeats) {
            switch pass {
            case .forward: GEMM.matmul(x, w, into: y)                 // Y = X·W
            case .dX: GEMM.matmul(y, w, into: x, transB: true)        // dX = dY·Wᵀ
            case .dW: GEMM.matmul(x, y, into: w, transA: true)        // dW = Xᵀ·dY
            }
        }
    }
}

func medianOf(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
