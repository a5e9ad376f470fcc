import Foundation
import Training

extension ExperimentRunner {
    /// Times a run's GPT training steps (the `scaling` experiment) on tp × dp in-process ranks of
    /// `threads` kernel threads each. Metrics: the sizes (`timing.tp`, `.dp`, `.layers`,
    /// `.hidden`, `.heads`, `.parameters` = 12·L·h² + V·h), `timing.parameters_per_rank`,
    /// `timing.step_s` (slowest rank's median), `timing.tokens_per_s` and
    /// `timing.model_tflops_per_rank` (model FLOPs per step / step time / ranks). A run needing
    /// more cores than the machine has is skipped, its settings and the paper's figures kept.
    func time(_ run: ExperimentSpec.RunSpec, _ timing: ExperimentSpec.Timing) throws -> RunResult {
        let s = timing.sizes
        var metrics: [String: Double] = [
            "timing.tp": Double(s.tp), "timing.dp": Double(s.dp), "timing.layers": Double(s.layers),
            "timing.hidden": Double(s.hidden), "timing.heads": Double(s.heads), "timing.parameters": s.parameters,
        ]
        for (key, value) in run.paper { metrics["paper.\(key)"] = value }
        let config = try Self.settingsJSON(s)
        if let skipped = skipped(run, config: config, metrics: metrics) { return skipped }
        log("\(run.id): timing GPT \(s.layers) layers, hidden \(s.hidden), \(s.heads) heads, seq \(s.seq), batch \(s.batch), "
            + "tp \(s.tp) × dp \(s.dp) × \(s.threads) thread(s): \(timing.warmup) warmup + \(timing.steps) timed steps")
        let started = Date()
        let outcome = try TrainingStepBench(sizes: s, warmup: timing.warmup, steps: timing.steps).run()
        metrics["timing.step_s"] = outcome.stepSeconds
        metrics["timing.parameters_per_rank"] = Double(outcome.localParameters)
        metrics["timing.tokens_per_s"] = Double(s.batch * s.seq) / outcome.stepSeconds
        metrics["timing.model_tflops_per_rank"] = s.flopsPerStep / outcome.stepSeconds / 1e12 / Double(s.ranks)
        log("\(run.id): " + String(format: "median step %.3f s, %.2f model GFLOP/s per rank", outcome.stepSeconds,
                                   metrics["timing.model_tflops_per_rank"]! * 1e3))
        return RunResult(id: run.id, config: config, metrics: metrics, lossCurve: [],
                         wallSeconds: Date().timeIntervalSince(started))
    }

    /// A run's settings as its record keeps them: JSON with sorted keys.
    static func settingsJSON<Settings: Encodable>(_ settings: Settings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }

    /// The record of a run this machine cannot host (`unhostable`), or nil when it can.
    func skipped(_ run: ExperimentSpec.RunSpec, config: String, metrics: [String: Double]) -> RunResult? {
        guard let reason = Self.unhostable(run) else { return nil }
        log("\(run.id): skipped, \(reason)")
        return RunResult(id: run.id, config: config, metrics: metrics, lossCurve: [], wallSeconds: 0, skipped: reason)
    }

    /// Why this machine cannot host `run` (a timing run needing more cores than it has, a
    /// pretrained run whose checkpoint is not here), or nil.
    static func unhostable(_ run: ExperimentSpec.RunSpec) -> String? {
        if case .pretrained(let p) = run.work, !FileManager.default.fileExists(atPath: p.checkpoint) {
            return "no checkpoint at \(p.checkpoint); import the released weights there first (README, \"Evaluate released checkpoints\")"
        }
        guard case .timing(let timing) = run.work else { return nil }
        let s = timing.sizes, cores = ProcessInfo.processInfo.activeProcessorCount
        guard s.ranks * s.threads > cores else { return nil }
        return "tp \(s.tp) × dp \(s.dp) × \(s.threads) thread\(s.threads == 1 ? "" : "s") needs \(s.ranks * s.threads) cores, "
            + "the machine has \(cores)"
    }

    /// Each timed run with `timing.efficiency`: its model FLOP/s per rank over that of the first
    /// timed run at tp = dp = 1 (the paper's weak-scaling efficiency, Figure 1 and Table 1).
    static func withScalingEfficiency(_ results: [RunResult]) -> [RunResult] {
        let rate = "timing.model_tflops_per_rank"
        guard let baseline = results.first(where: { $0.metrics["timing.tp"] == 1 && $0.metrics["timing.dp"] == 1 })?
            .metrics[rate] else { return results }
        return results.map { result in
            var result = result
            result.metrics["timing.efficiency"] = result.metrics[rate].map { $0 / baseline }
            return result
        }
    }
}
