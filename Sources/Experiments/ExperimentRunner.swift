import Collectives
import Datasets
import Foundation
import Models
import Tasks
import TensorParallel
import Training

/// Runs a named experiment: prepares missing data, trains (or fine-tunes) each run, evaluates it
/// from its final checkpoint, and records everything in `results/NAME/run.json`. Interrupted, it
/// picks up where it stopped: a finished run's result is kept in `results/NAME/runs/ID.json`
/// and skipped, an unfinished one resumes from its newest checkpoint.
public struct ExperimentRunner {
    public let spec: ExperimentSpec
    public let command: String
    /// Runs `megatron prepare ARGS…` in-process (the CLI supplies it).
    public let prepare: ([String]) throws -> Void
    public let log: @Sendable (String) -> Void

    public init(spec: ExperimentSpec, command: String, prepare: @escaping ([String]) throws -> Void,
                log: @escaping @Sendable (String) -> Void) {
        self.spec = spec
        self.command = command
        self.prepare = prepare
        self.log = log
    }

    var resultsDirectory: String { "results/\(spec.name)" }
    func keptPath(_ id: String) -> String { "\(resultsDirectory)/runs/\(id).json" }

    /// A finished run's result, or nil while it is not finished (no file, or one cut short).
    func kept(_ id: String) -> RunResult? {
        FileManager.default.contents(atPath: keptPath(id)).flatMap { try? recordDecoder().decode(RunResult.self, from: $0) }
    }

    /// A kept run stands for the config it was trained with only: an experiment redesigned since
    /// would otherwise tabulate the old run under the new design, and resume its checkpoints.
    func checkDesign(of done: RunResult, against config: TrainingConfig) throws {
        let recorded = try? TrainingConfig.decode(Data(done.config.utf8))
        guard recorded != config else { return }
        throw ExperimentError.keptRunOfAnotherDesign(
            path: keptPath(done.id), checkpoints: checkpointDirectory(config),
            differences: Self.differences(recorded: done.config, wanted: try config.json()))
    }

