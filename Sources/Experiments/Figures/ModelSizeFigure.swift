/// gpt2-sizes' claim (Tables 2 and 3: bigger models reach lower WikiText-103 perplexity): adjusted
/// perplexity against parameters on a log axis, ours and the paper's each on its own axes, since
/// the two span different sizes (millions here, billions there) and perplexities.
enum ModelSizeFigure {
    /// Our parameter count: a tp = 1 run's parameters on its one rank.
    static func parameters(_ run: RunResult) -> Double? {
        if let total = run.metrics["train.parameters"] { return total }
        guard RunSettings(run).tensorParallel == 1 else { return nil }
        return run.metrics["train.parameters_per_rank"]
    }

    static func make(_ record: RunRecord) -> Figure? {
        let ours = record.runs.compactMap { run -> (x: Double, y: Double)? in
            guard let ppl = run.metrics["wikitext103.adjusted_ppl"], let n = parameters(run) else { return nil }
            return (n, ppl)
        }.sorted { $0.x < $1.x }
        guard ours.count > 1 else { return nil }
        let paper = record.runs.compactMap { run -> (x: Double, y: Double)? in
            guard let ppl = run.metrics["paper.wikitext103.adjusted_ppl"], let b = run.metrics["paper.billion_parameters"] else { return nil }
            return (b * 1e9, ppl)
        }.sorted { $0.x < $1.x }
        let trained = record.runs.lazy.compactMap { run in
            RunSettings(run).tokensPerStep.flatMap { rate in run.metrics["train.steps"].map { $0 * rate } }
        }.first
        let oursTitle = "ours" + (trained.map { ": trained on \(Axis.size($0)) tokens" } ?? "")
        var panels = [panel(oursTitle, ours, color: Figure.palette[0], hollow: false)]
        var legend = [Figure.LegendEntry(swatch: .point, color: Figure.palette[0], text: "ours: " + summary(ours))]
        if paper.count > 1 {
            panels.append(panel("paper (Shoeybi et al. 2019)", paper, color: "#555", hollow: true))
            legend.append(.init(swatch: .hollowPoint, color: "#555", text: "paper: " + summary(paper)))
        }
        func falls(_ points: [(x: Double, y: Double)]) -> Bool { zip(points, points.dropFirst()).allSatisfy { $1.y < $0.y } }
        let verdict = falls(ours) ? "falls with every size step here" : "does not fall with every size step here"
        return Figure(
            file: "perplexity.svg", title: "\(record.experiment): WikiText-103 perplexity against model size (Tables 2, 3)",
            note: "Adjusted (word-level) perplexity, lower is better; each panel on its own axes.",
            panels: panels, legend: legend,
            caption: "WikiText-103 adjusted perplexity against parameters (log axis), ours left and the paper's right on their own axes. "
                + "It tests the paper's claim that perplexity falls as the model grows: ours \(verdict) (\(summary(ours)))"
                + (paper.count > 1 ? ", as the paper's does (\(summary(paper)))." : "."))
    }

    static func summary(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(formatNumber($0.y))" }.joined(separator: " → ")
            + " at " + points.map { Axis.size($0.x) }.joined(separator: ", ") + " parameters"
    }

    static func panel(_ title: String, _ points: [(x: Double, y: Double)], color: String, hollow: Bool) -> Panel {
        let x = Axis.log("parameters", covering: points.map(\.x), format: .suffixed)
        let y = Axis.linear("WikiText-103 adjusted perplexity", covering: points.map(\.y), target: 6)
        var marks: [Panel.Mark] = [.line(series: title, points: points, color: color, width: 1.5, opacity: 1, role: "series")]
        for p in points {
            marks.append(.point(series: title, x: p.x, y: p.y, low: nil, high: nil, color: color, hollow: hollow))
            marks.append(.label(x: p.x, y: p.y, text: formatNumber(p.y), color: color))
        }
        return Panel(title: title, x: x, y: y, top: nil, marks: marks)
    }
}
