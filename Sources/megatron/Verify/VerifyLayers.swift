import ArgumentParser
import Collectives
import Foundation
import TensorCore
import TensorParallel

/// `megatron verify layers`: a transformer layer stack at each requested tp × dp against the
/// same stack at tp = dp = 1, from one seed, with dropout on. Per layer it prints the worst
/// relative difference of the outputs and of the parameter gradients, and the tensor-parallel
/// all-reduces the layer issued forward and backward.
struct VerifyLayers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Check a transformer layer stack at tp × dp against tp = dp = 1; exits non-zero on failure.",
        discussion: """
            In-process: every --tp × --dp combination runs as rank threads. MPI: run under \
            mpirun; the combinations whose tp × dp equals the launched world size run, e.g. \
            `mpirun -np 4 megatron verify layers --backend mpi --tp 2 4 --dp 1 2`.
            """)

    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).")
    var backend: BackendOption = .inprocess

    @Option(parsing: .upToNextOption, help: "Tensor-parallel sizes.")
    var tp: [Int] = [1, 2, 4]

    @Option(parsing: .upToNextOption, help: "Data-parallel sizes.")
    var dp: [Int] = [1, 2]

    @Option(help: "Transformer layers in the stack.")
    var layers: Int = 2

    @Option(help: "Hidden size (divisible by heads and by every tp).")
    var hidden: Int = 64

    @Option(help: "Attention heads (divisible by every tp).")
    var heads: Int = 8

    @Option(help: "Sequences per data-parallel rank.")
    var batch: Int = 3

    @Option(help: "Sequence length.")
    var sequence: Int = 23

    @Option(help: "Forward and backward steps (each draws new dropout masks).")
    var steps: Int = 2

    @Option(help: "Dropout probability for attention probabilities and hidden states.")
    var dropout: Double = 0.1

    @Option(help: "float (tolerance 1e-5) or double (tolerance 1e-12).")
    var precision: Precision = .float

    @Option(help: "Largest relative difference accepted (default: by precision).")
    var tolerance: Double?

    @Option(help: "Seed for parameters, inputs and dropout.")
    var seed: UInt64 = 1234

    enum Precision: String, ExpressibleByArgument, CaseIterable {
        case float, double
    }

    func validate() throws {
        var problems: [String] = []
        for (flag, values) in [("--tp", tp), ("--dp", dp)] {
            if values.isEmpty { problems.append("\(flag) needs at least one value") }
            if let bad = values.first(where: { $0 <= 0 }) { problems.append("\(flag) must be positive, got \(bad)") }
        }
        for (flag, value) in [("--layers", layers), ("--hidden", hidden), ("--heads", heads),
                              ("--batch", batch), ("--sequence", sequence), ("--steps", steps)] where value <= 0 {
            problems.append("\(flag) must be positive, got \(value)")
        }
        if !(dropout >= 0 && dropout < 1) { problems.append("--dropout must be in [0, 1), got \(dropout)") }
        if let tolerance, !(tolerance > 0) { problems.append("--tolerance must be positive, got \(tolerance)") }
        for t in tp where t > 0 && heads > 0 && hidden > 0 {
            let model = ModelDimensions(hiddenSize: hidden, attentionHeads: heads, vocabSize: t,
                                        vocabPadding: .megatron, sequenceLength: sequence,
                                        globalBatchSize: batch)
            let violations = ParallelConfig(worldSize: t, tensorParallel: t, dataParallel: 1).violations(model)
            problems += violations.map { "at --tp \(t): \($0)" }
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    var config: TransformerConfig {
        TransformerConfig(layers: layers, hidden: hidden, heads: heads,
                          attentionDropout: dropout, hiddenDropout: dropout)
    }

    var limit: Double { tolerance ?? (precision == .float ? 1e-5 : 1e-12) }

    func run() throws {
        switch backend {
        case .inprocess: try runInProcess()
        case .mpi: try runMPI()
        }
    }

    private func runInProcess() throws {
        var failed = false
        for d in dp {
            for t in tp {
                let check = LayerStackEquivalence(config: config, batch: batch * d, sequence: sequence,
                                                  seed: seed, steps: steps)
                let (tCount, dCount, float) = (t, d, precision == .float)
                let report = try InProcessWorld.run(worldSize: t * d) { world in
                    let grid = try ProcessGrid(world: world, tensorParallel: tCount, dataParallel: dCount)
                    return float ? try check.run(Float.self, grid: grid) : try check.run(Double.self, grid: grid)
                }[0]
                failed = !summarize(report, tp: t, dp: d) || failed
            }
        }
        if failed { throw ExitCode.failure }
    }

    private func runMPI() throws {
        let world = try MPIRuntime.world()
        let combinations = dp.flatMap { d in tp.map { (tp: $0, dp: d) } }.filter { $0.tp * $0.dp == world.size }
        guard !combinations.isEmpty else {
            if world.rank == 0 {
                print("verify layers: no --tp × --dp combination has \(world.size) ranks, the size mpirun launched")
            }
            throw ExitCode.validationFailure
        }
        var failed = false
        for combination in combinations {
            let check = LayerStackEquivalence(config: config, batch: batch * combination.dp, sequence: sequence,
                                              seed: seed, steps: steps)
            let grid = try ProcessGrid(world: world, tensorParallel: combination.tp, dataParallel: combination.dp)
            let report = precision == .float ? try check.run(Float.self, grid: grid) : try check.run(Double.self, grid: grid)
            if world.rank == 0 {
                failed = !summarize(report, tp: combination.tp, dp: combination.dp) || failed
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// Prints one combination's table; true when every difference is within the tolerance.
    private func summarize(_ report: LayerStackEquivalence.Report, tp: Int, dp: Int) -> Bool {
        let ok = report.worst <= limit
        print("tp=\(tp) dp=\(dp) (\(tp * dp) ranks, \(precision.rawValue), \(steps) steps, dropout \(dropout)): "
              + "worst relative difference \(scientific(report.worst)) \(ok ? "ok" : "FAILED (tolerance \(scientific(limit)))")")
        print("  layer     output  gradients   tp all-reduces per step: forward  backward")
        for i in 0..<layers {
            let output = report.differences.filter { $0.name.hasSuffix(".layer\(i).output") }.map(\.relative).max() ?? 0
            let gradients = report.differences.filter { $0.name.contains(".layers.\(i).") }.map(\.relative).max() ?? 0
            let counts = report.allReduces.filter { $0.scope.hasPrefix("layer\(i)/") }
                .map { "\($0.calls / steps) × \($0.elements / Swift.max($0.calls, 1))" }
            print("  " + pad("\(i)", 5) + pad(scientific(output), 11) + pad(scientific(gradients), 11)
                  + pad(counts.first ?? "-", 33) + pad(counts.last ?? "-", 10))
        }
        if !ok {
            for d in report.differences where d.relative > limit {
                print("  FAILED \(d.name): \(scientific(d.relative))")
            }
        }
        return ok
    }

    private func scientific(_ x: Double) -> String { String(format: "%.1e", x) }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
