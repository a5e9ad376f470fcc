import Collectives
import Datasets
import Experiments
import Foundation
import Models
import Testing
import TensorCore
import TensorParallel
import Training

/// Checkpoints record the vocabulary of their training data (`tokenizer`, `vocab_sha256`), and
/// evaluation, fine-tuning and resuming stop when a data file was tokenized with another one,
/// even of the same size, unless told to accept it.
@Suite struct CheckpointVocabularyTests {
    /// What a run logs, from its rank threads.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        var all: [String] { lock.withLock { stored } }
        func append(_ line: String) { lock.withLock { stored.append(line) } }
    }

    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A copy of the tiny GPT-2 vocabulary with the ids of two tokens swapped: the same size, the
    /// same tokenizer name, another checksum, and ids that name other words.
    static func swappedGPT2Vocabulary(_ data: TinyData.Files, into directory: String) throws -> GPT2BPETokenizer {
        let source = URL(fileURLWithPath: data.gpt2VocabDirectory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var encoder = try JSONSerialization.jsonObject(
            with: Data(contentsOf: source.appendingPathComponent("encoder.json"))) as! [String: Int]
        let a = encoder.first { $0.value == 100 }!.key, b = encoder.first { $0.value == 101 }!.key
        (encoder[a], encoder[b]) = (101, 100)
        try JSONSerialization.data(withJSONObject: encoder, options: [.sortedKeys])
            .write(to: URL(fileURLWithPath: "\(directory)/encoder.json"))
        try FileManager.default.copyItem(atPath: source.appendingPathComponent("vocab.bpe").path,
                                         toPath: "\(directory)/vocab.bpe")
        return try GPT2BPETokenizer(vocabDirectory: directory)
    }

    @Test func checkpointsRecordTheirTrainingDataVocabulary() throws {
        let f = try CheckpointFixtures.get()
        for (checkpoint, data, kind) in [(f.gpt, f.data.gptTrain, TokenFileSchema.Kind.gptDocuments),
                                         (f.race, f.data.racePrepared, .race)] {
            let header = try TokenFile(path: data, kind: kind, remedy: "").header
            let recorded = try Checkpoint.contents(of: try CheckpointEvaluation.resolve(checkpoint)).model.vocabulary
            #expect(recorded == CheckpointVocabulary(tokenizer: header.tokenizer, sha256: header.vocabSHA256))
        }
    }

    /// The GPT checkpoint on a WikiText stream tokenized with a vocabulary of the same size but
    /// another checksum: the named error, then, accepted, an evaluation with a warning.
    @Test func evaluationRefusesAnotherVocabularyOfTheSameSize() throws {
        let f = try CheckpointFixtures.get()
        let directory = try Self.temporaryDirectory("vocab-eval")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let swapped = try Self.swappedGPT2Vocabulary(f.data, into: "\(directory)/gpt2_bpe")
        let out = "\(directory)/test.h5"
        try WikiTextPreparation.prepareEvaluation(raw: f.data.testTokens, out: out, tokenizer: swapped)
        let original = try TokenFile(path: f.data.gptTest, kind: .evaluationStream, remedy: "").header
        let other = try TokenFile(path: out, kind: .evaluationStream, remedy: "").header
        #expect(other.vocabSize == original.vocabSize && other.tokenizer == original.tokenizer)
        #expect(other.vocabSHA256 != original.vocabSHA256)

        let task = [ExperimentSpec.Evaluation(task: .wikitext103, data: [out], stride: 16)]
        let checkpoint = try CheckpointEvaluation.resolve(f.gpt)
        #expect(throws: CheckpointError.vocabularyMismatch(
            checkpoint: checkpoint, checkpointVocabulary: CheckpointVocabulary(original),
            data: out, dataVocabulary: CheckpointVocabulary(other))) {
            try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 1, dataParallel: 1).evaluate(task) { _ in }
        }
        let lines = Lines()
        let metrics = try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 1, dataParallel: 1,
                                               acceptVocabularyMismatch: true).evaluate(task) { lines.append($0) }
        #expect(metrics["wikitext103.token_ppl"]!.isFinite)
        #expect(lines.all.contains { $0.hasPrefix("warning: \(out)") && $0.contains("--accept-vocab-mismatch") })
        #expect("\(CheckpointError.vocabularyMismatch(checkpoint: checkpoint, checkpointVocabulary: CheckpointVocabulary(original), data: out, dataVocabulary: CheckpointVocabulary(other)))"
            .contains("--accept-vocab-mismatch"))
    }

    /// `train --resume` on data of another vocabulary stops before a step; accepted, it continues
    /// and its new checkpoints record the vocabulary it now trains on.
    @Test func resumingOnAnotherVocabularyIsRefused() throws {
        let f = try CheckpointFixtures.get()
        let directory = try Self.temporaryDirectory("vocab-resume")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let swapped = try Self.swappedGPT2Vocabulary(f.data, into: "\(directory)/gpt2_bpe")
        let train = "\(directory)/train.h5"
        try WikiTextPreparation.prepareTraining(raw: f.data.trainTokens, out: train, tokenizer: swapped,
                                                endOfDocument: swapped.endOfText)
        let checkpoints = "\(directory)/checkpoints"
        try FileManager.default.copyItem(atPath: f.gpt, toPath: checkpoints)
        let recorded = try Checkpoint.contents(of: try CheckpointDirectory(path: checkpoints).latest()).model
        var config = try TrainingConfig.decode(Data(recorded.configJSON.utf8))
        config.training.steps = 3
        config.training.trainData = train
        config.training.checkpointDirectory = checkpoints
        let trainVocabulary = CheckpointVocabulary(try TokenFile(path: train, kind: .gptDocuments, remedy: "").header)

        #expect(throws: CheckpointError.vocabularyMismatch(
            checkpoint: try CheckpointDirectory(path: checkpoints).latest(), checkpointVocabulary: recorded.vocabulary!,
            data: train, dataVocabulary: trainVocabulary)) {
            let run = TrainingRun(config: config, resume: checkpoints)
            _ = try InProcessWorld.run(worldSize: 1) { world in try run.run(world: world) { _ in } }
        }
        let lines = Lines()
        let run = TrainingRun(config: config, resume: checkpoints, acceptVocabularyMismatch: true)
        let outcome = try InProcessWorld.run(worldSize: 1) { world in try run.run(world: world) { lines.append($0) } }[0]
        #expect(outcome.steps == 3)
        #expect(lines.all.contains { $0.hasPrefix("warning: \(train)") })
        #expect(try Checkpoint.contents(of: try CheckpointDirectory(path: checkpoints).latest()).model.vocabulary == trainVocabulary)
    }

    /// Fine-tuning a BERT on RACE data of another WordPiece vocabulary of the same size stops.
    @Test func fineTuningOnAnotherVocabularyIsRefused() throws {
        let f = try CheckpointFixtures.get()
        let directory = try Self.temporaryDirectory("vocab-race")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var words = try String(contentsOfFile: "\(f.data.bertVocabDirectory)/vocab.txt", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        let last = words.lastIndex { !$0.isEmpty }!
        words.swapAt(last, last - 1)
        try FileManager.default.createDirectory(atPath: "\(directory)/bert", withIntermediateDirectories: true)
        try Data(words.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/bert/vocab.txt"))
        let race = "\(directory)/race.h5"
        try RACEPreparation.prepare(raw: f.data.race, out: race, tokenizer: try BERTWordPieceTokenizer(vocabDirectory: "\(directory)/bert"),
                                    maxSequenceLength: TinyData.Files.raceSequenceLength, maxQALength: 32)
        let finetuning = try RACEFineTuning(checkpoint: f.bert, trainData: race,
                                            options: .init(steps: 1, microBatch: 1, globalBatch: 1, out: "\(directory)/out"))
        #expect {
            _ = try finetuning.run(evaluate: [race]) { _ in }
        } throws: { error in
            guard case let CheckpointError.vocabularyMismatch(_, _, data, _) = error else { return false }
            return data == race
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/out"))
    }

    /// A checkpoint written before the vocabulary was recorded evaluates as before, with a warning.
    @Test func olderCheckpointsLoadWithAWarning() throws {
        let f = try CheckpointFixtures.get()
        let directory = try Self.temporaryDirectory("vocab-old")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let current = try CheckpointEvaluation.resolve(f.gpt)
        let contents = try Checkpoint.contents(of: current)
        let config = try TrainingConfig.decode(Data(contents.model.configJSON.utf8))
        let older = "\(directory)/checkpoint-00000002.h5"
        _ = try InProcessWorld.run(worldSize: 1) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 1, dataParallel: 1)
            let model = GPTModel<Float>(config: TrainingRun(config: config).gptConfig, seed: 1, group: TensorParallelGroup(world))
            let optimizer = Optimizer(parameters: model.parameters, schedule: LearningRateSchedule(maxRate: 1e-3, decaySteps: 1),
                                      hyperparameters: AdamWHyperparameters(learningRate: 1e-3), maxGradientNorm: nil)
            let state = try Checkpoint.read(from: current, into: optimizer, group: TensorParallelGroup(world)).state
            try Checkpoint.write(to: older, optimizer: optimizer, grid: grid,
                                 model: CheckpointModelInfo(configJSON: contents.model.configJSON,
                                                            paddedVocabSize: contents.model.paddedVocabSize),
                                 state: state)
        }
        #expect(try Checkpoint.contents(of: older).model.vocabulary == nil)
        let task = [ExperimentSpec.Evaluation(task: .wikitext103, data: [f.data.gptTest], stride: 16)]
        let lines = Lines()
        let metrics = try CheckpointEvaluation(checkpoint: older, tensorParallel: 1, dataParallel: 1).evaluate(task) { lines.append($0) }
        // The same weights; OpenBLAS's thread count is process-wide and other tests running
        // alongside change it, which moves Float products' last bits (3e-9 relative seen in the
        // perplexity): equal to Float rounding, far under any difference of weights or data.
        let expected = try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 1, dataParallel: 1).evaluate(task) { _ in }
        #expect(metrics.keys.sorted() == expected.keys.sorted())
        for (key, value) in expected { #expect(abs(metrics[key]! - value) <= 1e-6 * abs(value), "\(key)") }
        #expect(lines.all.contains { $0.hasPrefix("warning: \(older) records no vocabulary") })
    }
}
