import ArgumentParser
import Datasets
import Dispatch
import Training

/// How fast prepared data reaches training: opening a token file (HDF5 read and validation) and
/// the GPT and BERT loaders' micro-batches, in tokens per second on one thread. Training consumes
/// well under 10⁴ tokens/s here, so the loaders should never be what a step waits for.
struct BenchData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Tokens/s of opening a prepared HDF5 file and of the GPT and BERT loaders' micro-batches.")

    @Option(help: "A gpt-documents file (megatron prepare wikitext --split train …).")
    var gpt = "data/wt2-train-gpt2.h5"

    @Option(help: "A bert-sentences file (megatron prepare bert …).")
    var bert = "data/wt2-train-bert.h5"

    @Option(help: "Sequence length of the samples.")
    var seq = 512

    @Option(help: "Sequences per micro-batch.")
    var microBatch = 8

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats = 3

    func validate() throws {
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
        if seq <= 3 { throw ValidationError("--seq must be above 3, got \(seq)") }
        if microBatch <= 0 { throw ValidationError("--micro-batch must be positive, got \(microBatch)") }
    }

    func run() throws {
        print("stage                  file                         tokens      M tokens/s")
        let gptFile = try open(gpt, .gptDocuments, "megatron prepare wikitext --split train --raw "
                               + "../shared/datasets/wikitext-2/wiki.train.tokens --out \(gpt)")
        let gptLoader = try GPTLoader(file: gptFile, sequenceLength: seq, microBatch: microBatch,
                                      dpRank: 0, dpSize: 1, seed: 1)
        try timeEpoch("gpt loader next()", gpt, gptLoader, order: gptLoader.order) { _ = $0.next() }
        let bertFile = try open(bert, .bertSentences, "megatron prepare bert --raw "
                                + "../shared/datasets/wikitext-2/wiki.train.tokens --out \(bert)")
        let bertLoader = try BERTLoader(file: bertFile, sequenceLength: seq, microBatch: microBatch,
                                        dpRank: 0, dpSize: 1, seed: 1)
        try timeEpoch("bert loader next()", bert, bertLoader, order: bertLoader.order) { _ = $0.next() }
    }

    /// Opens the file once to check it, then times opening it again.
    private func open(_ path: String, _ kind: TokenFileSchema.Kind, _ remedy: String) throws -> TokenFile {
        let file = try TokenFile(path: path, kind: kind, remedy: remedy)
        try time("open + validate", path, tokens: file.tokens.count) {
            _ = try TokenFile(path: path, kind: kind, remedy: remedy)
        }
        return file
    }

    /// One epoch of micro-batches from a fresh copy of `loader` each repetition, `seq` tokens a sample.
    private func timeEpoch<Loader>(_ stage: String, _ path: String, _ loader: Loader, order: ShardedSampleOrder,
                                   next: (inout Loader) -> Void) throws {
        try time(stage, path, tokens: order.batchesPerEpoch * microBatch * seq) {
            var copy = loader
            for _ in 0..<order.batchesPerEpoch { next(&copy) }
        }
    }

    private func time(_ stage: String, _ path: String, tokens: Int, _ body: () throws -> Void) throws {
        let seconds = try medianSeconds(warmup: 1, repeats: repeats, body)
        let name = String(path.split(separator: "/").last ?? Substring(path))
        print("\(stage.padding(toLength: 21, withPad: " ", startingAt: 0))  "
              + "\(name.padding(toLength: 27, withPad: " ", startingAt: 0))  \(padded("\(tokens)", 9))  "
              + padded(formatted(Double(tokens) / seconds / 1e6, 1), 13))
    }
}
