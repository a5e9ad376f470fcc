import ArgumentParser
import Collectives
import Foundation
import Training

/// `megatron verify model`: a whole GPT or BERT trained `--steps` steps from one seed, dropout
/// on, at each tp × pp × dp (with `--sequence-parallel`, sequence-parallel at tp > 1); every
/// step's loss must equal the tp = pp = dp = 1 run's. With pipeline stages the model has 4
/// layers and a global batch of 16, so pp 4 divides them.
struct VerifyModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Train GPT or BERT a few steps at each tp × pp × dp and compare the loss curves with tp = pp = dp = 1.",
        discussion: """
            In-process: every --tp × --pp × --dp layout runs as rank threads. MPI: run under \
            mpirun; the layouts whose tp × pp × dp equals the launched world size run, against \
            the serial curve each process computes alone, e.g. \
            `mpirun -np 4 megatron verify model --backend mpi --pp 1 2 4 --sequence-parallel`.
            """)

    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).")
    var backend: BackendOption = .inprocess

    @Option(help: "Model family: gpt or bert.")
    var model: LossCurveEquivalence.Family = .gpt

    @Option(parsing: .upToNextOption, help: "Tensor-parallel sizes (each divides 4 heads and the padded vocab 256).")
    var tp: [Int] = [1, 2, 4]

    @Option(parsing: .upToNextOption, help: "Data-parallel sizes (each divides the global batch of 8 in micro-batches of 2).")
    var dp: [Int] = [1, 2]

    @Option(parsing: .upToNextOption, help: "Pipeline stages (1F1B; each divides 4 layers and the micro-batches of a step).")
    var pp: [Int] = [1]

    @Option(help: "Optimizer steps.")
    var steps: Int = 20

    @Option(help: "Largest relative difference of a step's loss accepted.")
    var tolerance: Double = 1e-5

    @Flag(help: "Sequence parallelism at every tp > 1 (tp = dp = 1 stays the serial reference).")
    var sequenceParallel = false

    @Flag(name: .customLong("post-layernorm"), help: "BERT in the original post-LN order instead of pre-LN.")
    var postLayerNorm = false

    func validate() throws {
        var problems: [String] = []
        if steps <= 0 { problems.append("--steps must be positive, got \(steps)") }
        if !(tolerance > 0) { problems.append("--tolerance must be positive, got \(tolerance)") }
        problems += tp.filter { $0 <= 0 || 4 % $0 != 0 }.map { "--tp \($0) does not divide the 4 heads" }
        problems += dp.filter { $0 <= 0 || 4 % $0 != 0 }.map { "--dp \($0) does not divide 4 micro-batches of 2" }
        if postLayerNorm && model != .bert { problems.append("--post-layernorm is BERT's (GPT-2 is pre-LN)") }
        problems += pp.filter { $0 <= 0 || 4 % $0 != 0 }.map { "--pp \($0) does not divide the 4 layers" }
        for (p, d) in pp.flatMap({ p in dp.map { (p, $0) } }) where p > 0 && d > 0 && 16 / (2 * d) < p {
            problems.append("--pp \(p) needs at least \(p) micro-batches per step; dp \(d) leaves \(16 / (2 * d))")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() throws {
        var check = LossCurveEquivalence(family: model)
        check.steps = steps
        check.postLayerNorm = postLayerNorm
        if pp.contains(where: { $0 > 1 }) {
            check.layers = 4
            check.globalBatch = 16
        }
        let reference = try check.losses(tp: 1, dp: 1)
        var layouts: [(tp: Int, pp: Int, dp: Int)] = []
        for p in pp {
            for d in dp {
                for t in tp where t * p * d > 1 { layouts.append((t, p, d)) }
            }
        }
        let world = backend == .mpi ? try MPIRuntime.world() : nil
        let prints = world?.rank ?? 0 == 0
        if prints {
            print("\(model.rawValue)\(postLayerNorm ? " (post-LN)" : ""): \(check.layers) layers, hidden \(check.hidden), \(check.heads) heads, sequence \(check.sequence), "
                  + "global batch \(check.globalBatch), dropout 0.1, \(steps) AdamW steps")
            print("tp=1 pp=1 dp=1: loss \(String(format: "%.6f", reference[0])) → \(String(format: "%.6f", reference[steps - 1]))")
        }
        var failed = false
        var ran = 0
        for layout in layouts {
            check.sequenceParallel = sequenceParallel && layout.tp > 1
            let curve: [Double]
            if let world {
                guard layout.tp * layout.pp * layout.dp == world.size else { continue }
                curve = try check.losses(world: world, tp: layout.tp, dp: layout.dp, pp: layout.pp)
            } else {
                curve = try check.losses(tp: layout.tp, dp: layout.dp, pp: layout.pp)
            }
            ran += 1
            let worst = zip(curve, reference).map { abs($0 - $1) / abs($1) }.max() ?? 0
            let ok = worst <= tolerance
            failed = failed || !ok
            guard prints else { continue }
            print("tp=\(layout.tp) pp=\(layout.pp) dp=\(layout.dp)\(sequenceParallel && layout.tp > 1 ? " sp" : ""): "
                  + "loss \(String(format: "%.6f", curve[0])) → \(String(format: "%.6f", curve[steps - 1])), "
                  + "max relative difference per step \(String(format: "%.1e", worst)) \(ok ? "ok" : "FAILED")")
        }
        if let world, ran == 0 {
            if prints { print("verify model: no --tp × --pp × --dp layout has \(world.size) ranks, the size mpirun launched") }
            throw ExitCode.validationFailure
        }
        if failed { throw ExitCode.failure }
    }
}

extension LossCurveEquivalence.Family: ExpressibleByArgument {}
