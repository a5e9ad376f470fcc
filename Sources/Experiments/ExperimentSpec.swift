import Foundation
import Training

/// A named experiment, `experiments/NAME.json`: what to prepare, which models to train or
/// fine-tune (each with a full training config), how to evaluate them, and the paper's figures
/// for the analogue of each run. See experiments/README.md for the keys.
public struct ExperimentSpec: Sendable {
    public var name: String
    public var description: String
    /// What differs from the paper's setting, recorded with every result.
    public var shrunk: [String]
    public var prepare: [PrepareStep]
    public var runs: [RunSpec]
    /// The runs train the same model on the same data in different layouts: each run's loss
    /// curve is compared step by step with the first run's.
    public var compareCurves: Bool

    /// `megatron prepare ARGS…`, run when `creates` does not exist yet.
    public struct PrepareStep: Sendable, Codable, Equatable {
        public var creates: String
        public var args: [String]
    }

    public struct RunSpec: Sendable {
        public var id: String
        public var work: Work
        /// For a RACE fine-tuning run: the id of the pretraining run whose weights it starts from.
        public var finetuneFrom: String?
        public var evaluate: [Evaluation]
        public var paper: [String: Double]

        /// What a run does: train (or fine-tune) a model from a training config, or time
        /// training steps of a GPT on synthetic tokens (the `scaling` experiment).
        public enum Work: Sendable {
            case train(TrainingConfig)
            case timing(Timing)
        }

        /// The training config of a training run.
        public var train: TrainingConfig? {
            if case .train(let config) = work { return config }
            return nil
        }
    }

    /// A timed run: `megatron bench train`'s sizes, untimed warmup steps, then timed steps
    /// (the slowest rank's median is reported).
    public struct Timing: Sendable, Equatable {
        public var sizes: TrainBenchSizes
        public var warmup: Int
        public var steps: Int

        static let keys = Set(TrainBenchSizes.CodingKeys.allCases.map(\.rawValue) + ["warmup", "steps"])
    }

    public struct Evaluation: Sendable, Codable, Equatable {
        public var task: EvaluationTask
        /// Prepared files; RACE takes several (dev, test), the others one.
        public var data: [String]
        public var stride: Int?
        public var batch: Int?

        public init(task: EvaluationTask, data: [String], stride: Int? = nil, batch: Int? = nil) {
            self.task = task
            self.data = data
            self.stride = stride
            self.batch = batch
        }
    }

    /// A run's `timing` object: the sizes checked as `bench train` checks them, warmup ≥ 0, steps > 0.
    static func timing(_ object: Any, key: String, path: String, problems: inout [String]) -> Timing? {
        guard let fields = object as? [String: Any],
              let json = try? JSONSerialization.data(withJSONObject: fields) else {
            problems.append("\(key) is not an object")
            return nil
        }
        problems += fields.keys.filter { !Timing.keys.contains($0) }.sorted().map { "\(key): unknown key \($0)" }
        do {
            let sizes = try JSONDecoder().decode(TrainBenchSizes.self, from: json)
            try sizes.check(source: "\(path) \(key)")
            let warmup = fields["warmup"] as? Int ?? 2, steps = fields["steps"] as? Int ?? 5
            guard warmup >= 0, steps > 0 else {
                problems.append("\(key): warmup (\(warmup)) must be ≥ 0 and steps (\(steps)) positive")
                return nil
            }
            return Timing(sizes: sizes, warmup: warmup, steps: steps)
        } catch {
            problems.append("\(key): \(error)")
            return nil
        }
    }

