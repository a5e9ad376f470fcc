import Foundation

/// BERT's uncased WordPiece tokenizer: the basic tokenizer (`BERTCharacter`) splits and
/// normalizes words, then each word becomes the greedy longest-match pieces of `vocab.txt`,
/// continuation pieces prefixed `##`; a word with no such split, or longer than 100
/// characters, becomes `[UNK]`. Literal `[CLS]` etc. in the text are text, not special tokens.
public struct BERTWordPieceTokenizer: Tokenizer {
    public let name = "bert-uncased"
    public let vocabSize: Int
    public let vocabFiles: [String]
    public let specialTokens: BERTSpecialTokens

    /// Whole-word pieces and `##` pieces (stored without the `##`), keyed by UTF-8 bytes.
    private let initialPieces: ByteStringTable
    private let continuationPieces: ByteStringTable
    /// The longest vocabulary entry in characters: no longer match needs to be tried.
    private let longestPiece: Int
    /// Token `id` is `tokenBytes[tokenOffsets[id]..<tokenOffsets[id + 1]]`.
    private let tokenBytes: [UInt8]
    private let tokenOffsets: [Int32]
    private let characters = BERTCharacterTable()

    static let maxWordCharacters = 100

    /// Loads `vocab.txt` (one token per line, the line number is the id) from `directory`.
    public init(vocabDirectory directory: String) throws {
        let path = vocabPath(directory, "vocab.txt")
        let data = try readVocabFile(path, tokenizer: "bert")
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var initial = ByteStringTable(minimumCapacity: lines.count)
        var continuation = ByteStringTable(minimumCapacity: lines.count)
        var tokenBytes: [UInt8] = []
        var tokenOffsets: [Int32] = [0]
        var longest = 0
        let prefix = Array("##".utf8)
        for (index, rawLine) in lines.enumerated() {
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard Array(String(decoding: line, as: UTF8.self).utf8) == line else {
                throw TokenizerError.corruptVocabFile(path: path, line: index + 1, reason: "it is not UTF-8")
            }
            let id = Int32(index)
            initial.insert(line, value: id)
            var characters = String(decoding: line, as: UTF8.self).unicodeScalars.count
            if line.starts(with: prefix) {
                continuation.insert(Array(line.dropFirst(2)), value: id)
                characters -= 2
            }
            longest = max(longest, characters)
            tokenBytes.append(contentsOf: line)
            tokenOffsets.append(Int32(tokenBytes.count))
        }
        func special(_ token: String) throws -> Int32 {
            guard let id = initial.value(Array(token.utf8)) else {
                throw TokenizerError.corruptVocabFile(path: path, line: nil, reason: "it has no \(token) token")
            }
            return id
        }
        specialTokens = BERTSpecialTokens(
            pad: try special("[PAD]"), unknown: try special("[UNK]"), cls: try special("[CLS]"),
            sep: try special("[SEP]"), mask: try special("[MASK]"))
        vocabSize = lines.count
        vocabFiles = [path]
        initialPieces = initial
        continuationPieces = continuation
        longestPiece = longest
        self.tokenBytes = tokenBytes
        self.tokenOffsets = tokenOffsets
    }

