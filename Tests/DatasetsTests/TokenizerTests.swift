import Datasets
import Dispatch
import Foundation
import Testing

@Suite("GPT-2 BPE")
struct GPT2BPETokenizerTests {
    @Test func decodeInvertsEncodeOnEveryWikiTextLine() throws {
        let gpt2 = try SharedData.gpt2()
        var failures = 0
        for line in try SharedData.linesWithNewline("wikitext-103/wiki.test.tokens") {
            let back = try gpt2.decode(gpt2.encode(line))
            if back != line {
                failures += 1
                if failures == 1 { Issue.record("round trip changed \(line.debugDescription) into \(back.debugDescription)") }
            }
        }
        #expect(failures == 0)
    }

    @Test func decodeInvertsEncodeOnUnusualText() throws {
        let gpt2 = try SharedData.gpt2()
        for text in ["", " ", "\n\n", "  a  ", "日本語 🎉👍🏽 e\u{301}", "\u{0}\u{7F}\u{FEFF}", "'s'S''", String(repeating: "=", count: 500)] {
            #expect(try gpt2.decode(gpt2.encode(text)) == text)
        }
    }

    @Test func specialTokenAndVocabularySize() throws {
        let gpt2 = try SharedData.gpt2()
        // Ids documented in ../shared/datasets/gpt2_bpe/PROVENANCE.md.
        #expect(gpt2.vocabSize == 50257)
        #expect(gpt2.endOfText == 50256)
        #expect(try gpt2.decode([gpt2.endOfText]) == "<|endoftext|>")
    }

    @Test func contractionsAndSpacesSplitAsThePatternSays() throws {
        let gpt2 = try SharedData.gpt2()
        #expect(gpt2.encode("don't") == gpt2.encode("don") + gpt2.encode("'t"))
        #expect(gpt2.encode("we'll go") == gpt2.encode("we") + gpt2.encode("'ll") + gpt2.encode(" go"))
        // Of a run of spaces before a word, the last joins the word.
        #expect(gpt2.encode("a   b") == gpt2.encode("a") + gpt2.encode("  ") + gpt2.encode(" b"))
    }

    @Test func cacheGivesTheSameIdsColdWarmAndAcrossThreads() throws {
        let gpt2 = try SharedData.gpt2()
        let lines = Array(try SharedData.linesWithNewline("wikitext-103/wiki.test.tokens").prefix(400))
        let cold = lines.map { gpt2.withEmptyCache().encode($0) }
        let shared = gpt2.withEmptyCache()
        let results = Results(lines.count)
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            for i in stride(from: k, to: lines.count, by: 4) { results.set(i, shared.encode(lines[i])) }
        }
        #expect(results.values == cold)
        #expect(lines.map { shared.encode($0) } == cold)
    }

    @Test func decodeRejectsIdsOutsideTheVocabulary() throws {
        let gpt2 = try SharedData.gpt2()
        #expect(throws: TokenizerError.unknownID(50257, vocabSize: 50257, tokenizer: "gpt2")) {
            try gpt2.decode([15496, 50257])
        }
        #expect(throws: TokenizerError.self) { try gpt2.decode([-1]) }
    }
}

@Suite("BERT WordPiece")
struct BERTWordPieceTokenizerTests {
    @Test func specialTokens() throws {
        let bert = try SharedData.bert()
        // Ids documented in ../shared/datasets/bert_wordpiece/PROVENANCE.md.
        #expect(bert.vocabSize == 30522)
        #expect(bert.specialTokens.pad == 0)
        #expect(bert.specialTokens.unknown == 100)
        #expect(bert.specialTokens.cls == 101)
        #expect(bert.specialTokens.sep == 102)
        #expect(bert.specialTokens.mask == 103)
    }

    @Test func lowerCasesAndStripsAccents() throws {
        let bert = try SharedData.bert()
        #expect(bert.encode("Café NAÏVE Ångström") == bert.encode("cafe naive angstrom"))
        #expect(bert.encode("e\u{301}lan") == bert.encode("élan"))
    }

    @Test func splitsPunctuationAndChineseCharacters() throws {
        let bert = try SharedData.bert()
        #expect(bert.encode("hello,world!(yes)") == bert.encode("hello , world ! ( yes )"))
        #expect(bert.encode("a$b^c`d") == bert.encode("a $ b ^ c ` d"))
        #expect(bert.encode("中文字") == bert.encode("中 文 字"))
        #expect(bert.encode("中文字").count == 3)
    }