    public static func load(_ path: String) throws -> ExperimentSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError.unreadable(path: path, reason: "no such file")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ExperimentError.malformedSpec(path: path, reason: "not a JSON object")
        }
        var problems: [String] = []
        let known: Set<String> = ["name", "description", "shrunk", "prepare", "runs", "compare_curves"]
        problems += root.keys.filter { !known.contains($0) }.sorted().map { "unknown key \($0)" }
        func decode<V: Decodable>(_ type: V.Type, _ value: Any?, _ key: String) -> V? {
            guard let value, let json = try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed) else {
                problems.append("\(key) is missing")
                return nil
            }
            do { return try JSONDecoder().decode(V.self, from: json) } catch {
                problems.append("\(key): \(error)")
                return nil
            }
        }
        let name = decode(String.self, root["name"], "name") ?? ""
        let description = decode(String.self, root["description"], "description") ?? ""
        let shrunk = decode([String].self, root["shrunk"] ?? [String](), "shrunk") ?? []
        let prepare = decode([PrepareStep].self, root["prepare"] ?? [Any](), "prepare") ?? []
        let compareCurves = decode(Bool.self, root["compare_curves"] ?? false, "compare_curves") ?? false
        var runs: [RunSpec] = []
        for (i, entry) in ((root["runs"] as? [[String: Any]]) ?? []).enumerated() {
            let key = "runs[\(i)]"
            let runKeys: Set<String> = ["id", "train", "timing", "finetune_from", "evaluate", "paper"]
            problems += entry.keys.filter { !runKeys.contains($0) }.sorted().map { "\(key): unknown key \($0)" }
            let id = decode(String.self, entry["id"], "\(key).id") ?? "run\(i)"
            let evaluate = decode([Evaluation].self, entry["evaluate"] ?? [Any](), "\(key).evaluate") ?? []
            let paper = decode([String: Double].self, entry["paper"] ?? [String: Double](), "\(key).paper") ?? [:]
            let from = entry["finetune_from"].flatMap { decode(String.self, $0, "\(key).finetune_from") }
            if let object = entry["timing"] {
                if entry["train"] != nil || from != nil || !evaluate.isEmpty {
                    problems.append("\(key): a timing run has no train, finetune_from or evaluate")
                }
                if let timing = Self.timing(object, key: "\(key).timing", path: path, problems: &problems) {
                    runs.append(RunSpec(id: id, work: .timing(timing), finetuneFrom: nil, evaluate: [], paper: paper))
                }
                continue
            }
            // Checkpoints go to checkpoints/NAME/ID unless the run says otherwise: the runner
            // resumes from there and evaluates the final one.
            var train: TrainingConfig?
            if var section = entry["train"] as? [String: Any] {
                if var training = section["training"] as? [String: Any], training["checkpoint_dir"] == nil {
                    training["checkpoint_dir"] = "checkpoints/\(root["name"] as? String ?? "unnamed")/\(id)"
                    section["training"] = training
                }
                do {
                    let json = try JSONSerialization.data(withJSONObject: section)
                    train = try TrainingConfig.decode(json, source: "\(path) \(key).train")
                } catch {
                    problems.append("\(error)")
                }
            } else {
                problems.append("\(key) needs a train (or timing) object")
            }
            if let train {
                runs.append(RunSpec(id: id, work: .train(train), finetuneFrom: from, evaluate: evaluate, paper: paper))
            }
        }
        if root["runs"] == nil { problems.append("runs is missing") }
        for run in runs {
            if let from = run.finetuneFrom, !runs.contains(where: { $0.id == from && $0.train != nil }) {
                problems.append("\(run.id).finetune_from names no training run: \(from)")
            }
            for e in run.evaluate {
                if e.data.isEmpty || (e.data.count > 1 && !e.task.takesSeveralFiles) {
                    problems.append("\(run.id).evaluate: \(e.task.rawValue) takes \(e.task.takesSeveralFiles ? "one or more files" : "one file"), got \(e.data.count)")
                }
                if run.train.map({ $0.model.family != e.task.family }) ?? false {
                    problems.append("\(run.id).evaluate: \(e.task.rawValue) evaluates a \(e.task.family.rawValue) model, the run trains \(run.train!.model.family.rawValue)")
                }
            }
        }
        if !problems.isEmpty { throw ExperimentError.malformedSpec(path: path, reason: problems.joined(separator: "; ")) }
        return ExperimentSpec(name: name, description: description, shrunk: shrunk, prepare: prepare, runs: runs,
                              compareCurves: compareCurves)
    }
}
