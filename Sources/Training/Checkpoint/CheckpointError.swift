/// A tensor whose checkpoint shape and model shape differ, or that only one of them has.
public struct TensorMismatch: Sendable, Equatable, CustomStringConvertible {
    /// The dataset path in the file ("/model/layers.0.attention.query_key_value.weight").
    public var name: String
    /// nil when the checkpoint lacks the tensor.
    public var checkpointShape: [Int]?
    /// nil when the model has no such parameter.
    public var modelShape: [Int]?

    public var description: String {
        switch (checkpointShape, modelShape) {
        case let (stored?, expected?): return "\(name): checkpoint shape \(stored), model shape \(expected)"
        case let (nil, expected?): return "\(name): missing from the checkpoint (model shape \(expected))"
        case let (stored?, nil): return "\(name): in the checkpoint (shape \(stored)) but not in the model"
        case (nil, nil): return "\(name)"
        }
    }
}

/// Why a checkpoint cannot be written or loaded, naming the file and what does not match.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An HDF5 file that is not a megatron-swift checkpoint.
    case notACheckpoint(file: String, reason: String)
    case unsupportedVersion(file: String, found: Int, supported: Int)
    /// The checkpoint's tensors do not fit the model built from the config.
    case tensorMismatch(file: String, mismatches: [TensorMismatch])
    /// A recorded setting differs from the one the run uses.
    case settingMismatch(file: String, setting: String, checkpoint: String, run: String)
    /// Rank 0 could not write the file; the other ranks learn it from this.
    case writeFailedOnRankZero(file: String)
    case noCheckpoint(directory: String)
    /// A data file tokenized with another vocabulary than the one the checkpoint was trained on.
    case vocabularyMismatch(checkpoint: String, checkpointVocabulary: CheckpointVocabulary,
                            data: String, dataVocabulary: CheckpointVocabulary)

    public var description: String {
        switch self {
        case let .notACheckpoint(file, reason):
            return "\(file): not a megatron-swift checkpoint (\(reason)); pass a file or directory written by `megatron train`"
        case let .unsupportedVersion(file, found, supported):
            return "\(file): checkpoint format version \(found), this build reads version \(supported); use the matching build"
        case let .tensorMismatch(file, mismatches):
            return "\(file): the checkpoint does not fit the model (\(mismatches.count) tensor\(mismatches.count == 1 ? "" : "s")):\n"
                + mismatches.prefix(12).map { "  - \($0)" }.joined(separator: "\n")
                + (mismatches.count > 12 ? "\n  - … and \(mismatches.count - 12) more" : "")
                + "\n  build the model with the config the checkpoint records (its `config` attribute)"
        case let .settingMismatch(file, setting, checkpoint, run):
            return "\(file): \(setting) is \(checkpoint) in the checkpoint but \(run) in this run; make them agree"
        case let .writeFailedOnRankZero(file):
            return "\(file): rank 0 failed to write the checkpoint (its error says why)"
        case let .noCheckpoint(directory):
            return "\(directory): no checkpoint-NNNNNNNN.h5 file to resume from; check the --resume directory"
        case let .vocabularyMismatch(checkpoint, recorded, data, found):
            return "\(data): prepared with \(found), but \(checkpoint) was trained on \(recorded), so its token ids "
                + "name other words; prepare the data with the checkpoint's vocabulary (`megatron prepare … --vocab-dir`), "
                + "or pass --accept-vocab-mismatch to use it knowingly"
        }
    }
}
