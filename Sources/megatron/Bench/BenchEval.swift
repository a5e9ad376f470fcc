import ArgumentParser
import Collectives
import Datasets
import Dispatch
import Models
import Tasks
import Training
import TensorCore
import TensorParallel

/// Wall time of the WikiText-103 perplexity evaluation for a model of a given size, randomly
/// initialised (the cost does not depend on the weights), through the forward-only model and the
/// scored-positions output layer that `megatron eval` uses; with the model FLOP/s against the
/// GEMM peak measured in the same run, and the peak memory against the parameters plus one
/// forward's activations. The perplexity it prints is that of an untrained model, not a result.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Seconds, windows/s and fraction of the GEMM peak of the WikiText-103 perplexity evaluation for a GPT of the given size.",
        discussion: """
            GPT-2 medium (345M): --layers 24 --hidden 1024 --heads 16 --sequence 1024 --stride 512 \
            --batch 1 --synthetic-tokens 2049 --vocab 50257 (a random stream; no data file needed).
            """)

    @Option(help: "The evaluation stream (`megatron prepare wikitext --split eval`); unused with --synthetic-tokens.")
    var data = "data/wikitext103-test-gpt2.h5"
    @Option(help: "Score a random stream of this many tokens instead of --data.") var syntheticTokens: Int?
    @Option(help: "The vocabulary of the random stream.") var vocab = 50257

    @Option(help: "Transformer layers.") var layers = 2
    @Option(help: "Hidden size.") var hidden = 128
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Sequence length s (the window).") var sequence = 128
    @Option(help: "Stride: targets each window after the first scores.") var stride = 64
    @Option(help: "Windows per forward.") var batch = 8
    @Option(help: "Tensor-parallel size.") var tp = 1
    @Option(help: "Data-parallel size.") var dp = 1
    @Option(help: "Timed repetitions per GEMM shape of the peak measurement.") var gemmRepeats = 3
    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).") var backend: BackendOption = .inprocess

    func validate() throws {
        for (name, value) in [("--layers", layers), ("--hidden", hidden), ("--heads", heads), ("--sequence", sequence),
                              ("--stride", stride), ("--batch", batch), ("--tp", tp), ("--dp", dp), ("--vocab", vocab),
                              ("--gemm-repeats", gemmRepeats)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        if stride > sequence { throw ValidationError("--stride \(stride) must not exceed --sequence \(sequence)") }
        if hidden % heads != 0 { throw ValidationError("--hidden \(hidden) must be divisible by --heads \(heads)") }
        if let n = syntheticTokens, n < 2 { throw ValidationError("--synthetic-tokens must be at least 2, got \(n)") }
    }

    func run() throws {
        let task: WikiTextPerplexity
        if let n = syntheticTokens {
            var rng = SplitMix64(seed: 1234)
            let tokens = (0..<n).map { _ in Int32(rng.next() % UInt64(vocab)) }
            task = WikiTextPerplexity(tokens: tokens, originalTokenCount: n, vocabSize: vocab, source: "random stream")
        } else {
            let file = try TokenFile(path: data, kind: .evaluationStream, remedy: "run `megatron prepare wikitext --split eval`")
            task = try WikiTextPerplexity(file: file)
        }
        let config = GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence, vocabSize: task.vocabSize,
                               paddedVocabSize: try VocabPadding.megatron.paddedSize(vocabSize: task.vocabSize, tensorParallel: tp))
        let (tp, dp, stride, batch, sequence) = (tp, dp, stride, batch, sequence)
        let results = try backend.engine.run(worldSize: tp * dp) { (world: any Communicator) throws -> (PerplexityResult, Double, Int, Int) in
            let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
            let model = GPTModel<Float>(config: config, seed: 1234, group: TensorParallelGroup(grid.tensorParallel),
                                        forwardOnly: true)
            let progress = world.rank == 0 ? ProgressThrottle().handler { print($0.line) } : nil
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try task.evaluate(model: model, dataParallel: grid.dataParallel, sequence: sequence, stride: stride,
                                           batch: batch, progress: progress)
            let parameters = model.parameters.parameters.reduce(0) { $0 + $1.value.count }
            return (result, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, world.rank, parameters)
        }
        let peakResident = BenchTrain.peakResidentBytes()
        guard let (result, seconds, _, parameters) = results.first(where: { $0.2 == 0 }) else { return }
        let ranks = tp * dp
        let gemm = GEMMPeak(rows: [batch * sequence], features: [hidden, 4 * hidden], repeats: gemmRepeats)
        let rates = try InProcessWorld.run(worldSize: ranks, timeout: 3600) { _ in gemm.medianGFLOPs() }
        let gemmPeak = rates.reduce(0, +)
        let windows = try StrideWindows(tokenCount: task.tokens.count, sequence: sequence, stride: stride)
        let flops = (0..<windows.count).reduce(0.0) { sum, i in
            let w = windows.window(i)
            return sum + config.forwardFLOPs(sequence: sequence, scored: w.scored.count)
        }
        let gflops = flops / seconds / 1e9
        let memory = EvaluationMemory(config: config, parameters: parameters, tokens: batch * sequence,
                                      scored: batch * sequence, tensorParallel: tp)
        print("tokens T \(task.tokens.count), T_o \(task.originalTokenCount), ratio \(formatted(result.tokenRatio, 4))")
        print("GPT \(layers)×\(hidden) (\(heads) heads), s \(sequence), stride \(stride), batch \(batch), tp \(tp) × dp \(dp), forward only")
        print("windows \(result.windows)  seconds \(formatted(seconds, 1))  windows/s \(formatted(Double(result.windows) / seconds, 3))  "
              + "s/window \(formatted(seconds / Double(result.windows), 2))")
        print("model GFLOP/s \(formatted(gflops)) (forward: 2 per weight per token in the layers, s²·h per layer for the "
              + "attention, causal masking not credited; the output layer at the scored positions only)")
        print("GEMM peak \(formatted(gemmPeak)) GFLOP/s (median over forward/dX/dW at m \(batch * sequence), k, n ∈ {\(hidden), \(4 * hidden)}, "
              + "\(ranks) concurrent caller(s), summed); fraction of GEMM peak \(formatted(100 * gflops / gemmPeak)) %")
        print("memory: peak resident \(formatted(Double(peakResident) / 1_048_576)) MiB (VmHWM, all ranks), analytic "
              + "\(formatted(Double(memory.total * ranks) / 1_048_576)) MiB = parameters \(formatted(Double(memory.parameters * ranks) / 1_048_576)) "
              + "+ one forward's activations \(formatted(Double(memory.activations * ranks) / 1_048_576)); "
              + "peak / analytic \(formatted(Double(peakResident) / Double(memory.total * ranks), 3))")
        print("untrained model: token ppl \(formatted(result.tokenPerplexity, 1)), adjusted \(formatted(result.adjustedPerplexity, 1))")
    }
}

