import Datasets
import Foundation

/// Paths to the real data the tokenizer tests read: `../shared/datasets` beside the repository
/// root, and the goldens committed next to this file.
enum SharedData {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden").path

    static var datasets: String {
        repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets").path
    }

    /// The file's bytes, or an error telling where the shared datasets are expected.
    static func contents(_ relativePath: String) throws -> [UInt8] {
        let path = datasets + "/" + relativePath
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MissingSharedData(path: path)
        }
        return [UInt8](data)
    }

    /// Each line with its newline, split only at `\n` (as the golden script splits).
    static func linesWithNewline(_ relativePath: String) throws -> [String] {
        let text = String(decoding: try contents(relativePath), as: UTF8.self)
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let last = parts.removeLast()
        return parts.map { $0 + "\n" } + (last.isEmpty ? [] : [last])
    }

    /// The JSON object on each non-empty line.
    static func jsonLines(_ relativePath: String) throws -> [[String: Any]] {
        try contents(relativePath).split(separator: UInt8(ascii: "\n")).map {
            guard let object = try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] else {
                throw MissingSharedData(path: datasets + "/" + relativePath)
            }
            return object
        }
    }

    static func gpt2() throws -> GPT2BPETokenizer {
        try loadedGPT2.get()
    }

    static func bert() throws -> BERTWordPieceTokenizer {
        try loadedBERT.get()
    }
}

/// Loaded once for all tests (loading GPT-2's encoder.json is the slow part).
private let loadedGPT2 = Result { try GPT2BPETokenizer(vocabDirectory: SharedData.datasets + "/gpt2_bpe") }
private let loadedBERT = Result { try BERTWordPieceTokenizer(vocabDirectory: SharedData.datasets + "/bert_wordpiece") }

struct MissingSharedData: Error, CustomStringConvertible {
    let path: String
    var description: String {
        "cannot read \(path): the tokenizer tests need the shared datasets folder ../shared/datasets "
            + "beside the repository root (see its README.md); they are not skipped without it"
    }
}

/// One reference set written by scripts/reference/tokenizer_golden.py: per unit the id count
/// and FNV-1a 64 of the ids, and the ids themselves for the first few units.
struct Golden {
    struct Unit {
        let count: Int
        let hash: UInt64
        let ids: [Int32]?
    }

    let name: String
    let units: [Unit]
    let totalIDs: Int

    init(_ name: String) throws {
        self.name = name
        let path = SharedData.goldenDirectory + "/" + name + ".golden"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MissingSharedData(path: path)
        }
        var units: [Unit] = []
        var total = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# units ") {
                total = Int(line.split(separator: " ")[4])!
                continue
            }
            if line.hasPrefix("#") { continue }
            let halves = line.split(separator: "|", maxSplits: 1)
            let fields = halves[0].split(separator: " ")
            let ids = halves.count > 1 ? halves[1].split(separator: " ").map { Int32($0)! } : nil
            units.append(Unit(count: Int(fields[0])!, hash: UInt64(fields[1], radix: 16)!, ids: ids))
        }
        self.units = units
        self.totalIDs = total
    }

    /// nil when `encode` reproduces every unit; otherwise a report of the first difference.
    func firstDifference(_ texts: [String], _ encode: (String) -> [Int32]) -> String? {
        guard texts.count == units.count else {
            return "\(texts.count) units of input but \(units.count) in the golden: regenerate it with scripts/reference/tokenizer_golden.py"
        }
        var differing = 0
        var first: String? = nil
        var total = 0
        for (i, text) in texts.enumerated() {
            let ids = encode(text)
            total += ids.count
            let unit = units[i]
            if ids.count == unit.count && fnv1a64(ids) == unit.hash { continue }
            differing += 1
            if first == nil {
                let reference = unit.ids.map { "\($0)" } ?? "\(unit.count) ids (print them with tokenizer_golden.py --show \(name) \(i))"
                first = "unit \(i): \(String(text.prefix(300)).debugDescription)\n  ours:      \(ids)\n  reference: \(reference)"
            }
        }
        if let first { return "\(differing) of \(texts.count) units differ; first: \(first)" }
        if total != totalIDs { return "\(total) ids in all, the golden says \(totalIDs)" }
        return nil
    }
}

/// FNV-1a 64 over the ids as little-endian int32, as the golden script computes it.
func fnv1a64(_ ids: [Int32]) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for id in ids {
        var v = UInt32(bitPattern: id)
        for _ in 0..<4 {
            h = (h ^ UInt64(v & 0xFF)) &* 0x100_0000_01B3
            v >>= 8
        }
    }
    return h
}
