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
    /// Every training run is run once per seed (`training.seed`), as `ID-seedN`; the tables give
    /// each run's final loss over the seeds. Empty: each run once, at its config's seed.
    public var seeds: [UInt64]

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
        /// The seed this copy of a run was expanded for (the experiment's `seeds`), recorded as `train.seed`.
        public var seed: UInt64?
        /// The training fields this copy of a run was expanded for (its `sweep`), recorded as `sweep.FIELD`.
        public var settings: [String: Double] = [:]

        /// What a run does: train (or fine-tune) a model from a training config, time training
        /// steps of a GPT on synthetic tokens (the `scaling` experiment), or evaluate an
        /// imported checkpoint (the `pretrained` experiment).
        public enum Work: Sendable {
            case train(TrainingConfig)
            case timing(Timing)
            case select(Selection)
            case pretrained(Pretrained)
        }

        /// The training config of a training run.
        public var train: TrainingConfig? {
            if case .train(let config) = work { return config }
            return nil
        }

        /// A select's first candidate's config (all candidates train the same model).
        func selectedConfig(in runs: [RunSpec]) -> TrainingConfig? {
            guard case .select(let selection) = work, let first = selection.candidates.first else { return nil }
            return runs.first { $0.id == first }?.train
        }
    }

    /// A swept run's choice: the candidate with the highest `metric` (measured on a held-out
    /// split, RACE-M dev), whose final checkpoint alone is then evaluated on `evaluate` (test),
    /// once. See `ExperimentRunner.select`.
    public struct Selection: Sendable, Equatable {
        public var candidates: [String]
        public var metric: String
        public var evaluate: [Evaluation]

        public init(candidates: [String], metric: String, evaluate: [Evaluation]) {
            self.candidates = candidates
            self.metric = metric
            self.evaluate = evaluate
        }
    }

    /// Every combination of the swept values, the first field varying slowest; one empty
    /// combination when nothing is swept.
    static func combinations(_ sweep: [(field: String, values: [Double])]) -> [[(field: String, value: Double)]] {
        sweep.reduce([[]]) { partial, axis in
            partial.flatMap { combination in axis.values.map { combination + [(field: axis.field, value: $0)] } }
        }
    }

    /// A run's `select` object as written.
    struct SelectKeys: Decodable {
        var metric: String?
        var evaluate: [Evaluation]?
    }

    /// A timed run: `megatron bench train`'s sizes, untimed warmup steps, then timed steps
    /// (the slowest rank's median is reported).
    public struct Timing: Sendable, Equatable {
        public var sizes: TrainBenchSizes
        public var warmup: Int
        public var steps: Int

        static let keys = Set(TrainBenchSizes.CodingKeys.allCases.map(\.rawValue) + ["warmup", "steps"])
    }

    /// An imported checkpoint (`megatron import hf|megatron`) evaluated as it is, at tp × dp;
    /// a checkpoint that is not there is recorded as not run, with the reason.
    public struct Pretrained: Sendable, Codable, Equatable {
        public var checkpoint: String
        public var tp: Int
        public var dp: Int

        public init(checkpoint: String, tp: Int = 1, dp: Int = 1) {
            self.checkpoint = checkpoint
            self.tp = tp
            self.dp = dp
        }

        static let keys: Set<String> = ["checkpoint", "tp", "dp"]
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
        let known: Set<String> = ["name", "description", "shrunk", "prepare", "runs", "compare_curves", "seeds"]
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
        let seeds = decode([UInt64].self, root["seeds"] ?? [UInt64](), "seeds") ?? []
        if Set(seeds).count != seeds.count { problems.append("seeds repeats a seed: \(seeds)") }
        var runs: [RunSpec] = []
        for (i, entry) in ((root["runs"] as? [[String: Any]]) ?? []).enumerated() {
            let key = "runs[\(i)]"
            let runKeys: Set<String> = ["id", "train", "timing", "pretrained", "finetune_from", "evaluate", "paper", "sweep", "select"]
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
            if let object = entry["pretrained"] {
                if entry["train"] != nil || from != nil || entry["sweep"] != nil || evaluate.isEmpty {
                    problems.append("\(key): a pretrained run has an evaluate list and no train, finetune_from or sweep")
                }
                problems += ((object as? [String: Any])?.keys ?? [:].keys).filter { !Pretrained.keys.contains($0) }.sorted()
                    .map { "\(key).pretrained: unknown key \($0)" }
                if var pretrained = decode(Pretrained.self, (object as? [String: Any]).map { ["tp": 1, "dp": 1].merging($0) { $1 } },
                                           "\(key).pretrained") {
                    if pretrained.tp < 1 || pretrained.dp < 1 {
                        problems.append("\(key).pretrained: tp (\(pretrained.tp)) and dp (\(pretrained.dp)) must be positive")
                        pretrained = Pretrained(checkpoint: pretrained.checkpoint)
                    }
                    runs.append(RunSpec(id: id, work: .pretrained(pretrained), finetuneFrom: nil, evaluate: evaluate, paper: paper))
                }
                continue
            }
            // A sweep trains one run per combination of its training fields' values, as
            // ID-FIELDVALUE…; a select then picks one of them (see Selection).
            let sweepFields = decode([String: [Double]].self, entry["sweep"] ?? [String: [Double]](), "\(key).sweep") ?? [:]
            let sweep = sweepFields.keys.sorted().map { (field: $0, values: sweepFields[$0]!) }
            for axis in sweep where !axis.field.hasPrefix("training.") || axis.field.dropFirst("training.".count).contains(".")
                || axis.values.isEmpty {
                problems.append("\(key).sweep: \(axis.field) must be training.FIELD with at least one value")
            }
            let select = entry["select"].flatMap { decode(SelectKeys.self, $0, "\(key).select") }
            var candidates: [String] = []
            for combination in Self.combinations(sweep) {
                let runID = id + combination.map { "-\($0.field.dropFirst("training.".count))\(formatSetting($0.value))" }.joined()
                // Checkpoints go to checkpoints/NAME/ID unless the run says otherwise: the runner
                // resumes from there and evaluates the final one.
                guard var section = entry["train"] as? [String: Any] else {
                    problems.append("\(key) needs a train (or timing) object")
                    break
                }
                var training = section["training"] as? [String: Any] ?? [:]
                for (field, value) in combination { training[String(field.dropFirst("training.".count))] = value }
                if training["checkpoint_dir"] == nil || !sweep.isEmpty {
                    let base = training["checkpoint_dir"] as? String ?? "checkpoints/\(root["name"] as? String ?? "unnamed")/\(id)"
                    training["checkpoint_dir"] = base + String(runID.dropFirst(id.count))
                }
                section["training"] = training
                do {
                    let json = try JSONSerialization.data(withJSONObject: section)
                    let train = try TrainingConfig.decode(json, source: "\(path) \(key).train")
                    runs.append(RunSpec(id: runID, work: .train(train), finetuneFrom: from, evaluate: evaluate,
                                        paper: select == nil ? paper : [:],
                                        settings: Dictionary(uniqueKeysWithValues: combination.map { ($0.field, $0.value) })))
                    candidates.append(runID)
                } catch {
                    problems.append("\(error)")
                }
            }
            if let select {
                guard let metric = select.metric, let evaluations = select.evaluate else {
                    problems.append("\(key).select needs a metric and an evaluate list")
                    continue
                }
                runs.append(RunSpec(id: "\(id)-selected", work: .select(Selection(candidates: candidates, metric: metric,
                                                                                   evaluate: evaluations)),
                                    finetuneFrom: nil, evaluate: evaluations, paper: paper))
            }
        }
        if root["runs"] == nil { problems.append("runs is missing") }
        if !seeds.isEmpty && runs.contains(where: { if case .select = $0.work { true } else { false } }) {
            problems.append("seeds and a run's select do not combine: select among one seed's runs")
        }
        if !seeds.isEmpty { runs = Self.expanded(runs, seeds: seeds) }
        for run in runs {
            if let from = run.finetuneFrom, !runs.contains(where: { $0.id == from && $0.train != nil }) {
                problems.append("\(run.id).finetune_from names no training run: \(from)")
            }
            for e in run.evaluate {
                if e.data.isEmpty || (e.data.count > 1 && !e.task.takesSeveralFiles) {
                    problems.append("\(run.id).evaluate: \(e.task.rawValue) takes \(e.task.takesSeveralFiles ? "one or more files" : "one file"), got \(e.data.count)")
                }
                if let family = (run.train ?? run.selectedConfig(in: runs))?.model.family, family != e.task.family {
                    problems.append("\(run.id).evaluate: \(e.task.rawValue) evaluates a \(e.task.family.rawValue) model, the run trains \(family.rawValue)")
                }
            }
        }
        if !problems.isEmpty { throw ExperimentError.malformedSpec(path: path, reason: problems.joined(separator: "; ")) }
        return ExperimentSpec(name: name, description: description, shrunk: shrunk, prepare: prepare, runs: runs,
                              compareCurves: compareCurves, seeds: seeds)
    }

    /// Each training run once per seed, in run order then seed order, as `ID-seedN` with its
    /// own checkpoint folder; a fine-tuning run starts from the same seed's pretraining. Timed
    /// runs stay single.
    static func expanded(_ runs: [RunSpec], seeds: [UInt64]) -> [RunSpec] {
        let trained = Set(runs.filter { $0.train != nil }.map(\.id))
        return runs.flatMap { run -> [RunSpec] in
            guard case .train(let config) = run.work else { return [run] }
            return seeds.map { seed in
                var copy = run, seeded = config
                copy.id = "\(run.id)-seed\(seed)"
                copy.seed = seed
                seeded.training.seed = seed
                seeded.training.checkpointDirectory = config.training.checkpointDirectory.map { "\($0)-seed\(seed)" }
                copy.work = .train(seeded)
                copy.finetuneFrom = run.finetuneFrom.map { trained.contains($0) ? "\($0)-seed\(seed)" : $0 }
                return copy
            }
        }
    }
}

/// A swept value as a run id shows it: 360, 0.0001, 3e-05.
func formatSetting(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : "\(value)"
}
