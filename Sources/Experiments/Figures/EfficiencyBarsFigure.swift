/// The scaling figure as the paper's Figure 5 draws it: weak-scaling efficiency per tensor-parallel
/// size as grouped bars, tensor parallelism alone in one panel and with data parallelism in the
/// other, each source a bar beside the others. A source is a metric every timing run may carry;
/// a record without it (no performance model yet) simply draws no such bar.
enum EfficiencyBarsFigure {
    struct Source {
        let name: String
        let metric: String
        let color: String
    }

    static let sources = [
        Source(name: "paper (V100 GPUs)", metric: "paper.timing.efficiency", color: "#9a9a9a"),
        Source(name: "ours (CPU cores)", metric: "timing.efficiency", color: Figure.palette[0]),
        Source(name: "predicted (performance model)", metric: "predicted.timing.efficiency", color: Figure.palette[3]),
    ]

    static func make(_ record: RunRecord) -> Figure? {
        let timed = record.runs.filter { $0.metrics["timing.tp"] != nil }
        guard timed.contains(where: { $0.metrics["timing.efficiency"] != nil }) else { return nil }
        let present = sources.filter { s in timed.contains { $0.metrics[s.metric] != nil } }
        let sizes = Set(timed.compactMap { $0.metrics["timing.tp"] }).sorted()
        let y = Axis.linear("efficiency (model FLOP/s per rank ÷ tp = 1's)", covering: [0, 1] + timed.flatMap { run in
            present.compactMap { run.metrics[$0.metric] }
        }, format: .percent, target: 6)
        var panels: [Panel] = []
        for dataParallel in [false, true] {
            let runs = timed.filter { (($0.metrics["timing.dp"] ?? 1) > 1) == dataParallel }
            guard !runs.isEmpty else { continue }
            let ourDP = runs.compactMap { $0.metrics["timing.dp"] }.max() ?? 1
            let paperDP = runs.compactMap { $0.metrics["paper.timing.dp"] }.max()
            let title = !dataParallel ? "tensor parallel only"
                : "with data parallel (ours dp \(formatNumber(ourDP))" + (paperDP.map { ", paper dp \(formatNumber($0)))" } ?? ")")
            let marks = present.enumerated().map { slot, source in
                Panel.Mark.bars(series: source.name, values: sizes.map { tp in
                    runs.first { $0.metrics["timing.tp"] == tp }?.metrics[source.metric]
                }, slot: slot, slots: present.count, color: source.color, missing: "not run here")
            }
            panels.append(Panel(title: title, x: .categorical("tensor-parallel size (ranks per model)", sizes.map { formatNumber($0) }),
                                y: y, top: nil, marks: marks))
        }
        let compared = timed.filter { ($0.metrics["timing.tp"] ?? 1) > 1 || ($0.metrics["timing.dp"] ?? 1) > 1 }
            .compactMap { run -> String? in
                guard let ours = run.metrics["timing.efficiency"] else { return nil }
                let paper = run.metrics["paper.timing.efficiency"].map { " (paper \(Axis.label($0, step: 0.01, format: .percent)))" } ?? ""
                return "tp \(formatNumber(run.metrics["timing.tp"]!)) × dp \(formatNumber(run.metrics["timing.dp"] ?? 1)) "
                    + Axis.label(ours, step: 0.001, format: .percent) + paper
            }
        return Figure(
            file: "efficiency.svg", title: "\(record.experiment): weak-scaling efficiency (Figure 5)",
            note: "Model FLOP/s per rank against tp = 1's, parameters per rank held about constant; 100 % is perfect scaling.",
            panels: panels, legend: present.map { .init(swatch: .bar, color: $0.color, text: $0.name) },
            caption: "Weak-scaling efficiency per tensor-parallel size, tensor parallelism alone (left) and with data parallelism "
                + "(right), the paper's bars beside ours" + (present.count > 2 ? " and the performance model's" : "")
                + "; sizes this machine cannot host are marked not run. It tests Figure 5's claim that efficiency stays high as "
                + "tensor parallelism grows: " + compared.joined(separator: ", ") + ".")
    }
}
