import Foundation

/// Trains a small GPT-2-style byte-level BPE: text split by GPT-2's pre-tokenizer, each piece
/// as bytes, then the most frequent adjacent pair merged, `mergeCount` times (ties go to the
/// pair of lower ids). Writes `encoder.json` and `vocab.bpe` in OpenAI's layout, so
/// `GPT2BPETokenizer` loads the result like the real vocabulary.
enum ByteLevelBPETrainer {
    static let endOfText = "<|endoftext|>"

    struct Result {
        var tokens: [String]
        var merges: [(String, String)]
    }

    static func train(_ text: String, mergeCount: Int) -> Result {
        var wordCounts: [[UInt8]: Int] = [:]
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            var pieces = GPT2PreTokenizer(UnsafeBufferPointer(buffer))
            while let range = pieces.next() { wordCounts[Array(buffer[range]), default: 0] += 1 }
        }
        let byteOrder = (0..<256).sorted { isPrintable($0) != isPrintable($1) ? isPrintable($0) : $0 < $1 }
        var tokens = byteOrder.map { String(Character(ByteToUnicode.scalars[$0])) }
        var idOfByte = [Int](repeating: 0, count: 256)
        for (id, byte) in byteOrder.enumerated() { idOfByte[byte] = id }

        let sortedWords = wordCounts.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var words = sortedWords.map { $0.map { idOfByte[Int($0)] } }
        let counts = sortedWords.map { wordCounts[$0]! }
        var merges: [(String, String)] = []
        for _ in 0..<mergeCount {
            var pairCounts: [Int: Int] = [:]
            for (word, count) in zip(words, counts) where word.count > 1 {
                for i in 0..<(word.count - 1) { pairCounts[word[i] << 20 | word[i + 1], default: 0] += count }
            }
            guard let best = pairCounts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
                  best.value > 1 else { break }
            let (left, right) = (best.key >> 20, best.key & 0xFFFFF)
            let merged = tokens.count
            tokens.append(tokens[left] + tokens[right])
            merges.append((tokens[left], tokens[right]))
            for w in words.indices where words[w].count > 1 {
                var out: [Int] = []
                var i = 0
                let word = words[w]
                while i < word.count {
                    if i + 1 < word.count, word[i] == left, word[i + 1] == right {
                        out.append(merged)
                        i += 2
                    } else {
                        out.append(word[i])
                        i += 1
                    }
                }
                words[w] = out
            }
        }
        tokens.append(endOfText)
        return Result(tokens: tokens, merges: merges)
    }

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// `encoder.json` (token → id, keys in id order) and `vocab.bpe` (header + one merge a line).
    static func write(_ result: Result, to directory: String) throws {
        var json = "{"
        for (id, token) in result.tokens.enumerated() {
            let key = String(decoding: try JSONSerialization.data(withJSONObject: token, options: [.fragmentsAllowed]), as: UTF8.self)
            json += (id == 0 ? "" : ", ") + key + ": \(id)"
        }
        json += "}"
        let merges = "#version: 0.2\n" + result.merges.map { "\($0.0) \($0.1)\n" }.joined()
        try Data(json.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent("encoder.json"))
        try Data(merges.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent("vocab.bpe"))
    }
}
