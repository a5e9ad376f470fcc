import Foundation

/// The tiny data set: raw files in the real data's formats, tiny GPT-2 BPE and WordPiece
/// vocabularies trained on them, and the prepared HDF5 files. Takes well under a second.
public enum TinyData {
    public struct Files: Sendable {
        public let directory: String
        public var trainTokens: String { path("tiny.train.tokens") }
        public var testTokens: String { path("tiny.test.tokens") }
        public var lambada: String { path("tiny_lambada.jsonl") }
        public var race: String { path("tiny_race.jsonl") }
        public var gpt2VocabDirectory: String { path("gpt2_bpe") }
        public var bertVocabDirectory: String { path("bert_wordpiece") }
        /// Prepared with the tiny GPT-2 vocabulary: training documents, the evaluation stream, LAMBADA.
        public var gptTrain: String { path("tiny-gpt2-train.h5") }
        public var gptTest: String { path("tiny-gpt2-test.h5") }
        public var lambadaPrepared: String { path("tiny-lambada.h5") }
        /// Prepared with the tiny WordPiece vocabulary: BERT sentences and RACE (max length 128).
        public var bertTrain: String { path("tiny-bert-train.h5") }
        public var racePrepared: String { path("tiny-race.h5") }

        public static let raceSequenceLength = 128

        func path(_ name: String) -> String {
            URL(fileURLWithPath: directory).appendingPathComponent(name).path
        }
    }

    /// Writes everything into `directory` (created if needed) and returns where it all is.
    @discardableResult
    public static func write(to directory: String) throws -> Files {
        let files = Files(directory: directory)
        let manager = FileManager.default
        for folder in [directory, files.gpt2VocabDirectory, files.bertVocabDirectory] {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var generator = TinyCorpus.Generator(random: SplitMix64(key: 0x7469_6E79))
        let train = (0..<16).map { generator.article($0) }.joined()
        let test = (16..<20).map { generator.article($0) }.joined()
        try write(" \n" + train, to: files.trainTokens)
        try write(" \n" + test, to: files.testTokens)
        let lambada = try (0..<48).map { _ in
            String(decoding: try JSONSerialization.data(withJSONObject: ["text": generator.clozePassage()], options: [.sortedKeys]),
                   as: UTF8.self)
        }
        try write(lambada.map { $0 + "\n" }.joined(), to: files.lambada)
        let race = try (0..<12).map {
            String(decoding: try JSONSerialization.data(withJSONObject: generator.raceArticle($0), options: [.sortedKeys]),
                   as: UTF8.self)
        }
        try write(race.map { $0 + "\n" }.joined(), to: files.race)

        let vocabularyText = WikiTextDetokenizer.detokenize(train + test) + lambada.joined() + race.joined()
        try ByteLevelBPETrainer.write(ByteLevelBPETrainer.train(vocabularyText, mergeCount: 400),
                                      to: files.gpt2VocabDirectory)
        try TinyWordPieceVocabulary.write(TinyWordPieceVocabulary.build(vocabularyText, wordCount: 120),
                                          to: files.bertVocabDirectory)

        let gpt2 = try GPT2BPETokenizer(vocabDirectory: files.gpt2VocabDirectory)
        let bert = try BERTWordPieceTokenizer(vocabDirectory: files.bertVocabDirectory)
        try WikiTextPreparation.prepareTraining(raw: files.trainTokens, out: files.gptTrain, tokenizer: gpt2,
                                                endOfDocument: gpt2.endOfText)
        try WikiTextPreparation.prepareEvaluation(raw: files.testTokens, out: files.gptTest, tokenizer: gpt2)
        try LambadaPreparation.prepare(raw: files.lambada, out: files.lambadaPrepared, tokenizer: gpt2)
        try BERTPreparation.prepare(raw: files.trainTokens, out: files.bertTrain, tokenizer: bert)
        try RACEPreparation.prepare(raw: files.race, out: files.racePrepared, tokenizer: bert,
                                    maxSequenceLength: Files.raceSequenceLength, maxQALength: 32)
        return files
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
