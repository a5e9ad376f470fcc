import Foundation

/// GPT-2's byte-level BPE (Radford et al. 2019), loaded from OpenAI's `encoder.json` (token →
/// id) and `vocab.bpe` (merges, highest priority first). Text is split by GPT-2's pattern,
/// each piece's UTF-8 bytes start as one token per byte and are merged by rank. Pieces seen
/// before come from a cache, as in OpenAI's encoder (one per concurrent `encode` call).
public final class GPT2BPETokenizer: Tokenizer {
    public let name = "gpt2"
    public let vocabSize: Int
    public let vocabFiles: [String]
    /// `<|endoftext|>`, which Megatron places between documents.
    public let endOfText: Int32

    private let vocabulary: GPT2Vocabulary
    private let caches = BPECachePool()

    /// Loads `encoder.json` and `vocab.bpe` from `directory`.
    public convenience init(vocabDirectory directory: String) throws {
        let encoderPath = vocabPath(directory, "encoder.json")
        let mergesPath = vocabPath(directory, "vocab.bpe")
        let vocabulary = try GPT2Vocabulary(encoderPath: encoderPath, mergesPath: mergesPath)
        self.init(vocabulary: vocabulary, files: [encoderPath, mergesPath])
    }

    private init(vocabulary: GPT2Vocabulary, files: [String]) {
        self.vocabulary = vocabulary
        self.vocabSize = vocabulary.tokenOffsets.count - 1
        self.vocabFiles = files
        self.endOfText = vocabulary.endOfText
    }

    /// The same vocabulary with an empty cache (to measure encoding from a cold start).
    public func withEmptyCache() -> GPT2BPETokenizer {
        GPT2BPETokenizer(vocabulary: vocabulary, files: vocabFiles)
    }

    public func encode(_ text: String, appendingTo ids: inout [Int32]) {
        var text = text
        text.withUTF8 { bytes in caches.withCache { cache in
            guard let base = bytes.baseAddress else { return }
            var scratch = MergeScratch(capacity: 64)
            var pieces = GPT2PreTokenizer(bytes)
            vocabulary.byteIDs.withUnsafeBufferPointer { byteIDs in
                while let piece = pieces.next() {
                    let count = piece.count
                    if count == 1 {
                        ids.append(byteIDs[Int(bytes[piece.lowerBound])])
                        continue
                    }
                    let key = base + piece.lowerBound
                    if cache.append(key, length: count, to: &ids) { continue }
                    scratch.reserve(count)
                    for k in 0..<count { scratch.symbols[k] = byteIDs[Int(key[k])] }
                    let merged = vocabulary.merges.apply(scratch.symbols, count: count,
                                                         pairs: scratch.pairs, changed: scratch.changed)
                    let result = UnsafeBufferPointer(start: scratch.symbols, count: merged)
                    ids.append(contentsOf: result)
                    cache.insert(key, length: count, ids: result)
                }
            }
            scratch.deallocate()
        } }
    }

    public func decode(_ ids: [Int32]) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        try vocabulary.tokenOffsets.withUnsafeBufferPointer { offsets in
            try vocabulary.tokenBytes.withUnsafeBufferPointer { tokenBytes in
                for id in ids {
                    guard id >= 0, Int(id) < vocabSize else {
                        throw TokenizerError.unknownID(id, vocabSize: vocabSize, tokenizer: name)
                    }
                    let range = Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1])
                    bytes.append(contentsOf: tokenBytes[range])
                }
            }
        }
        // Ids that split a multi-byte character decode to U+FFFD, as OpenAI's errors="replace".
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The immutable tables of a GPT-2 vocabulary: each token's bytes, the id of each single byte,
/// and the merges between ids.
struct GPT2Vocabulary: Sendable {
    /// Token `id` is `tokenBytes[tokenOffsets[id]..<tokenOffsets[id + 1]]`.
    let tokenBytes: [UInt8]
    let tokenOffsets: [Int32]
    let byteIDs: [Int32]
    let merges: BytePairMerges
    let endOfText: Int32

