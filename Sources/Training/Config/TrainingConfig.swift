import Collectives
import Foundation

/// A training run as a JSON file: `{"model": {…}, "training": {…}}` (see `ModelSection` and
/// `TrainingSection` for the keys). Decoding rejects unknown keys and reports every problem at
/// once — missing keys, wrong types, bad values, and a tp × dp layout that does not divide the
/// model or the batch — each with its key path.
///
/// Overrides: `key.path=value` strings (the CLI's `--set training.lr=3e-4`) replace or add a
/// value before decoding, so an override is checked exactly as the file is. The value is read as
/// JSON (`3e-4`, `true`, `null`, `"text"`) and as a plain string when it is not JSON.
public struct TrainingConfig: Sendable, Equatable, Encodable, Decodable {
    public var model: ModelSection
    public var training: TrainingSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, training
    }

    public init(model: ModelSection, training: TrainingSection) {
        self.model = model
        self.training = training
    }

    public init(from decoder: any Decoder) throws {
        let problems = ConfigProblems()
        let r = ConfigSectionReader<CodingKeys>(decoder, problems: problems)
        let model = r.section(.model, placeholder: ModelSection.placeholder) { ModelSection(reading: $0, problems: $1) }
        let training = r.section(.training, placeholder: TrainingSection.placeholder) {
            TrainingSection(reading: $0, problems: $1)
        }
        self.init(model: model, training: training)
        if model != .placeholder && training != .placeholder {
            // A key already reported, or derived from one (ffn_hidden defaults to 4·hidden), is not
            // reported again for the placeholder it holds.
            let reported = Set(problems.list.map(\.keyPath))
            for problem in parallelProblems(worldSize: training.worldSize)
            where !reported.contains(problem.keyPath)
                && !(problem.keyPath == "model.ffn_hidden" && reported.contains("model.hidden")) {
                problems.list.append(problem)
            }
        }
        try problems.throwIfAny()
    }

    /// Reads the config file at `path`, applying `overrides` first.
    public static func load(path: String, overrides: [String] = []) throws -> TrainingConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TrainingConfigError(source: path, problems: [
                ConfigProblem(keyPath: "", problem: "cannot read the file (\(error.localizedDescription)); check the --config path"),
            ])
        }
        return try decode(data, source: path, overrides: overrides)
    }

    /// Decodes JSON text, applying `overrides` first; errors name `source`.
    public static func decode(_ data: Data, source: String = "<json>", overrides: [String] = []) throws -> TrainingConfig {
        let text = overrides.isEmpty ? data : try applying(overrides, to: data, source: source)
        do {
            return try JSONDecoder().decode(TrainingConfig.self, from: text)
        } catch var error as TrainingConfigError {
            error.source = source
            throw error
        } catch {
            throw TrainingConfigError(source: source, problems: [
                ConfigProblem(keyPath: "", problem: "not valid JSON (\(error))"),
            ])
        }
    }

    /// The config as pretty-printed JSON with sorted keys: what a checkpoint records.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// What is wrong with running this config on `worldSize` ranks (empty when it fits): the
    /// layout against the model's sizes and the batch, as Collectives' `ParallelConfig` checks it.
    public func parallelProblems(worldSize: Int) -> [ConfigProblem] {
        let dimensions = ModelDimensions(hiddenSize: model.hidden, attentionHeads: model.heads,
                                         ffnHiddenSize: model.ffnHidden, vocabSize: model.vocabSize,
                                         vocabPadding: model.vocabPadding, sequenceLength: model.sequenceLength,
                                         globalBatchSize: training.globalBatch, microBatchSize: training.microBatch,
                                         layers: model.layers)
        var layout = ParallelConfig(worldSize: worldSize, tensorParallel: training.tensorParallel,
                                    dataParallel: training.dataParallel, pipelineParallel: training.pipelineParallel)
        layout.sequenceParallel = training.sequenceParallel
        return layout.violations(dimensions).map { violation in
            ConfigProblem(keyPath: Self.keyPath(of: violation), problem: violation.description)
        }
    }

    static func keyPath(of violation: ParallelConfigViolation) -> String {
        let field: String
        switch violation {
        case let .notPositive(name, _), let .notDivisible(name, _, _, _): field = name
        case .worldSizeMismatch: return "training.tp, training.pp, training.dp"
        case .tooFewMicroBatches: return "training.global_batch, training.micro_batch, training.pp"
        case .paddedVocabTooSmall: return "model.padded_vocab_size"
        case .sequenceParallelWithoutTensorParallel: return "training.sequence_parallel"
        case .sequenceNotDivisibleForSequenceParallel: return "model.sequence_length"
        }
        switch field {
        case "tensor-parallel size": return "training.tp"
        case "data-parallel size": return "training.dp"
        case "pipeline-parallel size": return "training.pp"
        case "layers": return "model.layers"
        case "world size": return "training.tp, training.pp, training.dp"
        case "hidden size": return "model.hidden"
        case "attention heads": return "model.heads"
        case "FFN hidden size": return "model.ffn_hidden"
        case "vocab size": return "model.vocab_size"
        case "padded vocab size", "vocab padding divisor": return "model.padded_vocab_size"
        case "sequence length": return "model.sequence_length"
        case "global batch size", "global batch size / data-parallel size": return "training.global_batch"
        case "micro batch size": return "training.micro_batch"
        default: return field
        }
    }

    /// `data` with each `key.path=value` override set; malformed overrides are config problems.
    static func applying(_ overrides: [String], to data: Data, source: String) throws -> Data {
        guard var root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingConfigError(source: source, problems: [
                ConfigProblem(keyPath: "", problem: "not a JSON object"),
            ])
        }
        var problems: [ConfigProblem] = []
        for override in overrides {
            guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
                problems.append(ConfigProblem(keyPath: override, problem: "an override is key.path=value, e.g. training.lr=3e-4"))
                continue
            }
            let path = override[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let text = String(override[override.index(after: equals)...])
            let value = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) ?? text
            if let problem = set(value, at: path[...], in: &root) {
                problems.append(ConfigProblem(keyPath: path.joined(separator: "."), problem: problem))
            }
        }
        if !problems.isEmpty { throw TrainingConfigError(source: source, problems: problems) }
        return try JSONSerialization.data(withJSONObject: root)
    }

    private static func set(_ value: Any, at path: ArraySlice<String>, in object: inout [String: Any]) -> String? {
        guard let key = path.first, !key.isEmpty else { return "empty key in the override's path" }
        if path.count == 1 {
            object[key] = value
            return nil
        }
        var child = object[key] ?? [String: Any]()
        guard var nested = child as? [String: Any] else { return "\(key) is not an object, it cannot hold \(path.dropFirst().joined(separator: "."))" }
        if let problem = set(value, at: path.dropFirst(), in: &nested) { return problem }
        child = nested
        object[key] = child
        return nil
    }
}
