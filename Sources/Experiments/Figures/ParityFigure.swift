import Foundation

/// tp-parity's claim drawn as a difference, not as identical curves: per step, each layout's
/// |loss − reference loss| / reference loss on a log axis, the reference being the first run
/// (tp = dp = 1, as `loss_curve.max_relative_deviation` defines it), against float32's
/// machine epsilon. Steps where the losses are exactly equal sit on the bottom edge as hollow
/// markers (a log axis has no zero).
enum ParityFigure {
    static let floatEpsilon = Double(Float.ulpOfOne)

    static func make(_ record: RunRecord) -> Figure? {
        let runs = record.runs.filter { $0.skipped == nil && !$0.lossCurve.isEmpty }
        guard runs.contains(where: { $0.metrics["loss_curve.max_relative_deviation"] != nil }), runs.count > 1 else { return nil }
        let reference = Dictionary(runs[0].lossCurve.filter { $0.count == 2 }.map { ($0[0], $0[1]) }, uniquingKeysWith: { $1 })
        func layout(_ run: RunResult) -> String {
            let s = RunSettings(run)
            return "tp \(s.tensorParallel) × dp \(s.dataParallel)"
        }
        let deviations = runs.dropFirst().map { run in
            (run: run, points: run.lossCurve.compactMap { p -> (x: Double, y: Double)? in
                guard p.count == 2, let r = reference[p[0]] else { return nil }
                return (p[0], abs(p[1] - r) / abs(r))
            })
        }
        let positive = deviations.flatMap { $0.points.map(\.y) }.filter { $0 > 0 }
        let y = Axis.log("|loss − loss at \(layout(runs[0]))| ÷ loss", covering: positive + [floatEpsilon])
        let lastStep = deviations.flatMap { $0.points.map(\.x) }.max() ?? 1
        let x = Axis.linear("training step", covering: [0, lastStep], target: 6)
        var marks: [Panel.Mark] = [.reference(y: floatEpsilon, label: "float32 machine epsilon, \(Axis.scientific(floatEpsilon))", color: "#555")]
        var legend: [Figure.LegendEntry] = []
        for (i, d) in deviations.enumerated() {
            let color = Figure.palette[i % Figure.palette.count], name = layout(d.run)
            marks.append(.line(series: name, points: d.points.filter { $0.y > 0 }, color: color, width: 1.4, opacity: 1, role: "series"))
            marks += d.points.filter { $0.y == 0 }.map {
                .point(series: name, x: $0.x, y: y.lower, low: nil, high: nil, color: color, hollow: true)
            }
            let worst = d.points.map(\.y).max() ?? 0
            legend.append(.init(swatch: .line, color: color, text: "\(name): largest \(Axis.scientific(worst))"))
        }
        legend.append(.init(swatch: .dashed, color: "#555", text: "float32 machine epsilon"))
        let worst = positive.max() ?? 0
        return Figure(
            file: "deviation.svg", title: "\(record.experiment): every layout trains the tp = dp = 1 model",
            note: "Relative difference of each layout's loss from \(layout(runs[0]))'s at every step; hollow markers on the bottom edge: exactly equal.",
            panels: [Panel(title: "", x: x, y: y, top: nil, marks: marks)], legend: legend,
            caption: "Per-step relative deviation of each tensor × data parallel layout's training loss from the \(layout(runs[0])) run "
                + "(log axis). It supports the invariant that model parallelism changes no arithmetic beyond float rounding: "
                + "the largest deviation over all steps and layouts, \(Axis.scientific(worst)), is "
                + "\(Int((floatEpsilon / Swift.max(worst, .leastNonzeroMagnitude)).rounded(.down))) times smaller than float32's machine epsilon.")
    }
}
