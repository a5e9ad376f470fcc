import Collectives
import Foundation
import PerformanceModel
import TensorCore

/// `megatron calibrate`: measures this machine for the performance model, each rank a thread with
/// one core (one thread), as the `scaling` runs use it. GEMM FLOP/s over a grid of shapes,
/// alone and with every core multiplying at once; an elementwise kernel's bytes per second; the
/// in-process all-reduce's α (one float's latency, per ring step) and β (bus bandwidth at 8 MiB).
/// Each timing is the best of five loops of at least 20 ms.
public struct MachineCalibration: Sendable {
    public var grid = [64, 256, 1024, 4096]
    public var log: @Sendable (String) -> Void

    public init(log: @escaping @Sendable (String) -> Void) {
        self.log = log
    }

    public func measure(name: String) throws -> MachineModel {
        let machine = MachineDescription.current()
        let cores = machine.cores
        let levels = cores > 1 ? [1, cores] : [1]
        let tables = try levels.map { try gemmTable(concurrent: $0) }
        let memory = elementwiseBytesPerSecond()
        log(String(format: "elementwise (GeLU, layer norm, residual add, softmax; 1 thread): %.2f GB/s", memory / 1e9))
        let ranks = max(2, cores)
        let (latency, busBandwidth) = try allReduceCost(ranks: ranks)
        let alpha = latency / Double(2 * (ranks - 1))
        log(String(format: "in-process all-reduce, %d ranks: one float %.2f µs (α = %.3g µs per ring step), 8 MiB busbw %.2f GB/s",
                   ranks, latency * 1e6, alpha * 1e6, busBandwidth / 1e9))
        let date = ISO8601DateFormatter().string(from: Date())
        let measured = "measured by `megatron calibrate` on \(machine.summary), \(date)"
        return MachineModel(
            name: name,
            description: "This machine, every number measured (\(measured); OpenBLAS \(BLASThreads.coreName) kernels). "
                + "Ranks are threads of one process with one core each; the in-process engine's collectives are memory traffic. "
                + "Measured on a shared machine: other processes' load moves these figures by several percent.",
            ranksPerNode: cores,
            gemm: .init(tables: tables, source: "sgemm through GEMM.matmul (no transposes), 1 thread per rank, "
                        + "each rank alone and all \(cores) at once; \(measured)"),
            memory: .init(value: memory, source: "GeLU (tanh), LayerNorm, ResidualAdd on 1024×2048 floats and a causal Softmax "
                          + "on 64 × 128×128 scores, 1 thread, charged the bytes the trace charges them; \(measured)"),
            intraNode: .init(alphaSeconds: alpha, betaBytesPerSecond: busBandwidth,
                             source: "in-process all-reduce at \(ranks) ranks: α = one float's latency / 2(n−1), "
                                + "β = bus bandwidth (algbw·2(n−1)/n) at 8 MiB; \(measured)"),
            interNode: nil,
            overlapsDataParallel: false,
            overlapSource: "the training loops all-reduce the gradients after the backward pass (ParameterSet.averageGradients)")
    }

    func gemmTable(concurrent: Int) throws -> MachineModel.GEMMTable {
        let grid = self.grid
        let rates = try InProcessWorld.run(worldSize: concurrent, timeout: 3600) { world -> [[[Double]]] in
            ComputeThreads.set(1)
            return try grid.map { m in
                try grid.map { n in
                    try grid.map { k in
                        let a = Tensor<Float>(zeros: [m, k]), b = Tensor<Float>(zeros: [k, n]), c = Tensor<Float>(zeros: [m, n])
                        a.fill(0.01)
                        b.fill(0.02)
                        try world.barrier()
                        let seconds = Self.secondsPerCall { GEMM.matmul(a, b, into: c) }
                        return 2 * Double(m * n * k) / seconds
                    }
                }
            }
        }
        let median = grid.indices.map { i in
            grid.indices.map { j in grid.indices.map { l in rates.map { $0[i][j][l] }.sorted()[rates.count / 2] } }
        }
        log(String(format: "GEMM, %d rank(s) at once: %.1f GFLOP/s at 1024×1024×1024, %.1f at 64×64×64 (per rank)",
                   concurrent, median[2][2][2] / 1e9, median[0][0][0] / 1e9))
        return MachineModel.GEMMTable(concurrentRanks: concurrent, m: grid, n: grid, k: grid, flopsPerSecond: median)
    }