    /// The keys whose values differ between two configs' JSON, as "key: recorded → wanted"
    /// (the first eight, in key order).
    static func differences(recorded: String, wanted: String) -> [String] {
        func leaves(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            func walk(_ value: Any, _ path: String) {
                if let object = value as? [String: Any] {
                    for (key, child) in object { walk(child, path.isEmpty ? key : "\(path).\(key)") }
                } else {
                    out[path] = "\(value)"
                }
            }
            if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) { walk(object, "") }
            return out
        }
        let (old, new) = (leaves(recorded), leaves(wanted))
        if old.isEmpty { return ["the recorded config is not readable JSON"] }
        let keys = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
        return keys.prefix(8).map { "\($0): \(old[$0] ?? "absent") → \(new[$0] ?? "absent")" }
    }

    /// ExperimentSpec.load gives every training run one (checkpoints/NAME/ID by default).
    func checkpointDirectory(_ config: TrainingConfig) -> String {
        config.training.checkpointDirectory!
    }

    /// Runs what is not finished and records the experiment. Run again once finished, it leaves
    /// the record as it was, byte for byte: nothing new ran, so date, commit and machine stand.
    @discardableResult
    public func run() throws -> RunRecord {
        let start = Date()
        for step in spec.prepare where !FileManager.default.fileExists(atPath: step.creates) {
            log("prepare: megatron prepare \(step.args.joined(separator: " "))")
            try prepare(step.args)
        }
        let recordPath = "\(resultsDirectory)/run.json"
        let earlierBytes = FileManager.default.contents(atPath: recordPath)
        let earlier = earlierBytes == nil ? nil : try? RunRecord.load(recordPath)
        var results: [RunResult] = []
        var record = earlier ?? RunRecord(experiment: spec.name, command: command, gitCommit: Self.gitCommit(), machine: .current(),
                                          date: "", wallSeconds: 0, runs: [], shrunk: spec.shrunk)
        // Measured when this sitting first runs something, so the peak is the one the run met.
        var sitting: MachineDescription?
        // Saved after every run, so a long experiment's finished runs are tabulated while the
        // rest still run (listed as pending).
        var replaced = false
        func save() throws {
            let runs = Self.withScalingEfficiency(spec.compareCurves ? Self.comparingCurves(results) : results)
            let pending = spec.runs.dropFirst(results.count).map(\.id)
            if let earlier, let earlierBytes, earlier.runs == runs, earlier.pending == pending, earlier.shrunk == spec.shrunk {
                // Nothing new: the earlier record stands, byte for byte, also where a save before
                // a run this machine then skipped had replaced it with a partial one.
                if replaced { try writeAtomically(earlierBytes, to: recordPath) }
                return
            }
            replaced = true
            record.runs = runs
            record.pending = pending
            record.shrunk = spec.shrunk
            record.command = command
            record.gitCommit = Self.gitCommit()
            record.machine = sitting ?? earlier?.machine ?? .current()
            record.date = ISO8601DateFormatter().string(from: Date())
            record.wallSeconds = results.reduce(0) { $0 + $1.wallSeconds }
            try record.save(recordPath)
        }
        for run in spec.runs {
            let saved = keptPath(run.id)
            if let done = kept(run.id) {
                if case .train(let config) = run.work { try checkDesign(of: done, against: config) }
                let current = done.withCurrentHealth()
                if current != done {
                    try writeJSON(current, to: saved)
                    log("\(run.id): done earlier, kept (\(saved)), its loss-curve health read again from its curve")
                } else {
                    log("\(run.id): done earlier, kept (\(saved))")
                }
                results.append(current)
                continue
            }
            // The kept runs (their health read again) are recorded before a long run starts.
            try save()
            if sitting == nil && Self.unhostable(run) == nil {
                sitting = .measured()
                log("machine: \(sitting!.summary)")
            }
            var result: RunResult
            switch run.work {
            case .train(let config): result = try execute(run, config: config)
            case .timing(let timing): result = try time(run, timing)
            case .select(let selection): result = try select(run, selection, among: results)
            case .pretrained(let pretrained): result = try evaluate(run, pretrained)
            }
            // A run this machine cannot host is not kept: a larger machine (or one with the
            // weights) runs it.
            if result.skipped == nil {
                result.machine = sitting
                try writeJSON(result, to: saved)
            }
            results.append(result)
            try save()
        }
        try save()
        log("\(spec.name): recorded \(recordPath) (\(Int(Date().timeIntervalSince(start))) s this sitting)")
        return record
    }

    /// Evaluates the finished runs again from their final checkpoints, for `tasks` only, and
    /// replaces those tasks' metrics in their records: for when the evaluation gained a metric or
    /// a fix, without training again. Each run notes the re-evaluation (tasks, commit, date, wall
    /// time); the experiment's own commit, date and wall time stay those of its training.
    @discardableResult
    public func reevaluate(_ tasks: Set<EvaluationTask>) throws -> RunRecord {
        let recordPath = "\(resultsDirectory)/run.json"
        guard FileManager.default.fileExists(atPath: recordPath) else {
            throw ExperimentError.nothingToReevaluate(experiment: spec.name, reason: "\(recordPath) does not exist; run `megatron run \(spec.name)` first")
        }
        var record = try RunRecord.load(recordPath)
        let commit = Self.gitCommit()
        var done = 0
        for run in spec.runs {
            guard case .train(let config) = run.work else { continue }
            let evaluations = run.evaluate.filter { tasks.contains($0.task) }
            let saved = keptPath(run.id)
            guard !evaluations.isEmpty, var result = kept(run.id) else { continue }
            let t = config.training
            log("\(run.id): re-evaluating \(evaluations.map(\.task.rawValue).joined(separator: ", ")) at tp \(t.tensorParallel) × dp \(t.dataParallel)")
            let started = Date()
            let id = run.id, log = self.log
            let metrics = try CheckpointEvaluation(checkpoint: checkpointDirectory(config), tensorParallel: t.tensorParallel,
                                                   dataParallel: t.dataParallel)
                .evaluate(evaluations) { log("\(id): \($0)") }
            result.metrics.merge(metrics) { $1 }
            result.reevaluations = (result.reevaluations ?? []) + [
                Reevaluation(tasks: evaluations.map(\.task), gitCommit: commit,
                             date: ISO8601DateFormatter().string(from: Date()), wallSeconds: Date().timeIntervalSince(started)),
            ]
            try writeJSON(result, to: saved)
            if let i = record.runs.firstIndex(where: { $0.id == run.id }) {
                record.runs[i].metrics.merge(metrics) { $1 }
                record.runs[i].reevaluations = result.reevaluations
            }
            try record.save(recordPath)
            done += 1
        }
        guard done > 0 else {
            throw ExperimentError.nothingToReevaluate(
                experiment: spec.name, reason: "no finished run evaluates \(tasks.map(\.rawValue).sorted().joined(separator: " or ")) (results/\(spec.name)/runs/)")
        }
        log("\(spec.name): re-evaluated \(done) run(s), recorded \(recordPath)")
        return record
    }

    /// Each run with `loss_curve.max_relative_deviation`: the largest |loss − first run's loss| /
    /// |first run's loss| over the steps both recorded.
    static func comparingCurves(_ results: [RunResult]) -> [RunResult] {
        guard let reference = results.first?.lossCurve else { return results }
        let byStep = Dictionary(reference.map { ($0[0], $0[1]) }, uniquingKeysWith: { $1 })
        return results.map { result in
            var result = result
            let deviations = result.lossCurve.compactMap { point in byStep[point[0]].map { abs(point[1] - $0) / abs($0) } }
            result.metrics["loss_curve.max_relative_deviation"] = deviations.max() ?? 0
            return result
        }
    }

    /// Trains one run on an in-process world of tp × dp ranks, then evaluates its final
    /// checkpoint at the same layout, as `megatron eval` would.
    func execute(_ run: ExperimentSpec.RunSpec, config: TrainingConfig) throws -> RunResult {
        let pretrained = try run.finetuneFrom.map { id -> String in
            // ExperimentSpec.load checked that the id names a training run.
            let source = spec.runs.first { $0.id == id }!.train!
            return try CheckpointDirectory(path: checkpointDirectory(source)).latest()
        }
        let training = TrainingRun(config: config, resumeIfPresent: true, finetuneFrom: pretrained)
        try training.validate()
        let t = config.training
        let started = Date()
        let log = self.log, id = run.id
        let outcome = try InProcessWorld.run(worldSize: t.worldSize, timeout: 3600) { world in
            try training.run(world: world) { log("\(id): \($0)") }
        }[0]
        var metrics: [String: Double] = [:]
        if !run.evaluate.isEmpty {
            metrics = try CheckpointEvaluation(checkpoint: checkpointDirectory(config), tensorParallel: t.tensorParallel,
                                               dataParallel: t.dataParallel)
                .evaluate(run.evaluate) { log("\(id): \($0)") }
        }
        let tail = outcome.lossCurve.suffix(Swift.max(1, outcome.lossCurve.count / 10))
        metrics["train.final_loss"] = tail.reduce(0) { $0 + $1.loss } / Double(tail.count)
        metrics["train.steps"] = Double(outcome.steps)
        metrics["train.parameters_per_rank"] = Double(outcome.parameterCount)
        metrics.merge(LossCurveHealth(losses: outcome.lossCurve.map(\.loss)).metrics) { $1 }
        if let seed = run.seed { metrics["train.seed"] = Double(seed) }
        for (field, value) in run.settings { metrics["sweep.\(field)"] = value }
        if outcome.tokensPerSecond > 0 {
            metrics["train.tokens_per_s"] = outcome.tokensPerSecond
            metrics["train.model_tflops"] = outcome.modelTFLOPs
        }
        for (key, value) in run.paper { metrics["paper.\(key)"] = value }
        return RunResult(id: run.id, config: try config.json(), metrics: metrics,
                         lossCurve: outcome.lossCurve.map { [Double($0.step), $0.loss] },
                         wallSeconds: Date().timeIntervalSince(started))
    }

    /// Picks the candidate with the highest `selection.metric` (the first on a tie) and evaluates
    /// its final checkpoint on `selection.evaluate`, once: the held-out split chose, the test
    /// split reports. Metrics: the evaluation's, `select.METRIC` (the winning value), and the
    /// winner's swept fields as `select.training.FIELD`.
    func select(_ run: ExperimentSpec.RunSpec, _ selection: ExperimentSpec.Selection,
                among results: [RunResult]) throws -> RunResult {
        let best = try Self.choose(selection, among: results, for: run.id)
        guard let chosen = spec.runs.first(where: { $0.id == best.id }), let config = chosen.train else {
            throw ExperimentError.nothingToSelect(run: run.id, candidate: best.id, metric: selection.metric)
        }
        log("\(run.id): \(best.id) has the highest \(selection.metric) (\(formatNumber(best.value))); evaluating it once on "
            + selection.evaluate.flatMap(\.data).joined(separator: ", "))
        let started = Date()
        let t = config.training, log = self.log, id = run.id
        var metrics = try CheckpointEvaluation(checkpoint: checkpointDirectory(config), tensorParallel: t.tensorParallel,
                                               dataParallel: t.dataParallel)
            .evaluate(selection.evaluate) { log("\(id): \($0)") }
        metrics["select.\(selection.metric)"] = best.value
        for (field, value) in chosen.settings { metrics["select.\(field)"] = value }
        for (key, value) in run.paper { metrics["paper.\(key)"] = value }
        return RunResult(id: run.id, config: try config.json(), metrics: metrics, lossCurve: [],
                         wallSeconds: Date().timeIntervalSince(started))
    }

    /// The candidate with the highest `selection.metric`, the first on a tie; throws when a
    /// candidate did not record the metric.
    public static func choose(_ selection: ExperimentSpec.Selection, among results: [RunResult],
                              for run: String) throws -> (id: String, value: Double) {
        var best: (id: String, value: Double)?
        for id in selection.candidates {
            guard let value = results.first(where: { $0.id == id })?.metrics[selection.metric] else {
                throw ExperimentError.nothingToSelect(run: run, candidate: id, metric: selection.metric)
            }
            if best == nil || value > best!.value { best = (id, value) }
        }
        guard let best else { throw ExperimentError.nothingToSelect(run: run, candidate: "none", metric: selection.metric) }
        return best
    }

    static func gitCommit() -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unknown" }
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return process.terminationStatus == 0 ? text.trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
    }
}
