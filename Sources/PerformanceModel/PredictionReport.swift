import Foundation

extension StepPrediction {
    /// The prediction as lines of text: the step and its split, the rates, and every distinct
    /// collective with the formula its cost comes from. `baseline` gives the efficiency line.
    public func report(baseline: StepPrediction?) -> [String] {
        let m = config.model
        func ms(_ s: Double) -> String { String(format: "%.4g ms", s * 1e3) }
        func share(_ s: Double) -> String { String(format: "%.1f %%", 100 * s / stepSeconds) }
        var lines = [
            "GPT \(m.layers) layers, hidden \(m.hidden), \(m.heads) heads, seq \(config.sequence), vocab \(m.paddedVocabSize); "
                + "tp \(config.tensorParallel) × dp \(config.dataParallel) = \(config.ranks) ranks, micro-batch \(config.microBatch) × "
                + "\(config.microBatches), global batch \(config.globalBatch), \(config.recomputeActivations ? "recomputed" : "kept") "
                + "activations, \(config.elementBytes)-byte elements, \(config.loop.rawValue) loop",
            "  step \(ms(stepSeconds)) = compute (GEMMs) \(ms(computeSeconds)) [\(share(computeSeconds))] + exposed communication "
                + "\(ms(exposedCommunicationSeconds)) [\(share(exposedCommunicationSeconds))] + rest (memory-bound kernels, "
                + "optimizer) \(ms(restSeconds)) [\(share(restSeconds))]"
                + (hiddenCommunicationSeconds > 0 ? "; \(ms(hiddenCommunicationSeconds)) of data-parallel communication hidden" : ""),
            String(format: "  tokens/s %.6g, model TFLOP/s per rank %.4g (%.4g TFLOP per step, Narayanan eq. %@)",
                   tokensPerSecond, modelFLOPsPerSecondPerRank / 1e12, modelFLOPs / 1e12,
                   config.recomputeActivations ? "3" : "2"),
        ]
        if let baseline {
            lines.append(String(format: "  efficiency vs tp = 1 (%@): %.1f %%", baseline.config.model == config.model
                                    ? "the same model on one rank" : "the baseline config",
                                100 * modelFLOPsPerSecondPerRank / baseline.modelFLOPsPerSecondPerRank))
        }
        for c in collectives {
            lines.append("  \(c.group.rawValue) \(c.op.rawValue) × \(c.calls): \(c.bytes) B on \(c.ranks) rank(s), \(c.link): "
                         + "\(c.cost.algorithm) \(ms(c.cost.seconds)) each")
            for a in c.alternatives {
                lines.append("      \(a.algorithm): \(a.formula) = \(ms(a.seconds))")
            }
        }
        return lines
    }
}