    @Test func dropsControlCharactersAndSplitsOnUnicodeSpaces() throws {
        let bert = try SharedData.bert()
        #expect(bert.encode("hel\u{0}lo\u{200B}") == bert.encode("hello"))
        #expect(bert.encode("one\u{A0}two\u{3000}three\tfour") == bert.encode("one two three four"))
    }

    @Test func unknownWords() throws {
        let bert = try SharedData.bert()
        let unk = bert.specialTokens.unknown
        #expect(bert.encode(String(repeating: "a", count: 101)) == [unk])
        #expect(!bert.encode(String(repeating: "a", count: 100)).contains(unk))
        // A character with no piece spoils its whole word, not its neighbours.
        let noPiece = "\u{1F389}"
        #expect(bert.encode(noPiece) == [unk])
        #expect(bert.encode("abc\(noPiece)def ok") == [unk] + bert.encode("ok"))
    }

    @Test func decodeGluesContinuationPieces() throws {
        let bert = try SharedData.bert()
        let ids = bert.encode("Unaffable tokenization, indeed.")
        #expect(ids.count > 5)
        #expect(try bert.decode(ids) == "unaffable tokenization , indeed .")
        #expect(throws: TokenizerError.unknownID(30522, vocabSize: 30522, tokenizer: "bert-uncased")) {
            try bert.decode([30522])
        }
    }
}

@Suite("Tokenizer vocabulary errors")
struct TokenizerVocabularyErrorTests {
    @Test func missingFilesNameTheFile() throws {
        let directory = try temporaryDirectory()
        #expect(throws: TokenizerError.missingVocabFile(path: directory + "/encoder.json", tokenizer: "gpt2")) {
            try GPT2BPETokenizer(vocabDirectory: directory)
        }
        #expect(throws: TokenizerError.missingVocabFile(path: directory + "/vocab.txt", tokenizer: "bert")) {
            try BERTWordPieceTokenizer(vocabDirectory: directory)
        }
        let message = "\(TokenizerError.missingVocabFile(path: directory + "/vocab.txt", tokenizer: "bert"))"
        #expect(message.contains(directory + "/vocab.txt") && message.contains("--vocab-dir"))
    }

    @Test func corruptGPT2FilesAreReportedWithTheirLine() throws {
        let directory = try temporaryDirectory()
        let gpt2 = SharedData.datasets + "/gpt2_bpe/"
        try write("{\"a\": ", to: directory + "/encoder.json")
        #expect(throws: TokenizerError.self) { try GPT2BPETokenizer(vocabDirectory: directory) }

        try FileManager.default.removeItem(atPath: directory + "/encoder.json")
        try FileManager.default.copyItem(atPath: gpt2 + "encoder.json", toPath: directory + "/encoder.json")
        try write("#version: 0.2\nĠ t\nnot-a-token x\n", to: directory + "/vocab.bpe")
        do {
            _ = try GPT2BPETokenizer(vocabDirectory: directory)
            Issue.record("a merge of unknown tokens was accepted")
        } catch let TokenizerError.corruptVocabFile(path, line, _) {
            #expect(path == directory + "/vocab.bpe")
            #expect(line == 3)
        }
    }

    @Test func bertVocabularyWithoutUnknownTokenIsCorrupt() throws {
        let directory = try temporaryDirectory()
        try write("[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n", to: directory + "/vocab.txt")
        #expect(throws: TokenizerError.corruptVocabFile(path: directory + "/vocab.txt", line: nil, reason: "it has no [UNK] token")) {
            try BERTWordPieceTokenizer(vocabDirectory: directory)
        }
    }

    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "tokenizer-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}

/// Per-index results written from `concurrentPerform`.
private final class Results: @unchecked Sendable {
    // @unchecked: each index is written by one thread, and read after the threads join.
    private var storage: [[Int32]]
    init(_ n: Int) { storage = [[Int32]](repeating: [], count: n) }
    func set(_ i: Int, _ ids: [Int32]) { storage.withUnsafeMutableBufferPointer { $0[i] = ids } }
    var values: [[Int32]] { storage }
}
