import ArgumentParser
import Collectives
import Datasets
import Dispatch
import Models
import Tasks
import TensorParallel

/// Wall time of the WikiText-103 perplexity evaluation for a model of a given size, randomly
/// initialised (the cost does not depend on the weights), to size the evaluation runs of the
/// experiments. The perplexity it prints is that of an untrained model, not a result.
struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Seconds and windows/s of the WikiText-103 perplexity evaluation for a GPT of the given size.")

    @Option(help: "The evaluation stream (`megatron prepare wikitext --split eval`).")
    var data = "data/wikitext103-test-gpt2.h5"

    @Option(help: "Transformer layers.") var layers = 2
    @Option(help: "Hidden size.") var hidden = 128
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Sequence length s (the window).") var sequence = 128
    @Option(help: "Stride: targets each window after the first scores.") var stride = 64
    @Option(help: "Windows per forward.") var batch = 8
    @Option(help: "Tensor-parallel size.") var tp = 1
    @Option(help: "Data-parallel size.") var dp = 1
    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).") var backend: BackendOption = .inprocess

    func validate() throws {
        for (name, value) in [("--layers", layers), ("--hidden", hidden), ("--heads", heads), ("--sequence", sequence),
                              ("--stride", stride), ("--batch", batch), ("--tp", tp), ("--dp", dp)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        if stride > sequence { throw ValidationError("--stride \(stride) must not exceed --sequence \(sequence)") }
        if hidden % heads != 0 { throw ValidationError("--hidden \(hidden) must be divisible by --heads \(heads)") }
    }

    func run() throws {
        let file = try TokenFile(path: data, kind: .evaluationStream, remedy: "run `megatron prepare wikitext --split eval`")
        let task = try WikiTextPerplexity(file: file)
        let vocab = file.header.vocabSize
        let config = GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence, vocabSize: vocab,
                               paddedVocabSize: try VocabPadding.megatron.paddedSize(vocabSize: vocab, tensorParallel: tp))
        let (tp, dp, stride, batch) = (tp, dp, stride, batch)
        let results = try backend.engine.run(worldSize: tp * dp) { (world: any Communicator) throws -> (PerplexityResult, Double, Int) in
            let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
            let model = GPTModel<Float>(config: config, seed: 1234, group: TensorParallelGroup(grid.tensorParallel))
            let progress = world.rank == 0 ? ProgressThrottle().handler { print($0.line) } : nil
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try task.evaluate(model: model, dataParallel: grid.dataParallel, stride: stride, batch: batch,
                                           progress: progress)
            return (result, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, world.rank)
        }
        guard let (result, seconds, _) = results.first(where: { $0.2 == 0 }) else { return }
        print("tokens T \(task.tokens.count), T_o \(task.originalTokenCount), ratio \(formatted(result.tokenRatio, 4))")
        print("GPT \(layers)×\(hidden) (\(heads) heads), s \(sequence), stride \(stride), batch \(batch), tp \(tp) × dp \(dp)")
        print("windows \(result.windows)  seconds \(formatted(seconds, 1))  windows/s \(formatted(Double(result.windows) / seconds, 1))")
        print("untrained model: token ppl \(formatted(result.tokenPerplexity, 1)), adjusted \(formatted(result.adjustedPerplexity, 1))")
    }
}
