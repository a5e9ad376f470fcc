import TensorCore

/// The sgemm rate at the shapes a GPT layer issues (forward Y = X·W, dX = dY·Wᵀ, dW = Xᵀ·dY),
/// through `GEMM.matmul`: `bench gemm` prints it, `bench train` divides its model FLOP/s by it,
/// and every experiment run records it at its start (`atRunStart`).
public struct GEMMPeak: Sendable {
    /// Token rows M of the activations (GPT: batch × sequence).
    public var rows: [Int] = [2048, 4096]
    /// Feature sizes used for K and N (GPT: h and 4h).
    public var features: [Int] = [768, 3072]
    /// Timed repetitions per shape (the median is reported).
    public var repeats: Int = 5

    public init(rows: [Int] = [2048, 4096], features: [Int] = [768, 3072], repeats: Int = 5) {
        self.rows = rows
        self.features = features
        self.repeats = repeats
    }

    /// The quick peak a run records at its start: one shape (2048 × 768 × 768), its three passes,
    /// a quarter of a second at ~100 GFLOP/s, so that even the smoke run can afford it.
    public static let atRunStart = GEMMPeak(rows: [2048], features: [768], repeats: 3)

    /// How `medianGFLOPs` measures, in words, for records.
    public var method: String {
        "sgemm median over Y = X·W, dX, dW at m \(rows.map(String.init).joined(separator: "/")), "
            + "k and n \(features.map(String.init).joined(separator: "/")), \(ComputeThreads.current) thread(s)"
    }

    /// Every (pass, m, k, n) the peak is the median over.
    public var shapes: [(pass: GEMMPass, m: Int, k: Int, n: Int)] {
        rows.flatMap { m in
            features.flatMap { k in
                features.flatMap { n in GEMMPass.allCases.map { (pass: $0, m: m, k: k, n: n) } }
            }
        }
    }

    /// The median GFLOP/s over `shapes` on the calling thread's share of the cores (`ComputeThreads`).
    public func medianGFLOPs() -> Double {
        medianOf(shapes.map { shape in
            let operands = GEMMOperands(m: shape.m, k: shape.k, n: shape.n)
            return operands.gflops(operands.seconds(shape.pass, repeats: repeats))
        })
    }
}

public enum GEMMPass: String, CaseIterable, Sendable {
    case forward, dX, dW
}

/// X [m, k], W [k, n], Y [m, n] filled with small values, for the three passes of a linear layer.
public struct GEMMOperands {
    public let m: Int, k: Int, n: Int
    public let x: Tensor<Float>, w: Tensor<Float>, y: Tensor<Float>

    public init(m: Int, k: Int, n: Int) {
        (self.m, self.k, self.n) = (m, k, n)
        x = Tensor(zeros: [m, k])
        w = Tensor(zeros: [k, n])
        y = Tensor(zeros: [m, n])
        for t in [x, w, y] {
            for i in 0..<t.count { t.pointer[i] = Float(i % 17) * 0.01 - 0.08 }
        }
    }

    public var flops: Double { 2.0 * Double(m) * Double(k) * Double(n) }

    public func gflops(_ seconds: Double) -> Double { flops / seconds / 1e9 }

    /// The median seconds of one pass through `GEMM.matmul`.
    public func seconds(_ pass: GEMMPass, repeats: Int) -> Double {
        medianSeconds(repeats: repeats) {
            switch pass {
            case .forward: GEMM.matmul(x, w, into: y)                 // Y = X·W
            case .dX: GEMM.matmul(y, w, into: x, transB: true)        // dX = dY·Wᵀ
            case .dW: GEMM.matmul(x, y, into: w, transA: true)        // dW = Xᵀ·dY
            }
        }
    }
}

public func medianOf(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}
