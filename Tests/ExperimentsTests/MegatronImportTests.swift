import CheckpointFormats
import Datasets
import Experiments
import Foundation
import HDF5Files
import TensorCore
import Testing
import Training

/// `megatron import megatron` of `megatron_fixtures.py`'s checkpoints (gpt2-tiny's weights and a
/// pre-LN BERT's at tp = 2, each checkpoint_version, both torch.save formats): our logits and
/// losses equal what transformers computes with the same weights, at every tp.
@Suite("megatron import megatron: our metrics equal transformers'")
struct MegatronImportTests {
    static let directory = "\(ImportFixtures.directory)/megatron"

    static func imported(version: Int) throws -> String {
        let path = NSTemporaryDirectory() + "megatron-v\(version)-\(UUID().uuidString).h5"
        _ = try MegatronImport.run(from: "\(directory)/gpt2-tiny-v\(version)", to: path,
                                   options: .init(heads: version == 0 ? 4 : nil, vocabSize: 100))
        return path
    }

    static let layouts = [0, 1, 2, 3].flatMap { v in [1, 2, 4].map { (v, $0) } }

    @Test(arguments: layouts)
    func logitsAndLossesInDouble(version: Int, tp: Int) throws {
        let checkpoint = try Self.imported(version: version)
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        for (name, d) in try HuggingFaceImportTests.gpt2(Double.self, tp: tp, checkpoint: checkpoint) {
            #expect(d <= 1e-12, "v\(version) \(name) at tp \(tp): \(d)")
        }
    }

    @Test(arguments: layouts)
    func logitsAndLossesInFloat(version: Int, tp: Int) throws {
        let checkpoint = try Self.imported(version: version)
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        for (name, d) in try HuggingFaceImportTests.gpt2(Float.self, tp: tp, checkpoint: checkpoint) {
            #expect(d <= 1e-5, "v\(version) \(name) at tp \(tp): \(d)")
        }
    }

    /// The pre-LN Megatron BERT, in each checkpoint_version, against transformers'
    /// MegatronBertForPreTraining. v0 has no args: the heads, vocabulary and GeLU (erf, as the
    /// reference) are given, as a user of NVIDIA's BERT 345M gives them.
    @Test(arguments: layouts)
    func bertLogitsAndLosses(version: Int, tp: Int) throws {
        let checkpoint = NSTemporaryDirectory() + "megatron-bert-v\(version)-\(UUID().uuidString).h5"
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let options = version == 0 ? MegatronCheckpoint.Options(heads: 4, vocabSize: 100, gelu: .erf) : .init(vocabSize: 100)
        let s = try MegatronImport.run(from: "\(Self.directory)/bert-tiny-v\(version)", to: checkpoint, options: options)
        #expect(s.imported.config.model.family == .bert && !s.imported.config.model.postLayerNorm && s.imported.initialized.isEmpty)
        for (name, d) in try HuggingFaceImportTests.bert(Double.self, tp: tp, checkpoint: checkpoint, reference: "megatron/bert-tiny") {
            #expect(d <= 1e-12, "v\(version) \(name) at tp \(tp) in Double: \(d)")
        }
        for (name, d) in try HuggingFaceImportTests.bert(Float.self, tp: tp, checkpoint: checkpoint, reference: "megatron/bert-tiny") {
            #expect(d <= 1e-5, "v\(version) \(name) at tp \(tp) in Float: \(d)")
        }
    }

    /// An import given the vocabulary directory records it, so evaluating on data prepared with
    /// that vocabulary needs no warning; a vocabulary of another size is refused by name. (The
    /// tiny trained GPT, exported to Hugging Face's layout, stands for downloaded weights.)
    @Test func importsRecordTheVocabularySoEvaluationChecksIt() throws {
        let f = try CheckpointFixtures.get()
        let directory = try CheckpointVocabularyTests.temporaryDirectory("import-vocabulary")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try HuggingFaceExport.run(checkpoint: f.gpt, to: "\(directory)/hf", tokenizerDirectory: nil)
        let checkpoint = "\(directory)/imported.h5"
        let s = try HuggingFaceImport.run(from: "\(directory)/hf", to: checkpoint, vocabularyDirectory: f.data.gpt2VocabDirectory)
        let data = CheckpointVocabulary(try TokenFile(path: f.data.gptTest, kind: .evaluationStream, remedy: "").header)
        #expect(s.imported.vocabulary == data)
        #expect(try Checkpoint.contents(of: checkpoint).model.vocabulary == data)
        let lines = CheckpointVocabularyTests.Lines()
        let metrics = try CheckpointEvaluation(checkpoint: checkpoint, tensorParallel: 1, dataParallel: 1)
            .evaluate([ExperimentSpec.Evaluation(task: .wikitext103, data: [f.data.gptTest], stride: 16)]) { lines.append($0) }
        #expect(metrics["wikitext103.token_ppl"]!.isFinite)
        #expect(!lines.all.contains { $0.contains("warning") }, "\(lines.all)")

        #expect(throws: CheckpointFormatError.config(
            file: f.data.gpt2VocabDirectory, field: "vocabulary",
            problem: "gpt2 with 657 ids, the model has 100; pass the directory of the vocabulary it was trained with")) {
            _ = try MegatronImport.run(from: "\(Self.directory)/gpt2-tiny-v1", to: "\(directory)/wrong.h5",
                                       options: .init(vocabSize: 100), vocabularyDirectory: f.data.gpt2VocabDirectory)
        }
    }
}
