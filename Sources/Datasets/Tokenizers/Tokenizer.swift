/// Text to token ids and back: what `megatron prepare` and `megatron tokenize` need from GPT-2's
/// byte-level BPE and BERT's WordPiece alike.
public protocol Tokenizer: Sendable {
    /// A short name recorded with prepared data (`gpt2`, `bert-uncased`).
    var name: String { get }
    /// Number of ids, special tokens included; every id `encode` returns is below it.
    var vocabSize: Int { get }
    /// The files the vocabulary was read from, so prepared data can record their checksums.
    var vocabFiles: [String] { get }
    /// Appends the ids of `text` (no special tokens added) to `ids`, so a caller concatenating
    /// many documents reuses one array.
    func encode(_ text: String, appendingTo ids: inout [Int32])
    /// The text of `ids`; throws `TokenizerError.unknownID` for an id outside the vocabulary.
    func decode(_ ids: [Int32]) throws -> String
}

extension Tokenizer {
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        encode(text, appendingTo: &ids)
        return ids
    }
}

/// The tokenizers a user can name on the command line (`--tokenizer gpt2|bert`).
public enum TokenizerKind: String, CaseIterable, Sendable {
    case gpt2
    case bert

    /// Where the vocabulary lives when no directory is given: the shared datasets folder beside
    /// the repository, as seen from the repository root.
    public var defaultVocabDirectory: String {
        switch self {
        case .gpt2: return "../shared/datasets/gpt2_bpe"
        case .bert: return "../shared/datasets/bert_wordpiece"
        }
    }

    /// Loads this kind's vocabulary from `directory` (or the default one).
    public func load(vocabDirectory directory: String? = nil) throws -> any Tokenizer {
        let directory = directory ?? defaultVocabDirectory
        switch self {
        case .gpt2: return try GPT2BPETokenizer(vocabDirectory: directory)
        case .bert: return try BERTWordPieceTokenizer(vocabDirectory: directory)
        }
    }
}
