import Foundation

/// A raw input file read whole, with what a prepared file records about it.
struct RawInput {
    let path: String
    let bytes: Data
    let name: String
    let sha256: String

    init(path: String, what: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataFileError(file: path, field: "--raw", problem: "no such file (\(what))",
                                fix: "point --raw at your copy of the file")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // Nothing to tokenize would make a file of no tokens that every loader later refuses
        // with a less direct message.
        if bytes.allSatisfy({ $0 == 0x20 || (0x09...0x0D).contains($0) }) {
            throw DataFileError.noText(file: path, byteCount: bytes.count, expected: what)
        }
        self.path = path
        self.bytes = bytes
        self.name = URL(fileURLWithPath: path).lastPathComponent
        self.sha256 = SHA256.hex(of: bytes)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Non-empty lines, for the jsonl inputs.
    var lines: [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: true).filter { !$0.allSatisfy(\.isWhitespace) }
    }

    func jsonObject(_ line: Substring, number: Int) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw DataFileError(file: path, field: "line \(number)", problem: "not a JSON object",
                                fix: "check the file is the jsonl the PROVENANCE describes")
        }
        return object
    }

    func field<T>(_ object: [String: Any], _ key: String, line: Int) throws -> T {
        guard let value = object[key] as? T else {
            throw DataFileError(file: path, field: "line \(line): \"\(key)\"", problem: "missing or of the wrong type",
                                fix: "check the file is the jsonl the PROVENANCE describes")
        }
        return value
    }
}

/// SHA-256 over the tokenizer's vocabulary files, concatenated in the order it lists them.
public func vocabularyChecksum(_ tokenizer: any Tokenizer) throws -> String {
    var hasher = SHA256()
    for file in tokenizer.vocabFiles {
        hasher.update(try Data(contentsOf: URL(fileURLWithPath: file)))
    }
    return hasher.finalize()
}

/// Reports (done, total) as preparation goes; the CLI turns it into a progress line.
public typealias PreparationProgress = (_ done: Int, _ total: Int) -> Void
