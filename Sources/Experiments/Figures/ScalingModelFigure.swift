/// The `scaling-model` figure: weak-scaling efficiency per layout as grouped bars, what was
/// measured (the paper's V100s, this machine's cores, the 16-core host's) beside what the
/// performance model predicts for the same layout on that machine's description. One panel per
/// machine, so each prediction stands next to the measurement it is judged against.
enum ScalingModelFigure {
    struct Source: Sendable {
        let name: String
        /// Rows whose id starts with this (and not with a longer prefix of another source).
        let prefix: String
        let metric: String
        let color: String
    }

    struct Group: Sendable {
        let title: String
        let dataParallel: (@Sendable (Double) -> Bool)?
        let sources: [Source]
    }

    static let measured = "#9a9a9a", predicted = Figure.palette[3], fitted = Figure.palette[4]

    static let groups = [
        Group(title: "paper's V100s, tp only", dataParallel: { $0 == 1 }, sources: [
            Source(name: "measured (paper's, or ours)", prefix: "paper ", metric: "paper.efficiency", color: measured),
            Source(name: "predicted by the model", prefix: "paper ", metric: "model.efficiency", color: predicted)]),
        Group(title: "paper's V100s, tp × dp 64", dataParallel: { $0 == 64 }, sources: [
            Source(name: "measured (paper's, or ours)", prefix: "paper ", metric: "paper.efficiency", color: measured),
            Source(name: "predicted by the model", prefix: "paper ", metric: "model.efficiency", color: predicted)]),
        Group(title: "this machine, 2 cores", dataParallel: nil, sources: [
            Source(name: "measured (paper's, or ours)", prefix: "2-core tp", metric: "measured.efficiency", color: measured),
            Source(name: "predicted by the model", prefix: "2-core tp", metric: "model.efficiency", color: predicted),
            Source(name: "predicted, compute fitted to the record", prefix: "2-core fitted tp", metric: "model.efficiency",
                   color: fitted)]),
        Group(title: "16-core host", dataParallel: nil, sources: [
            Source(name: "measured (paper's, or ours)", prefix: "16-core tp", metric: "measured.efficiency", color: measured),
            Source(name: "predicted by the model", prefix: "16-core tp", metric: "model.efficiency", color: predicted)]),
    ]

    static func make(_ record: RunRecord) -> Figure? {
        guard record.runs.contains(where: { $0.metrics["paper.efficiency"] != nil && $0.metrics["model.efficiency"] != nil })
        else { return nil }
        func layout(_ run: RunResult) -> String? {
            guard let tp = run.metrics["model.tp"], let dp = run.metrics["model.dp"] else { return nil }
            return "\(formatNumber(tp))×\(formatNumber(dp))"
        }
        let y = Axis.linear("efficiency (model FLOP/s per rank ÷ tp 1's)", covering: [0, 1] + record.runs.flatMap { run in
            ["paper.efficiency", "model.efficiency", "measured.efficiency"].compactMap { run.metrics[$0] }
        }, format: .percent, target: 6)
        var panels: [Panel] = []
        var legend: [Figure.LegendEntry] = []
        for group in groups {
            let rows = record.runs.filter { run in
                group.sources.contains { run.id.hasPrefix($0.prefix) }
                    && group.dataParallel.map { accepts in run.metrics["model.dp"].map(accepts) ?? false } ?? true
            }
            let categories = rows.filter { $0.id.hasPrefix(group.sources[0].prefix) }.compactMap(layout)
            guard !categories.isEmpty else { continue }
            let marks = group.sources.enumerated().map { slot, source in
                Panel.Mark.bars(series: source.name, values: categories.map { category in
                    rows.first { $0.id.hasPrefix(source.prefix) && layout($0) == category }?.metrics[source.metric]
                }, slot: slot, slots: group.sources.count, color: source.color, missing: "not predicted")
            }
            for source in group.sources where !legend.contains(where: { $0.text == source.name }) {
                legend.append(.init(swatch: .bar, color: source.color, text: source.name))
            }
            panels.append(Panel(title: group.title, x: .categorical("layout: tp × dp (ranks per model × replicas)", categories),
                                y: y, top: nil, marks: marks))
        }
        return Figure(
            file: "prediction.svg", title: "\(record.experiment): weak-scaling efficiency, measured and predicted",
            note: "Each panel is one machine: its measured efficiency beside the performance model's prediction on that "
                + "machine's description (machines/*.json). The paper's panels use only its 1-GPU 39 TFLOP/s as compute calibration.",
            panels: panels, legend: legend,
            caption: "Weak-scaling efficiency per layout, measured beside predicted, one panel per machine: the paper's V100s "
                + "(tp only and with 64-way data parallelism), this 2-core machine (also with the compute rate fitted to the "
                + "record, named as fitted) and the 16-core host. It tests how far the model, calibrated as the table says, "
                + "lands from what was measured.")
    }
}
