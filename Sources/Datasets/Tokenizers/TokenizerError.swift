import Foundation

/// What went wrong while loading a vocabulary or decoding ids, with the file and the fix.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The vocabulary file does not exist or cannot be read.
    case missingVocabFile(path: String, tokenizer: String)
    /// The vocabulary file exists but its content is not what the tokenizer expects.
    case corruptVocabFile(path: String, line: Int?, reason: String)
    /// An id passed to `decode` lies outside the vocabulary.
    case unknownID(Int32, vocabSize: Int, tokenizer: String)

    public var description: String {
        switch self {
        case let .missingVocabFile(path, tokenizer):
            return "cannot read \(path): the \(tokenizer) tokenizer needs it. "
                + "Point --vocab-dir at a directory holding the \(tokenizer) vocabulary files "
                + "(see ../shared/datasets/*/PROVENANCE.md for where to download them)."
        case let .corruptVocabFile(path, line, reason):
            let place = line.map { "\(path):\($0)" } ?? path
            return "\(place): \(reason). The file is damaged or is not this tokenizer's vocabulary; "
                + "download it again (see ../shared/datasets/*/PROVENANCE.md for the expected checksum)."
        case let .unknownID(id, vocabSize, tokenizer):
            return "token id \(id) is outside the \(tokenizer) vocabulary (ids 0..<\(vocabSize)); "
                + "the ids were made with another tokenizer or vocabulary."
        }
    }
}

/// The bytes of a vocabulary file, or `missingVocabFile` naming it.
func readVocabFile(_ path: String, tokenizer: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw TokenizerError.missingVocabFile(path: path, tokenizer: tokenizer)
    }
    return [UInt8](data)
}

/// `directory/name`, without doubling a trailing slash.
func vocabPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
