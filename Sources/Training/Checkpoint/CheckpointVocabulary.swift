import Datasets

/// Which vocabulary a checkpoint's token ids belong to: the tokenizer's name and the SHA-256 of
/// its vocabulary files, as the data file it was trained on records them (`@tokenizer`,
/// `@vocab_sha256`, docs/data-format.md). A checkpoint stores them as the root attributes
/// `tokenizer` and `vocab_sha256`; one imported from elsewhere records the vocabulary it comes
/// with. Two vocabularies of the same size can still give the same id to different words, so
/// the size alone does not say that a data file suits a model.
public struct CheckpointVocabulary: Sendable, Equatable, CustomStringConvertible {
    public var tokenizer: String
    public var sha256: String

    public init(tokenizer: String, sha256: String) {
        self.tokenizer = tokenizer
        self.sha256 = sha256
    }

    /// The vocabulary a prepared data file was tokenized with.
    public init(_ header: TokenFileHeader) {
        self.init(tokenizer: header.tokenizer, sha256: header.vocabSHA256)
    }

    public var description: String { "tokenizer \(tokenizer), vocab_sha256 \(sha256)" }

    /// Checks that `data` (the vocabulary of the file at `dataFile`) is the one the checkpoint at
    /// `checkpoint` records. Throws `CheckpointError.vocabularyMismatch` when they differ, unless
    /// `acceptMismatch`; returns a warning to print when the mismatch is accepted or the
    /// checkpoint records no vocabulary (written before checkpoints did), nil when they agree.
    public static func check(_ recorded: CheckpointVocabulary?, checkpoint: String,
                             against data: CheckpointVocabulary, dataFile: String,
                             acceptMismatch: Bool) throws -> String? {
        guard let recorded else {
            return "warning: \(checkpoint) records no vocabulary (written before checkpoints did); "
                + "\(dataFile) (\(data)) is taken to match it"
        }
        guard recorded != data else { return nil }
        guard acceptMismatch else {
            throw CheckpointError.vocabularyMismatch(checkpoint: checkpoint, checkpointVocabulary: recorded,
                                                     data: dataFile, dataVocabulary: data)
        }
        return "warning: \(dataFile) (\(data)) is not the vocabulary of \(checkpoint) (\(recorded)); "
            + "used as asked (--accept-vocab-mismatch)"
    }
}
