import CheckpointFormats
import Collectives
import Experiments
import Foundation
import HDF5Files
import Models
import Tasks
import TensorCore
import TensorParallel
import Testing
import Training

/// The fixtures of `scripts/reference/checkpoint_fixtures.py`: random GPT-2 and BERT saved by
/// transformers, and what transformers computes with them in float64.
enum ImportFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../CheckpointFormatsTests/Fixtures").standardized.path

    static func reference(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: "\(directory)/\(name)-reference.safetensors")
    }

    /// `megatron import hf` of the fixture into a fresh temporary checkpoint file.
    static func imported(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString).h5"
        _ = try HuggingFaceImport.run(from: "\(directory)/\(name)", to: path)
        return path
    }

    static func ints(_ file: SafetensorsFile, _ name: String) throws -> [Int32] {
        try file.tensor(name, as: Double.self).array.map { Int32($0) }
    }
}

/// max |ours − reference| / max |reference|.
func relativeDifference(_ ours: [Double], _ reference: [Double]) -> Double {
    precondition(ours.count == reference.count, "\(ours.count) values against \(reference.count)")
    let scale = reference.map(abs).max() ?? 0
    return zip(ours, reference).map { abs($0 - $1) }.max()! / scale
}

/// This rank's logits [N, V/t] for the real ids it owns, as (id, row) → value over the full
/// vocabulary of the reference; the padded columns are not the model's outputs.
func realLogits<T: TensorScalar>(_ logits: Tensor<T>, rank: Int, size: Int, paddedVocab: Int, vocab: Int) -> [Int: [Double]] {
    let range = VocabUtility.range(paddedVocabSize: paddedVocab, rank: rank, worldSize: size)
    var out: [Int: [Double]] = [:]
    for id in range where id < vocab {
        out[id] = (0..<logits.rows).map { Double(logits.pointer[$0 * logits.lastDimension + id - range.lowerBound]) }
    }
    return out
}

