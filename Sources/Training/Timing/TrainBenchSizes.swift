import Foundation
import Models
import TensorParallel

/// The sizes of a timed GPT training step (`megatron bench train`, the `scaling` experiment's
/// runs): as flags and as the keys of a JSON object. Keys left out keep config A's values
/// (6 layers, hidden 512, 8 heads, seq 256, vocab 8192, batch 8, 2 threads, tp = dp = 1).
public struct TrainBenchSizes: Codable, Sendable, Equatable {
    public var layers = 6, hidden = 512, heads = 8, seq = 256, vocab = 8192, batch = 8, threads = 2, tp = 1, dp = 1

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case layers, hidden, heads, seq, vocab, batch, threads, tp, dp
    }

    public init() {}

    /// Keys the object leaves out keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys, _ fallback: Int) throws -> Int {
            try c.decodeIfPresent(Int.self, forKey: key) ?? fallback
        }
        layers = try value(.layers, layers)
        hidden = try value(.hidden, hidden)
        heads = try value(.heads, heads)
        seq = try value(.seq, seq)
        vocab = try value(.vocab, vocab)
        batch = try value(.batch, batch)
        threads = try value(.threads, threads)
        tp = try value(.tp, tp)
        dp = try value(.dp, dp)
    }

    /// Reads a JSON file of sizes.
    public static func load(_ path: String) throws -> TrainBenchSizes {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingConfigError(source: path, problems: [ConfigProblem(keyPath: "", problem: "cannot read the file; give a readable JSON file")])
        }
        do {
            return try JSONDecoder().decode(TrainBenchSizes.self, from: data)
        } catch {
            throw TrainingConfigError(source: path, problems: [ConfigProblem(
                keyPath: "", problem: "not a JSON object of integer sizes (\(CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))): \(error)")])
        }
    }

    /// Every size that cannot run, at once; `source` names where the sizes came from.
    public func check(source: String) throws {
        var problems: [ConfigProblem] = []
        for (name, value) in [("layers", layers), ("hidden", hidden), ("heads", heads), ("seq", seq),
                              ("vocab", vocab), ("batch", batch), ("threads", threads), ("tp", tp), ("dp", dp)]
        where value <= 0 {
            problems.append(ConfigProblem(keyPath: name, problem: "must be positive, got \(value)"))
        }
        if heads > 0, hidden % heads != 0 {
            problems.append(ConfigProblem(keyPath: "hidden", problem: "\(hidden) must be a multiple of heads (\(heads))"))
        }
        if tp > 0, heads % tp != 0 {
            problems.append(ConfigProblem(keyPath: "heads", problem: "\(heads) must be a multiple of tp (\(tp))"))
        }
        if dp > 0, batch % dp != 0 {
            problems.append(ConfigProblem(keyPath: "batch", problem: "\(batch) must be a multiple of dp (\(dp))"))
        }
        if !problems.isEmpty { throw TrainingConfigError(source: source, problems: problems) }
    }

    /// tp × dp.
    public var ranks: Int { tp * dp }

    /// Megatron pads the vocabulary to a multiple of 128·tp; a multiple of 128 that tp divides
    /// keeps the same padded size, and so the same model, at every tp where it can.
    public var paddedVocab: Int {
        let by128 = (vocab + 127) / 128 * 128
        return by128 % tp == 0 ? by128 : (vocab + 128 * tp - 1) / (128 * tp) * (128 * tp)
    }

    /// Dropout off and the tanh GeLU, as ../shared/peers/torch_gpt_bench.py.
    public var model: GPTConfig {
        GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: seq, vocabSize: vocab,
                  paddedVocabSize: paddedVocab, gelu: .tanh, attentionDropout: 0, hiddenDropout: 0)
    }

    /// 12·L·h² + V·h, the count the paper's Table 1 gives its models' sizes by.
    public var parameters: Double {
        12 * Double(layers) * Double(hidden) * Double(hidden) + Double(vocab) * Double(hidden)
    }

    /// Model FLOPs of one step: `batch` sequences (GPTConfig.trainingFLOPs).
    public var flopsPerStep: Double { model.trainingFLOPs(sequence: seq) * Double(batch) }
}
