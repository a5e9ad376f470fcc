import Experiments
import Foundation

/// Loads an experiment file written as `json` in a temporary folder, as `megatron run` would.
func loadSpec(_ json: String) throws -> ExperimentSpec {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data(json.utf8).write(to: URL(fileURLWithPath: path))
    return try ExperimentSpec.load(path)
}

/// A tiny BERT's training config for experiment files: 2 layers, hidden 32, the tiny WordPiece vocabulary.
func tinyBERTTraining(sequence: Int, trainData: String) -> String {
    #"""
    {"model": {"family": "bert", "layers": 2, "hidden": 32, "heads": 4, "sequence_length": \#(sequence), "max_positions": 128,
               "vocab_size": 229}, "training": {"steps": 4, "micro_batch": 1, "global_batch": 2, "lr": 1e-3,
               "train_data": "\#(trainData)"}}
    """#
}
