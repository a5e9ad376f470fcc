import Collectives
import Datasets
import Experiments
import Foundation
import Training

/// The tiny data set and three checkpoints made from it once per test process, in a fresh
/// temporary directory: a GPT and a BERT trained two steps at tp = 1, and that BERT fine-tuned
/// for RACE two steps at tp = 2 (through `RACEFineTuning`, the `megatron finetune race` path).
struct CheckpointFixtures: Sendable {
    let data: TinyData.Files
    let directory: String
    var gpt: String { "\(directory)/gpt" }
    var bert: String { "\(directory)/bert" }
    var race: String { "\(directory)/race" }
    /// What the fine-tuning's own evaluation (at tp = 2) reported.
    let fineTuningMetrics: [String: Double]

    private static let made: Result<CheckpointFixtures, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("evaluation-\(UUID().uuidString)").path
        let data = try TinyData.write(to: "\(directory)/data")
        for (family, name, vocab, train) in [("gpt", "gpt", 657, data.gptTrain), ("bert", "bert", 229, data.bertTrain)] {
            let config = try TrainingConfig.decode(Data("""
                {"model": {"family": "\(family)", "layers": 2, "hidden": 32, "heads": 4, "sequence_length": 32,
                           "max_positions": \(TinyData.Files.raceSequenceLength), "vocab_size": \(vocab), "gelu": "tanh"},
                 "training": {"steps": 2, "micro_batch": 2, "global_batch": 4, "lr": 1e-3, "log_interval": 1,
                              "train_data": "\(train)", "checkpoint_dir": "\(directory)/\(name)"}}
                """.utf8))
            let run = TrainingRun(config: config)
            try run.validate()
            _ = try InProcessWorld.run(worldSize: 1) { world in try run.run(world: world) { _ in } }
        }
        let finetuning = try RACEFineTuning(
            checkpoint: "\(directory)/bert", trainData: data.racePrepared,
            options: .init(steps: 2, microBatch: 1, globalBatch: 2, learningRate: 1e-3, tensorParallel: 2,
                           out: "\(directory)/race"))
        let metrics = try finetuning.run(evaluate: [data.racePrepared]) { _ in }.metrics
        return CheckpointFixtures(data: data, directory: directory, fineTuningMetrics: metrics)
    }

    static func get() throws -> CheckpointFixtures { try made.get() }
}
