import Foundation
import Models

extension StepTraceConfig {
    /// The keys of a `megatron simulate --config` file; those left out keep these defaults.
    struct File: Decodable {
        var layers: Int, hidden: Int, heads: Int, seq: Int
        /// The padded vocabulary (the embedding's rows).
        var vocab: Int
        var microBatch = 1, microBatches = 1, tp = 1, dp = 1, elementBytes = 4
        var recompute = false
        var loop = Loop.trainer

        enum CodingKeys: String, CodingKey, CaseIterable {
            case layers, hidden, heads, seq, vocab, microBatch, microBatches, tp, dp, elementBytes, recompute, loop
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            layers = try c.decode(Int.self, forKey: .layers)
            hidden = try c.decode(Int.self, forKey: .hidden)
            heads = try c.decode(Int.self, forKey: .heads)
            seq = try c.decode(Int.self, forKey: .seq)
            vocab = try c.decode(Int.self, forKey: .vocab)
            microBatch = try c.decodeIfPresent(Int.self, forKey: .microBatch) ?? microBatch
            microBatches = try c.decodeIfPresent(Int.self, forKey: .microBatches) ?? microBatches
            tp = try c.decodeIfPresent(Int.self, forKey: .tp) ?? tp
            dp = try c.decodeIfPresent(Int.self, forKey: .dp) ?? dp
            elementBytes = try c.decodeIfPresent(Int.self, forKey: .elementBytes) ?? elementBytes
            recompute = try c.decodeIfPresent(Bool.self, forKey: .recompute) ?? recompute
            loop = try c.decodeIfPresent(Loop.self, forKey: .loop) ?? loop
        }
    }

    /// Reads a JSON object with layers, hidden, heads, seq, vocab (padded) and optionally
    /// micro_batch, micro_batches, tp, dp, element_bytes, recompute, loop ("trainer" | "benchmark").
    public static func load(_ path: String) throws -> StepTraceConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw PerformanceModelError.unreadable(path: path) }
        let file: File
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            file = try decoder.decode(File.self, from: data)
        } catch {
            throw PerformanceModelError.malformed(path: path, reason: "not a simulation config (keys layers, hidden, heads, seq, vocab; "
                + "optional micro_batch, micro_batches, tp, dp, element_bytes, recompute, loop): \(error)")
        }
        let config = StepTraceConfig(
            model: GPTConfig(layers: file.layers, hidden: file.hidden, heads: file.heads, maxPositions: file.seq,
                             vocabSize: file.vocab, paddedVocabSize: file.vocab, attentionDropout: 0, hiddenDropout: 0),
            tensorParallel: file.tp, dataParallel: file.dp, microBatch: file.microBatch, microBatches: file.microBatches,
            sequence: file.seq, recomputeActivations: file.recompute, loop: file.loop, elementBytes: file.elementBytes)
        if !config.problems.isEmpty { throw PerformanceModelError.invalidConfig(source: path, problems: config.problems) }
        return config
    }
}
