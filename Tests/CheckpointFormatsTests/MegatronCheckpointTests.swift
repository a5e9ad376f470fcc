import CheckpointFormats
import Foundation
import TensorCore
import Testing

/// `megatron_fixtures.py`'s Megatron-LM checkpoints hold gpt2-tiny's weights at tp = 2 in each
/// checkpoint_version's layout: merged, they must be exactly the Hugging Face fixture's.
@Suite("Megatron-LM checkpoints: shards merged, query/key/value reordered")
struct MegatronCheckpointTests {
    static let directory = TorchSaveFileTests.directory
    static let huggingFace = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("gpt2-tiny").path

    /// What --vocab-size supplies where the args name no tokenizer (the fixtures' vocabulary is 100).
    static let options = MegatronCheckpoint.Options(vocabSize: 100)

    @Test(arguments: [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)])
    func everyVersionMergesToTheSameWeights(version: Int, checkpointVersion: Double) throws {
        let megatron = try MegatronCheckpoint(directory: "\(Self.directory)/gpt2-tiny-v\(version)",
                                              options: version == 0 ? .init(heads: 4, vocabSize: 100) : Self.options)
        let reference = try HuggingFaceModel(directory: Self.huggingFace)
        #expect(megatron.checkpointVersion == checkpointVersion && megatron.layout.shards.count == 2)
        #expect(megatron.checkpointVocabSize == 256 && megatron.hasArgs == (version > 0))
        #expect(megatron.description == reference.description)
        for name in reference.description.shapes.keys.sorted() {
            let ours: Tensor<Float> = try megatron.tensor(name, paddedVocabSize: 128)
            let theirs: Tensor<Float> = try reference.tensor(name, paddedVocabSize: 128)
            #expect(ours.shape == theirs.shape && ours.array == theirs.array, "v\(version) \(name)")
        }
    }

    /// The BERT fixtures hold one model in each version's layout (v3's is checked against
    /// transformers in MegatronImportTests): merged, every older version's tensors are v3's.
    @Test(arguments: [(0, 0.0), (1, 1.0), (2, 2.0)])
    func everyBERTVersionMergesToTheSameWeights(version: Int, checkpointVersion: Double) throws {
        let megatron = try MegatronCheckpoint(directory: "\(Self.directory)/bert-tiny-v\(version)",
                                              options: version == 0 ? .init(heads: 4, vocabSize: 100, gelu: .erf) : Self.options)
        let v3 = try MegatronCheckpoint(directory: "\(Self.directory)/bert-tiny-v3", options: Self.options)
        #expect(megatron.checkpointVersion == checkpointVersion && megatron.layout.shards.count == 2)
        #expect(megatron.checkpointVocabSize == 256 && megatron.hasArgs == (version > 0))
        #expect(megatron.description == v3.description && v3.description.family == .bert)
        for name in v3.description.shapes.keys.sorted() {
            let ours: Tensor<Float> = try megatron.tensor(name, paddedVocabSize: 128)
            let theirs: Tensor<Float> = try v3.tensor(name, paddedVocabSize: 128)
            #expect(ours.shape == theirs.shape && ours.array == theirs.array, "v\(version) \(name)")
        }
    }

    static func copy(_ fixture: String) throws -> String {
        let target = NSTemporaryDirectory() + "megatron-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: "\(directory)/\(fixture)", toPath: target)
        return target
    }

    @Test func aMissingRankIsNamed() throws {
        let d = try Self.copy("gpt2-tiny-v0")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.moveItem(atPath: "\(d)/release/mp_rank_01", toPath: "\(d)/release/mp_rank_02")
        #expect(throws: CheckpointFormatError.layout(directory: d, problem: "mp_rank_01 is missing among 3 tensor-parallel shards; copy the whole checkpoint")) {
            try MegatronCheckpoint(directory: d, options: .init(heads: 4, vocabSize: 100))
        }
    }

    @Test func shardsOfADifferentTensorParallelSizeAreNamed() throws {
        let d = try Self.copy("gpt2-tiny-v3")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.removeItem(atPath: "\(d)/iter_0000020/mp_rank_01")
        #expect(throws: CheckpointFormatError.layout(directory: d, problem: "mp_rank_00 was saved at tensor-parallel size 2, but the checkpoint has 1 shards; the shards come from different runs, or some are missing")) {
            try MegatronCheckpoint(directory: d, options: Self.options)
        }
    }

    @Test func shardsOfDifferentVersionsAreNamed() throws {
        let d = try Self.copy("gpt2-tiny-v2")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let shard = "mp_rank_01/model_optim_rng.pt"
        try FileManager.default.removeItem(atPath: "\(d)/release/\(shard)")
        try FileManager.default.copyItem(atPath: "\(Self.directory)/gpt2-tiny-v1/iter_0000010/\(shard)", toPath: "\(d)/release/\(shard)")
        #expect(throws: CheckpointFormatError.layout(directory: d, problem: "the shards have different checkpoint_version values [2.0, 1.0]")) {
            try MegatronCheckpoint(directory: d, options: Self.options)
        }
    }

    @Test func aShapeThatContradictsTheArgsIsNamed() throws {
        let d = "\(Self.directory)/bad/hidden-contradicts-args"
        #expect(throws: CheckpointFormatError.tensorContradictsConfig(
            file: "\(d)/release/mp_rank_00/model_optim_rng.pt", tensor: "embedding.word_embeddings.weight",
            problem: "implies hidden_size = 4, the checkpoint's args say 8")) {
            try MegatronCheckpoint(directory: d)
        }
    }

    @Test func withoutArgsTheHeadsAndVocabularyMustBeGiven() throws {
        let d = "\(Self.directory)/gpt2-tiny-v0"
        let file = "\(d)/release/mp_rank_00/model_optim_rng.pt"
        #expect(throws: CheckpointFormatError.config(file: file, field: "args.num_attention_heads",
                                                     problem: "absent (the checkpoint has no args); pass --heads (16 for the 345M models)")) {
            try MegatronCheckpoint(directory: d, options: .init(vocabSize: 100))
        }
        #expect(throws: CheckpointFormatError.tensorContradictsConfig(
            file: file, tensor: "embedding.word_embeddings.weight", problem: "256 rows over 2 ranks, fewer than the vocabulary's 300")) {
            try MegatronCheckpoint(directory: d, options: .init(heads: 4, vocabSize: 300))
        }
        let bert = "\(Self.directory)/bert-tiny-v0"
        #expect(throws: CheckpointFormatError.config(file: "\(bert)/release/mp_rank_00/model_optim_rng.pt", field: "args.tokenizer_type",
                                                     problem: "absent or unknown, so the vocabulary before padding is unknown; pass --vocab-size (50257 for GPT-2's BPE, 30522 for BERT uncased)")) {
            try MegatronCheckpoint(directory: bert, options: .init(heads: 4))
        }
    }

    @Test func anOptionThatContradictsTheArgsIsNamed() throws {
        let d = "\(Self.directory)/gpt2-tiny-v1"
        #expect(throws: CheckpointFormatError.config(file: "\(d)/iter_0000010/mp_rank_00/model_optim_rng.pt", field: "args.num_attention_heads",
                                                     problem: "4 contradicts --heads 8; leave --heads out, the checkpoint says it")) {
            try MegatronCheckpoint(directory: d, options: .init(heads: 8, vocabSize: 100))
        }
    }
}