@Suite("megatron import hf: our metrics equal transformers'")
struct HuggingFaceImportTests {
    @Test(arguments: [1, 2, 4])
    func gpt2LogitsAndLossesInDouble(tp: Int) throws {
        let differences = try Self.gpt2(Double.self, tp: tp)
        for (name, d) in differences { #expect(d <= 1e-12, "\(name) at tp \(tp): \(d)") }
    }

    @Test(arguments: [1, 2, 4])
    func gpt2LogitsAndLossesInFloat(tp: Int) throws {
        let differences = try Self.gpt2(Float.self, tp: tp)
        for (name, d) in differences { #expect(d <= 1e-5, "\(name) at tp \(tp): \(d)") }
    }

    @Test(arguments: [1, 2, 4])
    func bertLogitsAndLossesInDouble(tp: Int) throws {
        let differences = try Self.bert(Double.self, tp: tp)
        for (name, d) in differences { #expect(d <= 1e-12, "\(name) at tp \(tp): \(d)") }
    }

    @Test(arguments: [1, 2, 4])
    func bertLogitsAndLossesInFloat(tp: Int) throws {
        let differences = try Self.bert(Float.self, tp: tp)
        for (name, d) in differences { #expect(d <= 1e-5, "\(name) at tp \(tp): \(d)") }
    }

    /// transformers' pre-LN MegatronBertForPreTraining, from the directory its save_pretrained
    /// wrote: a pre-LN BERT of ours with its logits and losses.
    @Test(arguments: [1, 2, 4])
    func megatronBertLogitsAndLosses(tp: Int) throws {
        let checkpoint = NSTemporaryDirectory() + "megatron-bert-tiny-\(UUID().uuidString).h5"
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let s = try HuggingFaceImport.run(from: "\(ImportFixtures.directory)/megatron-bert-tiny", to: checkpoint)
        #expect(s.architecture == "MegatronBertForPreTraining" && !s.imported.config.model.postLayerNorm)
        for (name, d) in try Self.bert(Double.self, tp: tp, checkpoint: checkpoint, reference: "megatron/bert-tiny") {
            #expect(d <= 1e-12, "\(name) at tp \(tp) in Double: \(d)")
        }
        for (name, d) in try Self.bert(Float.self, tp: tp, checkpoint: checkpoint, reference: "megatron/bert-tiny") {
            #expect(d <= 1e-5, "\(name) at tp \(tp) in Float: \(d)")
        }
    }

    /// WikiText-style perplexity over stride windows and LAMBADA decisions, through the tasks'
    /// own evaluation, at tp × dp layouts with the padded rows on the last shards.
    @Test(arguments: [(1, 1), (2, 1), (4, 1), (2, 2)])
    func perplexityAndLAMBADAEqualTransformers(tp: Int, dp: Int) throws {
        let checkpoint = try ImportFixtures.imported("gpt2-tiny")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let reference = try ImportFixtures.reference("gpt2-tiny")
        let stream = try ImportFixtures.ints(reference, "stream")
        let sequence = Int(try reference.tensor("stream_sequence", as: Double.self).array[0])
        let stride = Int(try reference.tensor("stream_stride", as: Double.self).array[0])
        let contexts = try ImportFixtures.ints(reference, "lambada_context")
        let targets = try ImportFixtures.ints(reference, "lambada_target")
        let contextOffsets = try ImportFixtures.ints(reference, "lambada_context_offsets").map(Int.init)
        let targetOffsets = try ImportFixtures.ints(reference, "lambada_target_offsets").map(Int.init)
        let examples = (0..<(contextOffsets.count - 1)).map { i in
            LAMBADAAccuracy.Example(context: Array(contexts[contextOffsets[i]..<contextOffsets[i + 1]]),
                                    target: Array(targets[targetOffsets[i]..<targetOffsets[i + 1]]))
        }
        let evaluation = try CheckpointEvaluation(checkpoint: checkpoint, tensorParallel: tp, dataParallel: dp)
        let config = TrainingRun(config: evaluation.config).gptConfig
        let results = try InProcessWorld.run(worldSize: tp * dp) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
            let group = TensorParallelGroup(grid.tensorParallel)
            let model = GPTModel<Double>(config: config, seed: 1, group: group)
            _ = try Checkpoint.readWeights(from: checkpoint, into: model.parameters, group: group)
            let perplexity = try WikiTextPerplexity(tokens: stream, originalTokenCount: 2, vocabSize: 100)
                .evaluate(model: model, dataParallel: grid.dataParallel, sequence: sequence, stride: stride, batch: 3)
            let cloze = try LAMBADAAccuracy(examples: examples, vocabSize: 100)
                .evaluate(model: model, dataParallel: grid.dataParallel, batch: 4)
            return (perplexity.lossSum, cloze.correctByExample, cloze.targetLossSum)
        }
        let lossSum = try reference.tensor("stream_loss_sum", as: Double.self).array[0]
        let correct = try reference.tensor("lambada_correct", as: Double.self).array.map { $0 != 0 }
        let lambadaLoss = try reference.tensor("lambada_loss_sum", as: Double.self).array[0]
        #expect(correct.contains(true) && correct.contains(false))
        for (ours, decisions, oursLambada) in results {
            #expect(abs(ours - lossSum) / lossSum <= 1e-12, "stream loss \(ours) against \(lossSum)")
            #expect(decisions == correct)
            #expect(abs(oursLambada - lambadaLoss) / lambadaLoss <= 1e-12, "LAMBADA loss \(oursLambada) against \(lambadaLoss)")
        }
    }

    static func gpt2<T: TensorScalar & HDF5Scalar>(_: T.Type, tp: Int) throws -> [String: Double] {
        let checkpoint = try ImportFixtures.imported("gpt2-tiny")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        return try gpt2(T.self, tp: tp, checkpoint: checkpoint)
    }

    /// The relative differences of `checkpoint`'s (gpt2-tiny's weights) logits and losses from
    /// transformers'.
    static func gpt2<T: TensorScalar & HDF5Scalar>(_: T.Type, tp: Int, checkpoint: String) throws -> [String: Double] {
        let reference = try ImportFixtures.reference("gpt2-tiny")
        let tokens = try ImportFixtures.ints(reference, "tokens"), labels = try ImportFixtures.ints(reference, "labels")
        let logits: Tensor<Double> = try reference.tensor("logits")
        let vocab = logits.lastDimension, rows = logits.rows
        let config = TrainingRun(config: try CheckpointEvaluation(checkpoint: checkpoint, tensorParallel: tp, dataParallel: 1).config).gptConfig
        let ranks = try InProcessWorld.run(worldSize: tp) { world in
            let group = TensorParallelGroup(world)
            let model = GPTModel<T>(config: config, seed: 1, group: group)
            let loaded = try Checkpoint.readWeights(from: checkpoint, into: model.parameters, group: group)
            precondition(loaded.initialized.isEmpty, "every GPT parameter comes from the import")
            let out = try model.forward(GPTInput(tokens: tokens, labels: labels),
                                        context: StepContext(step: 0, batch: 2, sequence: tokens.count / 2, dropoutSeed: 0, training: false))
            return (out.losses.array.map(Double.init),
                    realLogits(out.logits, rank: world.rank, size: tp, paddedVocab: config.paddedVocabSize, vocab: vocab))
        }
        var differences = ["losses": relativeDifference(ranks[0].0, try reference.tensor("losses", as: Double.self).array)]
        var ours = [Double](repeating: .nan, count: rows * vocab)
        for (_, shard) in ranks {
            for (id, column) in shard { for r in 0..<rows { ours[r * vocab + id] = column[r] } }
        }
        differences["logits"] = relativeDifference(ours, logits.array)
        return differences
    }

    static func bert<T: TensorScalar & HDF5Scalar>(_: T.Type, tp: Int) throws -> [String: Double] {
        let checkpoint = try ImportFixtures.imported("bert-tiny")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        return try bert(T.self, tp: tp, checkpoint: checkpoint, reference: "bert-tiny")
    }

    /// The relative differences of `checkpoint`'s masked-LM and binary logits and losses from
    /// those in the reference file `reference`-reference.safetensors.
    static func bert<T: TensorScalar & HDF5Scalar>(_: T.Type, tp: Int, checkpoint: String, reference name: String) throws -> [String: Double] {
        let reference = try ImportFixtures.reference(name)
        let tokens = try ImportFixtures.ints(reference, "tokens")
        let masked = try ImportFixtures.ints(reference, "masked_labels")
        let scored = masked.indices.filter { masked[$0] >= 0 }
        let input = BERTInput(tokens: tokens, tokenTypes: try ImportFixtures.ints(reference, "token_types"),
                              paddingMask: try ImportFixtures.ints(reference, "padding_mask").map(Float.init),
                              maskedLabels: masked.map { max($0, 0) }, maskedLossMask: masked.map { $0 >= 0 ? 1 : 0 },
                              binaryLabels: try ImportFixtures.ints(reference, "sentence_order_labels"))
        let allLogits: Tensor<Double> = try reference.tensor("mlm_logits")
        let vocab = allLogits.lastDimension
        let config = TrainingRun(config: try CheckpointEvaluation(checkpoint: checkpoint, tensorParallel: tp, dataParallel: 1).config).bertConfig
        let ranks = try InProcessWorld.run(worldSize: tp) { world in
            let group = TensorParallelGroup(world)
            let model = BERTModel<T>(config: config, seed: 1, group: group)
            let loaded = try Checkpoint.readWeights(from: checkpoint, into: model.parameters, group: group)
            precondition(loaded.initialized.isEmpty, "every BERT parameter comes from the import")
            let context = StepContext(step: 0, batch: 2, sequence: tokens.count / 2, dropoutSeed: 0, training: false)
            let out = try model.forward(input, context: context)
            let loss = try model.loss(input, context: context)
            return (loss.parts, out.binaryLogits.array.map(Double.init),
                    realLogits(out.maskedLogits, rank: world.rank, size: tp, paddedVocab: config.paddedVocabSize, vocab: vocab))
        }
        var ours = [Double](repeating: .nan, count: scored.count * vocab), expected = ours
        for (_, _, shard) in ranks {
            for (id, column) in shard { for r in scored.indices { ours[r * vocab + id] = column[r] } }
        }
        for (r, position) in scored.enumerated() {
            for id in 0..<vocab { expected[r * vocab + id] = allLogits.pointer[position * vocab + id] }
        }
        let parts = ranks[0].0
        return [
            "mlm_logits": relativeDifference(ours, expected),
            "binary_logits": relativeDifference(ranks[0].1, try reference.tensor("binary_logits", as: Double.self).array),
            "mlm_loss": relativeDifference([parts["mlm"]!], try reference.tensor("mlm_loss", as: Double.self).array),
            "binary_loss": relativeDifference([parts["binary"]!], try reference.tensor("binary_loss", as: Double.self).array),
        ]
    }
}
