import ArgumentParser
import Collectives
import Training

/// `megatron train`: a GPT or BERT run from a JSON training config, at the config's tp × dp,
/// with checkpoints that `--resume` continues from.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a JSON training config (tp × dp ranks as threads, or under mpirun).",
        discussion: """
            The config has a "model" and a "training" section (see Sources/Training/Config). Any \
            field can be overridden: --set training.lr=3e-4 --set model.hidden_dropout=0 (the value \
            is read as JSON, else as a string); overrides are checked exactly as the file is, and \
            every problem is reported at once. --resume DIR continues from the newest checkpoint in \
            DIR: parameters, optimizer moments, step, data position and loss curve, after checking \
            that the training data has the vocabulary the checkpoint records. \
            --recompute-activations keeps only each layer's input between forward and backward and \
            runs the layer's forward again in backward: the same losses, less activation memory.
            """)

    @Option(help: "The JSON training config.")
    var config: String

    @Option(name: .customLong("set"), help: "Override a config field: key.path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Continue from the newest checkpoint in this directory.")
    var resume: String?

    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).")
    var backend: BackendOption = .inprocess

    @Flag(help: "Resume from a checkpoint whose recorded vocabulary (tokenizer, vocab_sha256) is not the training data's, with a warning.")
    var acceptVocabMismatch = false

    @Flag(help: "Recompute each layer's activations in backward (sets training.recompute_activations).")
    var recomputeActivations = false

    @Option(name: .customLong("peak-gflops"),
            help: "GEMM peak of the machine in GFLOP/s (from `megatron bench gemm`), for the log's % of peak.")
    var peakGFLOPs: Double?

    func validate() throws {
        if let peakGFLOPs, !(peakGFLOPs > 0) {
            throw ValidationError("--peak-gflops must be positive, got \(peakGFLOPs)")
        }
    }

    func run() throws {
        var config = try TrainingConfig.load(path: self.config, overrides: overrides)
        if recomputeActivations { config.training.recomputeActivations = true }
        let run = TrainingRun(config: config, resume: resume, peakGFLOPs: peakGFLOPs,
                              acceptVocabularyMismatch: acceptVocabMismatch)
        try run.validate()
        let t = config.training
        _ = try backend.engine.run(worldSize: t.worldSize, timeout: 3600) { world in
            try run.run(world: world) { print($0) }
        }
    }
}
