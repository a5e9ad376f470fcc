import ArgumentParser
import CGEMMReference
import TensorCore
import Training

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

    @Option(help: "Thread counts to measure (ours: the product's blocks on that many threads; C: OpenBLAS's own pool at that size).")
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
        if let warning = BLASKernelCheck.warning { print(warning) }
        print("Swift: GEMM.matmul (the path every layer takes); C: cblas_sgemm called from plain C.")
        print("   pass  threads      M      K      N   Swift GFLOP/s   C GFLOP/s   Swift/C")
        let peak = GEMMPeak(rows: rows, features: features, repeats: repeats)
        var best: (gflops: Double, threads: Int) = (0, 0)
        var ratios: [Double] = []
        for t in threads {
            ComputeThreads.set(t)
            var rates: [Double] = []
            for (pass, m, k, n) in peak.shapes {
                let (swift, c) = measure(pass: pass, m: m, k: k, n: n, threads: t)
                rates.append(swift)
                ratios.append(swift / c)
                print("\(padded(pass.rawValue, 7))  \(padded("\(t)", 7))  \(padded("\(m)", 5))  \(padded("\(k)", 5))  \(padded("\(n)", 5))  \(padded(formatted(swift), 14))  \(padded(formatted(c), 10))  \(padded(formatted(swift / c, 3), 8))")
            }
            let median = medianOf(rates)
            print("median over shapes at \(t) thread(s): \(formatted(median)) GFLOP/s")
            if median > best.gflops { best = (median, t) }
        }
        print("Swift/C ratio, median over all rows: \(formatted(medianOf(ratios), 3))")
        print("gemm peak: \(formatted(best.gflops)) GFLOP/s (\(best.threads) threads)")
    }

    /// GFLOP/s of one pass of a linear layer Y[m,n] = X[m,k]·W[k,n], through Swift and from C.
    func measure(pass: GEMMPass, m: Int, k: Int, n: Int, threads: Int) -> (swift: Double, c: Double) {
        let operands = GEMMOperands(m: m, k: k, n: n)
        let (x, w, y) = (operands.x, operands.w, operands.y)
        let swiftSeconds = operands.seconds(pass, repeats: repeats)
        let cSeconds = BLASThreads.measuringOwnThreads(threads) { () -> Double in
            switch pass {
            case .forward:
                cgemm_reference_median_seconds(0, 0, Int32(m), Int32(n), Int32(k),
                                               x.pointer, w.pointer, y.pointer, Int32(repeats))
            case .dX:
                cgemm_reference_median_seconds(0, 1, Int32(m), Int32(k), Int32(n),
                                               y.pointer, w.pointer, x.pointer, Int32(repeats))
            case .dW:
                cgemm_reference_median_seconds(1, 0, Int32(k), Int32(n), Int32(m),
                                               x.pointer, y.pointer, w.pointer, Int32(repeats))
            }
        }
        return (operands.gflops(swiftSeconds), operands.gflops(cSeconds))
    }
}
