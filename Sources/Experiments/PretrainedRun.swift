import Foundation

extension ExperimentRunner {
    /// Evaluates an imported checkpoint (the `pretrained` experiment) at its tp × dp on the run's
    /// tasks, as `megatron eval` does; the paper's figures go beside. A checkpoint that is not
    /// there is recorded as skipped, with the reason, and not kept, so the same command runs it
    /// once the weights are imported.
    func evaluate(_ run: ExperimentSpec.RunSpec, _ pretrained: ExperimentSpec.Pretrained) throws -> RunResult {
        var metrics: [String: Double] = [:]
        for (key, value) in run.paper { metrics["paper.\(key)"] = value }
        let config = try Self.settingsJSON(pretrained)
        if let skipped = skipped(run, config: config, metrics: metrics) { return skipped }
        let started = Date()
        let log = self.log, id = run.id
        metrics.merge(try CheckpointEvaluation(checkpoint: pretrained.checkpoint, tensorParallel: pretrained.tp,
                                               dataParallel: pretrained.dp)
            .evaluate(run.evaluate) { log("\(id): \($0)") }) { $1 }
        return RunResult(id: run.id, config: config, metrics: metrics, lossCurve: [], wallSeconds: Date().timeIntervalSince(started))
    }
}
