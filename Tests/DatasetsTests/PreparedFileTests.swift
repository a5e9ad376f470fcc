import Datasets
import Foundation
import HDF5Files
import Testing

@Suite("Prepared token files")
struct PreparedFileTests {
    @Test func tinyDataIsByteIdenticalWhenRegenerated() throws {
        let first = try TinyFixture.files()
        let second = try TinyData.write(to: TinyFixture.freshDirectory("again"))
        let names = try FileManager.default.contentsOfDirectory(atPath: first.directory).filter { $0.hasSuffix(".h5") }
        #expect(names.count == 5)
        for name in names + ["tiny.train.tokens", "tiny_race.jsonl", "gpt2_bpe/encoder.json", "gpt2_bpe/vocab.bpe",
                             "bert_wordpiece/vocab.txt"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: first.directory).appendingPathComponent(name))
            let b = try Data(contentsOf: URL(fileURLWithPath: second.directory).appendingPathComponent(name))
            #expect(a == b, "\(name) differs between two runs")
        }
    }

    @Test func gptTrainingFileReadsBackAsItsArticles() throws {
        let tiny = try TinyFixture.files()
        let tokenizer = try GPT2BPETokenizer(vocabDirectory: tiny.gpt2VocabDirectory)
        let file = try TokenFile(path: tiny.gptTrain, kind: .gptDocuments, remedy: "regenerate")
        #expect(file.header.tokenizer == tokenizer.name)
        #expect(file.header.vocabSize == tokenizer.vocabSize)
        #expect(file.header.sourceFile == "tiny.train.tokens")
        #expect(file.header.sourceSHA256 == SHA256.hex(of: try Data(contentsOf: URL(fileURLWithPath: tiny.trainTokens))))
        let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tiny.trainTokens)), as: UTF8.self)
        let articles = WikiTextPreparation.splitArticles(raw)
        #expect(file.documentCount == articles.count && articles.count == 16)
        for (index, article) in articles.enumerated() {
            let document = Array(file.document(index))
            #expect(document.last == tokenizer.endOfText)
            let expected = WikiTextDetokenizer.detokenize(article).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try tokenizer.decode(Array(document.dropLast())) == expected)
        }
        #expect(try file.integerAttribute(TokenFileSchema.Attribute.endOfDocument) == Int(tokenizer.endOfText))
    }

    @Test func evaluationAndLambadaFilesRecordWhatEvaluationNeeds() throws {
        let tiny = try TinyFixture.files()
        let tokenizer = try GPT2BPETokenizer(vocabDirectory: tiny.gpt2VocabDirectory)
        let eval = try TokenFile(path: tiny.gptTest, kind: .evaluationStream, remedy: "regenerate")
        let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tiny.testTokens)), as: UTF8.self)
        let pieces = raw.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", omittingEmptySubsequences: false)
        #expect(try eval.integerAttribute(TokenFileSchema.Attribute.originalTokenCount) == pieces.count)
        #expect(eval.documentCount == 1)
        #expect(try tokenizer.decode(eval.tokens) == WikiTextDetokenizer.detokenize(raw))

        let lambada = try TokenFile(path: tiny.lambadaPrepared, kind: .lambada, remedy: "regenerate")
        let targets = try lambada.dataset(TokenFileSchema.Dataset.targetOffsets, as: Int64.self, count: lambada.documentCount)
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tiny.lambada)), as: UTF8.self)
            .split(separator: "\n")
        #expect(lines.count == lambada.documentCount)
        for (index, line) in lines.enumerated() {
            let text = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])["text"]!
            let target = Int(targets[index])
            let word = String(text.split(separator: " ").last!)
            #expect(try tokenizer.decode(Array(lambada.tokens[target..<lambada.documentOffsets[index + 1]])) == " " + word)
            #expect(try tokenizer.decode(Array(lambada.tokens[lambada.documentOffsets[index]..<target]))
                    == String(text.dropLast(word.count)).trimmingCharacters(in: .whitespaces))
        }
    }

    /// An empty or whitespace-only input is refused by name, by every preparation, before
    /// anything is written.
    @Test func emptyOrBlankInputIsRefused() throws {
        let tiny = try TinyFixture.files()
        let gpt2 = try GPT2BPETokenizer(vocabDirectory: tiny.gpt2VocabDirectory)
        let bert = try BERTWordPieceTokenizer(vocabDirectory: tiny.bertVocabDirectory)
        let directory = TinyFixture.freshDirectory("blank")
        for (name, text) in [("empty.tokens", ""), ("blank.tokens", " \n\t\n  \r\n")] {
            let raw = "\(directory)/\(name)", out = "\(directory)/\(name).h5"
            try Data(text.utf8).write(to: URL(fileURLWithPath: raw))
            let preparations: [(String, () throws -> Void)] = [
                ("a WikiText .tokens file", { try WikiTextPreparation.prepareEvaluation(raw: raw, out: out, tokenizer: gpt2) }),
                ("a WikiText .tokens file", {
                    try WikiTextPreparation.prepareTraining(raw: raw, out: out, tokenizer: gpt2, endOfDocument: gpt2.endOfText)
                }),
                ("lambada_test.jsonl", { try LambadaPreparation.prepare(raw: raw, out: out, tokenizer: gpt2) }),
                ("a WikiText .tokens file", { try BERTPreparation.prepare(raw: raw, out: out, tokenizer: bert) }),
                ("a RACE jsonl file", {
                    try RACEPreparation.prepare(raw: raw, out: out, tokenizer: bert, maxSequenceLength: 128, maxQALength: 32)
                }),
            ]
            for (expected, prepare) in preparations {
                #expect(throws: DataFileError.noText(file: raw, byteCount: text.utf8.count, expected: expected)) {
                    try prepare()
                }
            }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        #expect("\(DataFileError.noText(file: "x", byteCount: 0, expected: "y"))".contains("empty"))
    }

    @Test func vocabularyThatDoesNotMatchTheDataIsRefused() throws {
        let tiny = try TinyFixture.files()
        let file = try TokenFile(path: tiny.gptTrain, kind: .gptDocuments, remedy: "regenerate")
        let gpt2 = try GPT2BPETokenizer(vocabDirectory: tiny.gpt2VocabDirectory)
        let bert = try BERTWordPieceTokenizer(vocabDirectory: tiny.bertVocabDirectory)
        try file.checkCompatible(tokenizer: gpt2.name, vocabSize: gpt2.vocabSize, vocabSHA256: try vocabularyChecksum(gpt2))
        let wrongName = #expect(throws: DataFileError.self) {
            try file.checkCompatible(tokenizer: bert.name, vocabSize: bert.vocabSize, vocabSHA256: try vocabularyChecksum(bert))
        }
        #expect(wrongName?.field == "/@tokenizer")
        #expect(wrongName?.file == tiny.gptTrain)
        let wrongSize = #expect(throws: DataFileError.self) {
            try file.checkCompatible(tokenizer: gpt2.name, vocabSize: 50257, vocabSHA256: try vocabularyChecksum(gpt2))
        }
        #expect(wrongSize?.field == "/@vocab_size")
        let wrongFiles = #expect(throws: DataFileError.self) {
            try file.checkCompatible(tokenizer: gpt2.name, vocabSize: gpt2.vocabSize, vocabSHA256: String(repeating: "0", count: 64))
        }
        #expect(wrongFiles?.field == "/@vocab_sha256")
        let wrongKind = #expect(throws: DataFileError.self) {
            try TokenFile(path: tiny.gptTrain, kind: .race, remedy: "regenerate")
        }
        #expect(wrongKind?.field == "/@kind")
    }

    @Test func inconsistentOrTruncatedFilesAreErrorsNotCrashes() throws {
        let tiny = try TinyFixture.files()
        let directory = TinyFixture.freshDirectory("bad")
        let header = TokenFileHeader(kind: .gptDocuments, tokenizer: "t", vocabSize: 10, vocabSHA256: "v",
                                     sourceFile: "s", sourceSHA256: "h")
        let outOfVocabulary = directory + "/ids.h5"
        try writeTokenFile(path: outOfVocabulary, header: header, tokens: [1, 2, 12], documentOffsets: [0, 3])
        let idError = #expect(throws: DataFileError.self) {
            try TokenFile(path: outOfVocabulary, kind: .gptDocuments, remedy: "regenerate")
        }
        #expect(idError?.field == "/tokens")

        let badOffsets = directory + "/offsets.h5"
        let file = try HDF5File(creating: badOffsets)
        let strings = ["format": "megatron-swift-tokens", "kind": "gpt-documents", "tokenizer": "t",
                       "vocab_sha256": "v", "source_file": "s", "source_sha256": "h"]
        for (name, value) in strings { try file.root.setAttribute(name, value) }
        try file.root.setAttribute("format_version", Int64(1))
        try file.root.setAttribute("vocab_size", Int64(10))
        try file.root.createDataset("tokens", [Int32(1), 2, 3])
        try file.root.createDataset("doc_offsets", [Int64(0), 1_000_000])
        try file.commit()
        let offsetError = #expect(throws: DataFileError.self) {
            try TokenFile(path: badOffsets, kind: .gptDocuments, remedy: "regenerate")
        }
        #expect(offsetError?.field == "/doc_offsets")

        let whole = try Data(contentsOf: URL(fileURLWithPath: tiny.gptTrain))
        let truncated = directory + "/truncated.h5"
        try whole.prefix(whole.count - 4000).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: HDF5Error.self) { try TokenFile(path: truncated, kind: .gptDocuments, remedy: "regenerate") }
    }
}
