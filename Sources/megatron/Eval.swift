import ArgumentParser
import Experiments
import Foundation

extension EvaluationTask: ExpressibleByArgument {}

/// `megatron eval`: one checkpoint on one task at any tp × dp (GPT also in pipeline stages,
/// pp); the model comes from the checkpoint, so no training config is needed.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint: WikiText-103 perplexity, LAMBADA accuracy or RACE accuracy, at any tp × dp.",
        discussion: """
            The model is built from the config and padded vocabulary the checkpoint records, so a \
            checkpoint written at any tp × dp evaluates at any other, and a GPT in --pp pipeline \
            stages, with the same metrics. \
            wikitext103 and lambada take a GPT checkpoint and one --data file (`megatron prepare \
            wikitext --split eval`, `megatron prepare lambada`); race takes a BERT checkpoint \
            fine-tuned by `megatron finetune race` and one or more RACE files (dev, test), and \
            reports each file's accuracy and the overall Σcorrect / Σquestions. Long evaluations \
            print a progress line (done/total, rate, ETA) every five seconds. Under mpirun, with \
            --backend mpi, the tp × pp × dp ranks are the job's processes and rank 0 prints. Each data \
            file must be tokenized with the vocabulary the checkpoint records (tokenizer and \
            vocab_sha256); --accept-vocab-mismatch evaluates it anyway, with a warning.
            """)

    @Option(help: "A checkpoint directory (its newest checkpoint is used) or a checkpoint-NNNNNNNN.h5 file.")
    var checkpoint: String

    @Option(help: "wikitext103, lambada or race.")
    var task: EvaluationTask

    @Option(parsing: .upToNextOption, help: "The prepared data file(s); race takes several.")
    var data: [String]

    @Option(help: "Tensor-parallel ranks.") var tp = 1
    @Option(help: "Data-parallel ranks.") var dp = 1
    @Option(help: "Pipeline stages (GPT): the layers split across pp ranks, the forward passed stage to stage.") var pp = 1
    @Option(help: "WikiText: targets each window after the first scores (default 32).") var stride: Int?
    @Option(help: "Windows, examples or questions per forward (default 8; race 4).") var batch: Int?
    @Flag(help: "Also print the metrics as one JSON line, last.") var json = false
    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun, tp × pp × dp processes).")
    var backend: BackendOption = .inprocess
    @Flag(help: "Use data files whose vocabulary (tokenizer, vocab_sha256) is not the one the checkpoint records, with a warning.")
    var acceptVocabMismatch = false

    func validate() throws {
        for (name, value) in [("--tp", tp), ("--dp", dp), ("--pp", pp), ("--stride", stride ?? 1), ("--batch", batch ?? 1)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        if stride != nil && task != .wikitext103 { throw ValidationError("--stride applies to --task wikitext103 only") }
    }

    func run() throws {
        try backend.confirmSharedFiles(worldSize: tp * pp * dp, files: [checkpoint] + data)
        let evaluation = try CheckpointEvaluation(checkpoint: checkpoint, tensorParallel: tp, dataParallel: dp,
                                                  pipelineParallel: pp, acceptVocabularyMismatch: acceptVocabMismatch)
        let m = evaluation.config.model
        let printing = try backend.engine.hostsWorldRankZero()
        if printing {
            print("\(task.rawValue): \(evaluation.checkpoint) (\(m.family.rawValue), \(m.layers) layers, hidden \(m.hidden), "
                + "sequence \(m.sequenceLength)) at tp \(tp) × " + (pp > 1 ? "pp \(pp) × " : "") + "dp \(dp)")
        }
        let metrics = try evaluation.evaluate([.init(task: task, data: data, stride: stride, batch: batch)],
                                              engine: backend.engine) { print($0) }
        guard printing else { return }
        for (key, value) in metrics.sorted(by: { $0.key < $1.key }) { print("\(key) \(value)") }
        if json { print(try MetricsLine(checkpoint: evaluation.checkpoint, command: "eval \(task.rawValue)", tp: tp, dp: dp, metrics: metrics).json()) }
    }
}

/// The one JSON line `eval --json` and `finetune race --json` print last.
struct MetricsLine: Encodable {
    let checkpoint: String
    let command: String
    let tp: Int
    let dp: Int
    let metrics: [String: Double]

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
