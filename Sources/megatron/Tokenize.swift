import ArgumentParser
import Datasets
import Foundation

/// Shows what the model sees: the ids of each line of a text file, or (`--decode`) the text of
/// each line of ids.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of each input line, space-separated (--decode: the reverse).")

    @Option(help: "Tokenizer: \(TokenizerKind.allCases.map(\.rawValue).joined(separator: " or ")).")
    var tokenizer: TokenizerKind

    @Option(help: "Directory of the vocabulary files (gpt2: encoder.json, vocab.bpe; bert: vocab.txt). Default: ../shared/datasets/gpt2_bpe or ../shared/datasets/bert_wordpiece.")
    var vocabDir: String?

    @Flag(help: "Read lines of space-separated ids and print their text.")
    var decode = false

    @Argument(help: "Input file, one text (or id line) per line; - reads standard input.")
    var file: String

    func run() throws {
        let tokenizer = try self.tokenizer.load(vocabDirectory: vocabDir)
        var lines = try readLines(file).makeIterator()
        var output: [UInt8] = []
        var ids: [Int32] = []
        var lineNumber = 0
        while let line = lines.next() {
            lineNumber += 1
            if decode {
                ids = try parseIDs(line, lineNumber: lineNumber)
                output.append(contentsOf: try tokenizer.decode(ids).utf8)
            } else {
                ids.removeAll(keepingCapacity: true)
                tokenizer.encode(String(decoding: line, as: UTF8.self), appendingTo: &ids)
                appendDecimal(ids, to: &output)
            }
            output.append(UInt8(ascii: "\n"))
            if output.count >= 1 << 16 { flush(&output) }
        }
        flush(&output)
    }

    private func readLines(_ path: String) throws -> [ArraySlice<UInt8>] {
        let data: Data?
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: path)
        }
        guard let data else { throw TokenizeError.unreadable(path) }
        var lines = [UInt8](data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }   // the file's final newline
        return lines
    }

    private func parseIDs(_ line: ArraySlice<UInt8>, lineNumber: Int) throws -> [Int32] {
        try line.split(separator: UInt8(ascii: " ")).map { field in
            guard let id = Int32(String(decoding: field, as: UTF8.self)) else {
                throw TokenizeError.notAnID(file, line: lineNumber, String(decoding: field, as: UTF8.self))
            }
            return id
        }
    }

    private func appendDecimal(_ ids: [Int32], to output: inout [UInt8]) {
        var digits: [UInt8] = []
        for (k, id) in ids.enumerated() {
            if k > 0 { output.append(UInt8(ascii: " ")) }
            if id < 0 { output.append(UInt8(ascii: "-")) }
            var v = id.magnitude
            digits.removeAll(keepingCapacity: true)
            repeat {
                digits.append(UInt8(ascii: "0") + UInt8(v % 10))
                v /= 10
            } while v > 0
            output.append(contentsOf: digits.reversed())
        }
    }

    private func flush(_ output: inout [UInt8]) {
        FileHandle.standardOutput.write(Data(output))
        output.removeAll(keepingCapacity: true)
    }
}

enum TokenizeError: Error, CustomStringConvertible {
    case unreadable(String)
    case notAnID(String, line: Int, String)

    var description: String {
        switch self {
        case let .unreadable(path):
            return "cannot read \(path): give an existing text file (or - for standard input)"
        case let .notAnID(path, line, field):
            return "\(path):\(line): \(field.debugDescription) is not a token id; --decode reads lines of space-separated integers as `megatron tokenize` prints them"
        }
    }
}

extension TokenizerKind: ExpressibleByArgument {}
