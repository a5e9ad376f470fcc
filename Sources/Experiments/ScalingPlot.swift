/// The scaling figure (the paper's Figure 5 analogue): weak-scaling efficiency against the
/// tensor-parallel size, one line per data-parallel size, ours (`timing.efficiency`) beside the
/// paper's (`paper.timing.efficiency`, at the paper's data-parallel size `paper.timing.dp`
/// where it differs from ours).
struct ScalingPlot {
    let record: RunRecord

    /// nil for a record without timed runs.
    init?(record: RunRecord) {
        guard record.runs.contains(where: { $0.metrics["timing.tp"] != nil }) else { return nil }
        self.record = record
    }

    var plot: SVGPlot {
        var series: [SVGPlot.Series] = []
        let timed = record.runs.filter { $0.metrics["timing.tp"] != nil }
        for (source, dpKey, name) in [("timing.efficiency", "timing.dp", "ours"),
                                      ("paper.timing.efficiency", "paper.timing.dp", "paper")] {
            var byDP: [Double: [(x: Double, y: Double)]] = [:]
            for run in timed {
                guard let efficiency = run.metrics[source], let tp = run.metrics["timing.tp"] else { continue }
                let dp = run.metrics[dpKey] ?? run.metrics["timing.dp"] ?? 1
                byDP[dp, default: []].append((x: tp, y: efficiency))
            }
            for dp in byDP.keys.sorted() {
                let label = dp == 1 ? "\(name), tp only" : "\(name), tp × dp \(formatNumber(dp))"
                series.append(SVGPlot.Series(name: label, points: byDP[dp]!.sorted { $0.x < $1.x }))
            }
        }
        return SVGPlot(title: "\(record.experiment): weak-scaling efficiency", xLabel: "tensor-parallel size",
                       yLabel: "model FLOP/s per rank ÷ tp = 1", series: series)
    }
}
