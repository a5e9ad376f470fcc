import ArgumentParser
import Experiments

/// `megatron finetune TASK`: fine-tuning of a pretrained checkpoint for a downstream task.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a pretrained checkpoint for a downstream task, then evaluate it.",
        subcommands: [FinetuneRACE.self])
}

/// `megatron finetune race`: BERT with the multiple-choice head on a RACE training file, then
/// accuracy on each evaluation file and overall.
struct FinetuneRACE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "race",
        abstract: "Fine-tune a BERT checkpoint with the multiple-choice head on RACE; report accuracy per file and overall.",
        discussion: """
            The model is the checkpoint's (its recorded config) at the RACE file's sequence length; \
            the encoder starts from the checkpoint's weights, the head from its initialisation. \
            Defaults follow experiments/bert-race.json: 2 epochs of 8-question batches, lr 1e-4 \
            with 6 % warmup and cosine decay, weight decay 0.1, clipping at 1. Any other training \
            key: --set training.KEY=VALUE (as `megatron train`). Checkpoints go to --out; an \
            interrupted run continues from there. Only RACE-M is prepared here (`megatron prepare \
            race --split train|dev|test`), so the accuracies are RACE-M's, not the paper's RACE \
            (middle + high). Under mpirun, with --backend mpi, the tp × dp ranks are the job's \
            processes and rank 0 prints.
            """)

    @Option(help: "The pretrained BERT: a checkpoint directory (its newest) or file.")
    var checkpoint: String

    @Option(help: "The RACE training file (`megatron prepare race --split train`).")
    var train: String

    @Option(parsing: .upToNextOption, help: "RACE files to evaluate the fine-tuned model on (dev, test).")
    var eval: [String]

    @Option(help: "Where the fine-tuned checkpoints go.") var out: String
    @Option(help: "Optimizer steps (default: --epochs passes over the training questions).") var steps: Int?
    @Option(help: "Passes over the training questions when --steps is not given.") var epochs: Double = 2
    @Option(help: "Questions per forward on one data-parallel rank.") var microBatch = 2
    @Option(help: "Questions per optimizer step.") var globalBatch = 8
    @Option(help: "Peak learning rate.") var lr = 1e-4
    @Option(help: "Tensor-parallel ranks.") var tp = 1
    @Option(help: "Data-parallel ranks.") var dp = 1
    @Option(help: "Questions per forward when evaluating.") var evalBatch: Int?
    @Option(name: .customLong("set"), help: "Override a training config field: key.path=value (repeatable).")
    var overrides: [String] = []
    @Flag(help: "Also print the metrics as one JSON line, last.") var json = false
    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun, tp × dp processes).")
    var backend: BackendOption = .inprocess
    @Flag(help: "Use data files whose vocabulary (tokenizer, vocab_sha256) is not the one the checkpoint records, with a warning.")
    var acceptVocabMismatch = false

    func validate() throws {
        for (name, value) in [("--steps", steps ?? 1), ("--micro-batch", microBatch), ("--global-batch", globalBatch),
                              ("--tp", tp), ("--dp", dp), ("--eval-batch", evalBatch ?? 1)] where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        if !(epochs > 0) { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if !(lr > 0) { throw ValidationError("--lr must be positive, got \(lr)") }
        if eval.isEmpty { throw ValidationError("--eval needs at least one RACE file") }
    }

    func run() throws {
        try backend.confirmSharedFiles(worldSize: tp * dp, files: [checkpoint, train] + eval)
        let options = RACEFineTuning.Options(steps: steps, epochs: epochs, microBatch: microBatch, globalBatch: globalBatch,
                                             learningRate: lr, tensorParallel: tp, dataParallel: dp, out: out,
                                             acceptVocabularyMismatch: acceptVocabMismatch)
        let finetuning = try RACEFineTuning(checkpoint: checkpoint, trainData: train, options: options, overrides: overrides)
        let printing = try backend.engine.hostsWorldRankZero()
        if printing { print("fine-tuning \(finetuning.pretrained) for RACE: \(finetuning.config.training.steps) steps into \(out)") }
        let (_, metrics) = try finetuning.run(evaluate: eval, batch: evalBatch, engine: backend.engine) { print($0) }
        guard printing else { return }
        for (key, value) in metrics.sorted(by: { $0.key < $1.key }) { print("\(key) \(value)") }
        if json { print(try MetricsLine(checkpoint: out, command: "finetune race", tp: tp, dp: dp, metrics: metrics).json()) }
    }
}
