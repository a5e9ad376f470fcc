import ArgumentParser
import TensorCore

/// The GEMM rate every throughput figure is divided by: sgemm at the shapes a GPT layer issues
/// (forward X·W, dX = dY·Wᵀ, dW = Xᵀ·dY), at each thread count.
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "sgemm GFLOP/s at GPT-sized shapes; prints `gemm peak: <X> GFLOP/s (<T> threads)` last.")

    @Option(help: "Token rows M of the activations (GPT: batch × sequence).")
    var rows: [Int] = [2048, 4096]

    @Option(help: "Feature sizes used for K and N (GPT: h and 4h).")
    var features: [Int] = [768, 3072]

    @Option(help: "BLAS thread counts to measure.")
    var threads: [Int] = [1, 2]

    @Option(help: "Timed repetitions per shape (the median is reported).")
    var repeats: Int = 5

    func validate() throws {
        for (name, values) in [("--rows", rows), ("--features", features), ("--threads", threads)] {
            if values.isEmpty { throw ValidationError("\(name) needs at least one value") }
            if let bad = values.first(where: { $0 <= 0 }) {
                throw ValidationError("\(name) must be positive, got \(bad)")
            }
        }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        print("OpenBLAS: \(BLASThreads.configuration)")
        print("   pass  threads      M      K      N   GFLOP/s")
        var best: (gflops: Double, threads: Int) = (0, 0)
        for t in threads {
            BLASThreads.set(t)
            var rates: [Double] = []
            for m in rows {
                for k in features {
                    for n in features {
                        for pass in GEMMPass.allCases {
                            let rate = measure(pass: pass, m: m, k: k, n: n)
                            rates.append(rate)
                            print("\(padded(pass.rawValue, 7))  \(padded("\(t)", 7))  \(padded("\(m)", 5))  \(padded("\(k)", 5))  \(padded("\(n)", 5))  \(padded(formatted(rate), 8))")
                        }
                    }
                }
            }
            rates.sort()
            let median = rates[rates.count / 2]
            print("median over shapes at \(t) thread(s): \(formatted(median)) GFLOP/s")
            if median > best.gflops { best = (median, t) }
        }
        print("gemm peak: \(formatted(best.gflops)) GFLOP/s (\(best.threads) threads)")
    }

    /// GFLOP/s of one pass of a linear layer Y[m,n] = X[m,k]·W[k,n].
    func measure(pass: GEMMPass, m: Int, k: Int, n: Int) -> Double {
        let x = Tensor<Float>(zeros: [m, k]), w = Tensor<Float>(zeros: [k, n])
        let y = Tensor<Float>(zeros: [m, n])
        for t in [x, w, y] {
            for i in 0..<t.count { t.pointer[i] = Float(i % 17) * 0.01 - 0.08 }
        }
        let seconds = medianSeconds(repeats: repeats) {
            switch pass {
            case .forward: GEMM.matmul(x, w, into: y)                 // Y = X·W
            case .dX: GEMM.matmul(y, w, into: x, transB: true)        // dX = dY·Wᵀ
            case .dW: GEMM.matmul(x, y, into: w, transA: true)        // dW = Xᵀ·dY
            }
        }
        return 2.0 * Double(m) * Double(k) * Double(n) / seconds / 1e9
    }
}

enum GEMMPass: String, CaseIterable {
    case forward, dX, dW
}
