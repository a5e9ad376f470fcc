/// The `scaling-model` figure (Figure 5 with the model beside it): weak-scaling efficiency
/// against the tensor-parallel size: the paper's, the model's prediction on the paper's machine,
/// and ours measured and predicted on each machine that ran the `scaling` runs (tp only).
struct ScalingModelPlot {
    let record: RunRecord

    /// nil for a record without the model's paper rows.
    init?(record: RunRecord) {
        guard record.runs.contains(where: { $0.metrics["paper.efficiency"] != nil && $0.metrics["model.efficiency"] != nil })
        else { return nil }
        self.record = record
    }

    var plot: SVGPlot {
        func line(_ name: String, _ key: String, _ rows: (RunResult) -> Bool) -> SVGPlot.Series {
            SVGPlot.Series(name: name, points: record.runs.filter(rows).compactMap { run in
                guard let tp = run.metrics["model.tp"], let y = run.metrics[key] else { return nil }
                return (x: tp, y: y)
            }.sorted { $0.x < $1.x })
        }
        let paper = { (dp: Double) in { (run: RunResult) in run.id.hasPrefix("paper") && run.metrics["model.dp"] == dp } }
        let ours = { (label: String) in { (run: RunResult) in run.id.hasPrefix(label + " tp") && run.metrics["model.dp"] == 1 } }
        let series = [
            line("paper, tp only (Fig. 5)", "paper.efficiency", paper(1)),
            line("model on DGX-2H, tp only", "model.efficiency", paper(1)),
            line("paper, tp × dp 64", "paper.efficiency", paper(64)),
            line("model on DGX-2H, tp × dp 64", "model.efficiency", paper(64)),
            line("2-core measured", "measured.efficiency", ours("2-core")),
            line("2-core model", "model.efficiency", ours("2-core")),
            line("2-core model, compute fitted", "model.efficiency", ours("2-core fitted")),
            line("16-core measured", "measured.efficiency", ours("16-core")),
            line("16-core model", "model.efficiency", ours("16-core")),
        ].filter { !$0.points.isEmpty }
        return SVGPlot(title: "\(record.experiment): weak-scaling efficiency, paper, model and measured",
                       xLabel: "tensor-parallel size", yLabel: "model FLOP/s per rank ÷ tp = 1", series: series)
    }
}