    /// The kernels of a layer, each charged the bytes the trace charges it (GeLU and layer norm
    /// 2 passes, residual add 3, causal softmax 2 over its s² scores): Σ bytes / Σ seconds.
    func elementwiseBytesPerSecond() -> Double {
        let (rows, width, s) = (1024, 2048, 128)
        let x = Tensor<Float>(zeros: [rows, width]), y = Tensor<Float>(zeros: [rows, width]), z = Tensor<Float>(zeros: [rows, width])
        let gamma = Tensor<Float>(zeros: [width]), beta = Tensor<Float>(zeros: [width])
        let mean = Tensor<Float>(zeros: [rows]), rstd = Tensor<Float>(zeros: [rows])
        let scores = Tensor<Float>(zeros: [64 * s, s]), probs = Tensor<Float>(zeros: [64 * s, s])
        x.fill(0.5)
        gamma.fill(1)
        ComputeThreads.set(1)
        let mask = SoftmaxMask(causalQueries: s, rowsPerBatch: s)
        let timed: [(bytes: Int, seconds: Double)] = [
            (2 * x.count * 4, Self.secondsPerCall { GeLU.forward(out: y, x: x, form: .tanh) }),
            (2 * x.count * 4, Self.secondsPerCall {
                LayerNorm.forward(out: y, mean: mean, rstd: rstd, x: x, gamma: gamma, beta: beta, epsilon: 1e-5)
            }),
            (3 * x.count * 4, Self.secondsPerCall { ResidualAdd.forward(out: z, a: x, b: y) }),
            (2 * scores.count * 4, Self.secondsPerCall { Softmax.forward(probs: probs, scores: scores, scale: 0.125, mask: mask) }),
        ]
        return Double(timed.reduce(0) { $0 + $1.bytes }) / timed.reduce(0) { $0 + $1.seconds }
    }

    /// One float's all-reduce latency and the bus bandwidth at 8 MiB, rank 0's view.
    func allReduceCost(ranks: Int) throws -> (latency: Double, busBandwidth: Double) {
        let results = try InProcessWorld.run(worldSize: ranks, timeout: 600) { world -> (Double, Double) in
            let one = Tensor<Float>(zeros: [1]), big = Tensor<Float>(zeros: [2 << 20])
            try world.barrier()
            let latency = try Self.secondsPerCall(calls: 2000) { try world.allReduce(one, op: .max) }
            try world.barrier()
            let seconds = try Self.secondsPerCall(calls: 20) { try world.allReduce(big, op: .sum) }
            return (latency, Double(big.count * 4) / seconds * 2 * Double(ranks - 1) / Double(ranks))
        }
        return results[0]
    }

    /// The best of five loops' seconds per call: loops of ≥ 20 ms (one call to size them), or of
    /// `calls` calls where every rank must make the same number (a collective). The best, not the
    /// median: on a shared machine it is the closest to the machine's own rate.
    static func secondsPerCall(calls fixed: Int? = nil, _ body: () throws -> Void) rethrows -> Double {
        var start = StepProfiler.now()
        try body()
        let first = max(Double(StepProfiler.now() - start) * 1e-9, 1e-7)
        let calls = fixed ?? max(1, Int(0.02 / first))
        var times: [Double] = []
        for _ in 0..<5 {
            start = StepProfiler.now()
            for _ in 0..<calls { try body() }
            times.append(Double(StepProfiler.now() - start) * 1e-9 / Double(calls))
        }
        return times.min()!
    }
}