/// The bytes one rank holds in a forward-only evaluation by counting: 4 per parameter, and 4 per
/// element of one layer's forward buffers (the layers share them) plus the buffers outside the
/// layers, for N = b·s tokens of which R are scored.
struct EvaluationMemory {
    let parameters: Int
    let activations: Int

    init(config: GPTConfig, parameters: Int, tokens n: Int, scored r: Int, tensorParallel t: Int) {
        self.parameters = 4 * parameters
        let (h, s) = (config.hidden, config.maxPositions)
        let b = n / s
        // One layer: [N, h] layer-norm outputs (2), residual sum, output, attention and MLP outputs;
        // [N, h/t] q, k, v, the context, the MLP's 4h/t pre-activation and activation; scores and
        // probabilities [b, heads/t, s, s]; per-token layer-norm statistics.
        let layer = n * h * 6 + n * (h / t) * (4 + 2 * 4) + 2 * b * (config.heads / t) * s * s + 4 * n
        // Outside: the embedding output, the kept layer input, the final layer norm, the scored rows
        // and their logits [R, V/t], per-token statistics.
        let outside = n * h * 3 + r * h + r * config.paddedVocabSize / t + 7 * n
        activations = 4 * (layer + outside)
    }

    var total: Int { parameters + activations }
}