    public func encode(_ text: String, appendingTo ids: inout [Int32]) {
        var text = text
        text.withUTF8 { bytes in
            var word = WordBuffer()
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                if b < 0x80 {
                    i += 1
                    switch BERTCharacter(ascii: b) {
                    case .text:
                        word.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b)
                    case .whitespace:
                        appendPieces(of: &word, to: &ids)
                    case .punctuation:
                        appendPieces(of: &word, to: &ids)
                        word.append(b)
                        appendPieces(of: &word, to: &ids)
                    case .removed, .chinese:
                        break
                    }
                    continue
                }
                let (scalar, length) = decodeUTF8Scalar(bytes, at: i)
                i += length
                let kind = characters.kind(of: scalar)
                switch kind {
                case .removed:
                    continue
                case .whitespace:
                    appendPieces(of: &word, to: &ids)
                    continue
                case .chinese:
                    appendPieces(of: &word, to: &ids)
                case .text, .punctuation:
                    break
                }
                characters.forEachForm(of: scalar) { value, isPunctuation in
                    if isPunctuation {
                        appendPieces(of: &word, to: &ids)
                        word.append(scalar: value)
                        appendPieces(of: &word, to: &ids)
                    } else {
                        word.append(scalar: value)
                    }
                }
                if kind == .chinese { appendPieces(of: &word, to: &ids) }
            }
            appendPieces(of: &word, to: &ids)
            word.deallocate()
        }
    }

    /// WordPiece on the word in `word` (then emptied): greedy longest match from the left.
    private func appendPieces(of word: inout WordBuffer, to ids: inout [Int32]) {
        let characterCount = word.characterCount
        guard characterCount > 0 else { return }
        defer { word.removeAll() }
        if characterCount > Self.maxWordCharacters {
            ids.append(specialTokens.unknown)
            return
        }
        let firstPiece = ids.count
        var start = 0
        while start < characterCount {
            let startByte = start == 0 ? 0 : word.characterEnds[start - 1]
            let table = start == 0 ? initialPieces : continuationPieces
            var end = min(characterCount, start + longestPiece)
            var found: Int32? = nil
            while end > start {
                if let id = table.value(word.bytes + startByte, length: word.characterEnds[end - 1] - startByte) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.removeSubrange(firstPiece...)
                ids.append(specialTokens.unknown)
                return
            }
            ids.append(id)
            start = end
        }
    }

    /// The text of `ids`: tokens joined by spaces, `##` pieces glued to the one before
    /// (`" ".join(tokens).replace(" ##", "")`, as Hugging Face's BertTokenizer decodes).
    public func decode(_ ids: [Int32]) throws -> String {
        var bytes: [UInt8] = []
        for (k, id) in ids.enumerated() {
            guard id >= 0, Int(id) < vocabSize else {
                throw TokenizerError.unknownID(id, vocabSize: vocabSize, tokenizer: name)
            }
            var token = tokenBytes[Int(tokenOffsets[Int(id)])..<Int(tokenOffsets[Int(id) + 1])]
            if k > 0 {
                if token.starts(with: [UInt8(ascii: "#"), UInt8(ascii: "#")]) {
                    token = token.dropFirst(2)
                } else {
                    bytes.append(UInt8(ascii: " "))
                }
            }
            bytes.append(contentsOf: token)
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}

/// The ids BERT's input format and masking need.
public struct BERTSpecialTokens: Sendable, Equatable {
    public let pad: Int32
    public let unknown: Int32
    public let cls: Int32
    public let sep: Int32
    public let mask: Int32
}

/// The word being built: its UTF-8 bytes and the byte offset after each character, in buffers
/// reused for every word of one `encode` call.
private struct WordBuffer {
    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var characterEnds: UnsafeMutablePointer<Int>
    private(set) var byteCount = 0
    private(set) var characterCount = 0
    private var capacity = 128

    init() {
        bytes = .allocate(capacity: capacity * 4)
        characterEnds = .allocate(capacity: capacity)
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserveOneMore()
        bytes[byteCount] = byte
        byteCount += 1
        characterEnds[characterCount] = byteCount
        characterCount += 1
    }

    mutating func append(scalar value: UInt32) {
        reserveOneMore()
        for b in Unicode.UTF8.encode(Unicode.Scalar(value)!)! {
            bytes[byteCount] = b
            byteCount += 1
        }
        characterEnds[characterCount] = byteCount
        characterCount += 1
    }

    mutating func removeAll() {
        byteCount = 0
        characterCount = 0
    }

    func deallocate() {
        bytes.deallocate()
        characterEnds.deallocate()
    }

    @inline(__always)
    private mutating func reserveOneMore() {
        guard characterCount == capacity else { return }
        let newCapacity = 2 * capacity
        let newBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity * 4)
        newBytes.update(from: bytes, count: byteCount)
        let newEnds = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        newEnds.update(from: characterEnds, count: characterCount)
        deallocate()
        bytes = newBytes
        characterEnds = newEnds
        capacity = newCapacity
    }
}
