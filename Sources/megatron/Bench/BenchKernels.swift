import ArgumentParser
import TensorCore
import Training
#if canImport(Glibc)
import Glibc
#endif

/// Memory bandwidth of the elementwise and row kernels, beside memcpy's in the same run.
/// These kernels do little arithmetic per byte, so memcpy's rate is the bound they are held to.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GB/s of layer norm, GeLU, softmax and AdamW against memcpy, on tensors of --size floats.")

    @Option(help: "Elements per tensor (default 16M floats, 64 MiB).")
    var size: Int = 1 << 24

    @Option(help: "Row length of the row kernels (layer norm's hidden size, softmax's keys).")
    var width: Int = 1024

    @Option(help: "Kernel thread counts to measure (ComputeThreads).")
    var threads: [Int] = [2]

    @Option(help: "Timed repetitions per kernel (the median is reported).")
    var repeats: Int = 5

    func validate() throws {
        if size <= 0 { throw ValidationError("--size must be positive, got \(size)") }
        if width <= 0 { throw ValidationError("--width must be positive, got \(width)") }
        if size % width != 0 { throw ValidationError("--size (\(size)) must be a multiple of --width (\(width))") }
        if threads.isEmpty { throw ValidationError("--threads needs at least one value") }
        if let bad = threads.first(where: { $0 <= 0 }) { throw ValidationError("--threads must be positive, got \(bad)") }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let rows = size / width
        let shape = [rows, width]
        let a = Tensor<Float>(zeros: shape), b = Tensor<Float>(zeros: shape)
        let c = Tensor<Float>(zeros: shape), d = Tensor<Float>(zeros: shape)
        RandomFill.normal(a, seed: 1, std: 1)
        RandomFill.normal(b, seed: 2, std: 1)
        RandomFill.uniform(d, seed: 3, low: 0, high: 1)
        let gamma = Tensor<Float>(zeros: [width]), beta = Tensor<Float>(zeros: [width])
        gamma.fill(1)
        let dGamma = Tensor<Float>(zeros: [width]), dBeta = Tensor<Float>(zeros: [width])
        let mean = Tensor<Float>(zeros: [rows]), rstd = Tensor<Float>(zeros: [rows])
        let hp = AdamWHyperparameters(learningRate: 1e-4)

        let n = Double(size) * 4, rowBytes = Double(rows) * 4 * 2, paramBytes = Double(width) * 4 * 2
        // (name, bytes read + written, body). The counted bytes are each tensor touched once.
        let kernels: [(String, String, Double, () -> Void)] = [
            ("memcpy", "r x, w y", 2 * n, {
                let src = a.pointer, dst = c.pointer
                parallelChunks(size) { r in
                    _ = memcpy(dst + r.lowerBound, src + r.lowerBound, r.count * 4)
                }
            }),
            ("layernorm fwd", "r x, w y (+γ,β,mean,rstd)", 2 * n + rowBytes + paramBytes, {
                LayerNorm.forward(out: c, mean: mean, rstd: rstd, x: a, gamma: gamma, beta: beta)
            }),
            ("layernorm bwd", "r dy, x, w dx (+…)", 3 * n + rowBytes + 2 * paramBytes, {
                LayerNorm.backward(dx: c, dGamma: dGamma, dBeta: dBeta, dOut: b, x: a, mean: mean, rstd: rstd, gamma: gamma)
            }),
            ("gelu erf fwd", "r x, w y", 2 * n, { GeLU.forward(out: c, x: a, form: .erf) }),
            ("gelu erf bwd", "r dy, x, w dx", 3 * n, { GeLU.backward(dx: c, dOut: b, x: a, form: .erf) }),
            ("gelu tanh fwd", "r x, w y", 2 * n, { GeLU.forward(out: c, x: a, form: .tanh) }),
            ("gelu tanh bwd", "r dy, x, w dx", 3 * n, { GeLU.backward(dx: c, dOut: b, x: a, form: .tanh) }),
            ("softmax fwd", "r x, w p", 2 * n, { Softmax.forward(probs: c, scores: a, scale: 0.125) }),
            ("softmax bwd", "r dp, p, w dx", 3 * n, { Softmax.backward(dScores: c, dProbs: b, probs: d, scale: 0.125) }),
            ("adamw", "r p,g,m,v, w p,m,v", 7 * n, {
                AdamW.update(parameters: c, gradients: b, firstMoments: a, secondMoments: d, step: 10, hyperparameters: hp)
            }),
        ]

        print("tensors of \(size) floats (\(rows) rows × \(width)); GB/s = counted bytes / median wall time")
        print("cpu ms: mean CPU time of the whole process per run; well below threads × wall ms means other processes held the cores")
        for t in threads {
            ComputeThreads.set(t)
            print("threads \(t)")
            print("  \(leftAligned("kernel", 14))  \(leftAligned("counted bytes", 26))  \(padded("B/elem", 6))  \(padded("ms", 7))  \(padded("cpu ms", 7))  \(padded("GB/s", 6))  \(padded("vs memcpy", 9))")
            var copyRate = 0.0
            for (name, counted, bytes, body) in kernels {
                let before = processCPUSeconds()
                let seconds = medianSeconds(repeats: repeats, body)
                let cpu = (processCPUSeconds() - before) / Double(repeats + 1)   // + the warmup run
                let rate = bytes / seconds / 1e9
                if name == "memcpy" { copyRate = rate }
                print("  \(leftAligned(name, 14))  \(leftAligned(counted, 26))  \(padded(formatted(bytes / Double(size), 1), 6))  \(padded(formatted(seconds * 1e3, 2), 7))  \(padded(formatted(cpu * 1e3, 2), 7))  \(padded(formatted(rate), 6))  \(padded(formatted(100 * rate / copyRate, 0) + " %", 9))")
            }
        }
    }
}

/// User + system CPU seconds of this process so far, all threads together.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

private func leftAligned(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