    init(encoderPath: String, mergesPath: String) throws {
        let encoderData = try readVocabFile(encoderPath, tokenizer: "gpt2")
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(encoderData))
        } catch {
            throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "it is not valid JSON (\(error.localizedDescription))")
        }
        guard let encoder = json as? [String: Any] else {
            throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "it is not a JSON object of token → id")
        }
        var byToken = [Int32: [UInt8]]()
        var ids = ByteStringTable(minimumCapacity: encoder.count)
        for (token, value) in encoder {
            guard let number = value as? NSNumber, let id = Int32(exactly: number.doubleValue), id >= 0 else {
                throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "token \(token.debugDescription) has id \(value), not a non-negative integer")
            }
            var bytes: [UInt8] = []
            for scalar in token.unicodeScalars {
                guard let b = ByteToUnicode.byte(for: scalar) else {
                    throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "token \(token.debugDescription) has U+\(String(scalar.value, radix: 16, uppercase: true)), outside GPT-2's byte alphabet")
                }
                bytes.append(b)
            }
            if byToken.updateValue(bytes, forKey: id) != nil {
                throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "id \(id) is given to two tokens")
            }
            ids.insert(bytes, value: id)
        }
        let vocabSize = encoder.count
        var tokenBytes: [UInt8] = []
        var tokenOffsets: [Int32] = [0]
        for id in 0..<Int32(vocabSize) {
            guard let bytes = byToken[id] else {
                throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "ids are not 0..<\(vocabSize): \(id) is missing")
            }
            tokenBytes.append(contentsOf: bytes)
            tokenOffsets.append(Int32(tokenBytes.count))
        }
        var byteIDs: [Int32] = []
        for b in 0...255 {
            guard let id = ids.value([UInt8(b)]) else {
                throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "byte \(b) has no token")
            }
            byteIDs.append(id)
        }
        self.tokenBytes = tokenBytes
        self.tokenOffsets = tokenOffsets
        self.byteIDs = byteIDs
        guard let endOfText = ids.value(Array("<|endoftext|>".utf8)) else {
            throw TokenizerError.corruptVocabFile(path: encoderPath, line: nil, reason: "it has no <|endoftext|> token")
        }
        self.endOfText = endOfText
        self.merges = try Self.readMerges(mergesPath, ids: ids)
    }

    /// `vocab.bpe`: a `#version` line, then one merge `left right` per line, in rank order.
    private static func readMerges(_ path: String, ids: ByteStringTable) throws -> BytePairMerges {
        let data = try readVocabFile(path, tokenizer: "gpt2")
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var merges = BytePairMerges(capacity: lines.count)
        var rank: Int32 = 0
        for (index, line) in lines.enumerated() {
            if line.isEmpty || (index == 0 && line.starts(with: Array("#version".utf8))) { continue }
            let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.corruptVocabFile(path: path, line: index + 1, reason: "expected two tokens separated by one space")
            }
            let tokens = try parts.map { part -> [UInt8] in
                var bytes: [UInt8] = []
                for scalar in String(decoding: part, as: UTF8.self).unicodeScalars {
                    guard let b = ByteToUnicode.byte(for: scalar) else {
                        throw TokenizerError.corruptVocabFile(path: path, line: index + 1, reason: "U+\(String(scalar.value, radix: 16, uppercase: true)) is outside GPT-2's byte alphabet")
                    }
                    bytes.append(b)
                }
                return bytes
            }
            guard let left = ids.value(tokens[0]), let right = ids.value(tokens[1]),
                  let merged = ids.value(tokens[0] + tokens[1]) else {
                throw TokenizerError.corruptVocabFile(path: path, line: index + 1, reason: "the merge or its parts are not tokens of encoder.json (are the two files from the same vocabulary?)")
            }
            merges.insert(left: left, right: right, rank: rank, merged: merged)
            rank += 1
        }
        if rank == 0 {
            throw TokenizerError.corruptVocabFile(path: path, line: nil, reason: "it holds no merges")
        }
        return merges
    }
}

/// Per-call buffers for merging one piece, grown to the longest piece seen.
private struct MergeScratch {
    private(set) var capacity = 0
    private(set) var symbols: UnsafeMutablePointer<Int32>
    private(set) var pairs: UnsafeMutablePointer<UInt64>
    private(set) var changed: UnsafeMutablePointer<Bool>

    init(capacity: Int) {
        self.capacity = capacity
        symbols = .allocate(capacity: capacity)
        pairs = .allocate(capacity: capacity)
        changed = .allocate(capacity: capacity)
    }

    mutating func reserve(_ count: Int) {
        guard count > capacity else { return }
        deallocate()
        self = MergeScratch(capacity: max(count, 2 * capacity))
    }

    func deallocate() {
        symbols.deallocate()
        pairs.deallocate()
        changed.deallocate()
    }
}

/// Caches lent to `encode` calls: each call takes one for itself, so concurrent calls never
/// contend per piece, only when taking and returning a cache.
final class BPECachePool: @unchecked Sendable {
    // @unchecked: `idle` is only touched while holding `lock`.
    private let lock = NSLock()
    private var idle: [BPEWordCache] = []

    func withCache<R>(_ body: (inout BPEWordCache) -> R) -> R {
        lock.lock()
        var cache = idle.popLast() ?? BPEWordCache()
        lock.unlock()
        defer {
            lock.lock()
            idle.append(cache)
            lock.unlock()
        }
        return body(&cache)
    }
}

/// Piece bytes → merged ids. Bounded: it starts over when full, so a long corpus cannot grow
/// it without limit.
struct BPEWordCache {
    private var table = ByteStringTable(minimumCapacity: 1 << 16)
    private var spans: [Int64] = []   // start << 32 | count into `ids`
    private var ids: [Int32] = []

    private static let maxPieces = 1 << 20
    private static let maxIDs = 1 << 24

    /// Appends the cached ids of `key[0..<length]` to `out`; false when not cached.
    @inline(__always)
    func append(_ key: UnsafePointer<UInt8>, length: Int, to out: inout [Int32]) -> Bool {
        guard let entry = table.value(key, length: length) else { return false }
        let span = spans[Int(entry)]
        let start = Int(span >> 32), count = Int(span & 0xFFFF_FFFF)
        ids.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<(start + count)])) }
        return true
    }

    mutating func insert(_ key: UnsafePointer<UInt8>, length: Int, ids piece: UnsafeBufferPointer<Int32>) {
        if spans.count >= Self.maxPieces || ids.count + piece.count > Self.maxIDs {
            table.removeAll()
            spans.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
        }
        spans.append(Int64(ids.count) << 32 | Int64(piece.count))
        ids.append(contentsOf: piece)
        table.insert(key, length: length, value: Int32(spans.count - 1))
    }
}
