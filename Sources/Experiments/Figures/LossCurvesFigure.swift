import Foundation

/// Training loss against steps (tokens along the top): each setting's loss smoothed by an EMA
/// over its raw per-step values drawn faint, seeds of one setting as a band (their smoothed
/// minimum to maximum) around their mean, and each curve's final loss in the legend. Runs that
/// differ in layer-norm order are split into the paper's Figure 7 panels (original order |
/// rearranged order, each depth a curve); runs with different losses (language model, masked LM,
/// multiple choice) get a panel each.
enum LossCurvesFigure {
    /// What a run's loss measures, for the panel it goes in.
    enum Loss: Int, Comparable {
        case languageModel, maskedLanguageModel, multipleChoice

        init(_ group: SeedGroup) {
            if group.runs[0].metrics["race.accuracy"] != nil {
                self = .multipleChoice
            } else {
                self = group.settings.family == "bert" ? .maskedLanguageModel : .languageModel
            }
        }

        var title: String {
            switch self {
            case .languageModel: "GPT language-model loss"
            case .maskedLanguageModel: "BERT masked-LM + sentence-order loss"
            case .multipleChoice: "RACE fine-tuning (multiple choice)"
            }
        }

        var axisLabel: String {
            switch self {
            case .languageModel: "loss (nats per token)"
            case .maskedLanguageModel: "loss (nats, masked LM + sentence order)"
            case .multipleChoice: "loss (nats per question)"
            }
        }

        static func < (a: Loss, b: Loss) -> Bool { a.rawValue < b.rawValue }
    }

    /// One drawn curve: a setting's seeds, smoothed.
    struct Curve {
        let group: SeedGroup
        let label: String
        let color: String
        let steps: [Double]
        let raw: [[Double]]
        let smoothed: [[Double]]

        init(group: SeedGroup, label: String, color: String, smoothing: ExponentialMovingAverage) {
            self.group = group
            self.label = label
            self.color = color
            let curves = group.runs.map { $0.lossCurve.filter { $0.count == 2 && $0[1].isFinite } }
            // Seeds are compared step by step over the steps every seed recorded.
            let shared = curves.dropFirst().reduce(Set(curves[0].map { $0[0] })) { $0.intersection($1.map { $0[0] }) }
            steps = curves[0].map { $0[0] }.filter(shared.contains)
            raw = curves.map { curve in curve.filter { shared.contains($0[0]) }.map { $0[1] } }
            smoothed = raw.map(smoothing.smoothed)
        }

        var mean: [Double] { steps.indices.map { i in smoothed.reduce(0) { $0 + $1[i] } / Double(smoothed.count) } }

        /// Each seed's final loss as the runner records it: the mean of its last tenth of steps.
        var finals: [Double] {
            raw.map { values in
                let tail = values.suffix(Swift.max(1, values.count / 10))
                return tail.reduce(0, +) / Double(tail.count)
            }
        }

        var finalMean: Double { finals.reduce(0, +) / Double(finals.count) }

        var legendText: String {
            let f = finals
            guard f.count > 1 else { return "\(label): final \(formatNumber(f[0]))" }
            return "\(label): final \(formatNumber(finalMean)) (\(f.count) seeds, \(formatNumber(f.min()!))–\(formatNumber(f.max()!)))"
        }

        /// The smoothed values past the first tenth of training: what the y axis must show.
        var settledValues: [Double] {
            let from = steps.count / 10
            return smoothed.flatMap { $0.dropFirst(from) }
        }

        func marks() -> [Panel.Mark] {
            var marks: [Panel.Mark] = raw.map { values in
                .line(series: label, points: zip(steps, values).map { ($0, $1) }, color: color, width: 0.8, opacity: 0.25, role: "raw")
            }
            if smoothed.count > 1 {
                let lower = steps.indices.map { i in (steps[i], smoothed.map { $0[i] }.min()!) }
                let upper = steps.indices.map { i in (steps[i], smoothed.map { $0[i] }.max()!) }
                marks.append(.band(series: label, lower: lower, upper: upper, color: color))
            }
            marks.append(.line(series: label, points: zip(steps, mean).map { ($0, $1) }, color: color, width: 2.2, opacity: 1,
                               role: "series"))
            return marks
        }
    }

    static func make(_ record: RunRecord) -> Figure? {
        let groups = SeedGroup.grouped(record.runs.filter { $0.skipped == nil && $0.lossCurve.contains { $0.count == 2 } })
        guard !groups.isEmpty else { return nil }
        let orders = Set(groups.compactMap(\.settings.postLayerNorm))
        // One smoothing for the whole figure, from its longest curve, so that curves compare.
        let smoothing = ExponentialMovingAverage(steps: groups.flatMap(\.runs).map(\.lossCurve.count).max() ?? 1)
        return orders.count > 1 ? layerNormPanels(groups, record, smoothing) : panelsByLoss(groups, record, smoothing)
    }

    /// Figure 7: original (post-LN) order left, rearranged (pre-LN) right, one colour per depth,
    /// one y axis for both so that the panels compare.
    static func layerNormPanels(_ groups: [SeedGroup], _ record: RunRecord, _ smoothing: ExponentialMovingAverage) -> Figure {
        let depths = Set(groups.compactMap(\.settings.layers)).sorted()
        let depthName = { (layers: Int) in
            layers == depths.first ? "shallow, \(layers) layers" : layers == depths.last ? "deep, \(layers) layers" : "\(layers) layers"
        }
        var curvesByOrder: [(title: String, curves: [Curve])] = []
        for (post, title) in [(true, "original order (post-LN)"), (false, "rearranged order (pre-LN)")] {
            let curves = groups.filter { $0.settings.postLayerNorm == post }
                .sorted { ($0.settings.layers ?? 0) < ($1.settings.layers ?? 0) }
                .map { group in
                    let layers = group.settings.layers ?? 0
                    return Curve(group: group, label: "\(post ? "post-LN" : "pre-LN"), \(depthName(layers))",
                                 color: Figure.palette[(depths.firstIndex(of: layers) ?? 0) == 0 ? 0 : 1], smoothing: smoothing)
                }
            if !curves.isEmpty { curvesByOrder.append((title, curves)) }
        }
        let all = curvesByOrder.flatMap(\.curves)
        let y = Axis.linear(Loss.maskedLanguageModel.axisLabel, covering: all.flatMap(\.settledValues), target: 6)
        let panels = curvesByOrder.map { panel($0.title, $0.curves, y: y) }
        var supports: [String] = []
        for (title, curves) in curvesByOrder where curves.count > 1 {
            let shallow = curves.first!, deep = curves.last!
            let (d, s) = (deep.finals, shallow.finals)
            // Seeds' ranges that overlap are no difference, however the means fall.
            let relation = d.min()! <= s.max()! && s.min()! <= d.max()! ? "level with (the seeds' ranges overlap)"
                : deep.finalMean < shallow.finalMean ? "lower than" : "higher than"
            supports.append("\(title): the deep stack ends \(relation) the shallow one "
                + "(\(formatNumber(deep.finalMean)) against \(formatNumber(shallow.finalMean)))")
        }
        let smoothing = smoothing.description
        return Figure(
            file: "loss.svg", title: "\(record.experiment): BERT pretraining loss by layer-norm order and depth (Figure 7)",
            note: "Lines: \(smoothing) of the per-step loss\(all.contains { $0.raw.count > 1 } ? ", mean over seeds; bands: seeds' range" : ""); "
                + "faint: the raw per-step values; y axis from the loss after 10 % of the steps.",
            panels: panels, legend: all.map { .init(swatch: .line, color: $0.color, text: $0.legendText) },
            caption: "Training loss of BERT with the original (post-LN) and the rearranged (pre-LN) layer-norm order at "
                + depths.map(String.init).joined(separator: " and ") + " layers (\(smoothing); final = mean of the last 10 % of steps). "
                + "It tests Figure 7's claim that the original order degrades with depth while the rearranged one improves: "
                + supports.joined(separator: "; ") + ".")
    }

    /// One panel per kind of loss; each setting a colour.
    static func panelsByLoss(_ groups: [SeedGroup], _ record: RunRecord, _ smoothing: ExponentialMovingAverage) -> Figure {
        let kinds = Set(groups.map(Loss.init)).sorted()
        var curves: [Curve] = []
        var panels: [Panel] = []
        for kind in kinds {
            let these = groups.filter { Loss($0) == kind }.enumerated().map { i, group in
                Curve(group: group, label: group.label + (ModelSizeFigure.parameters(group.runs[0]).map { " (\(Axis.size($0)) parameters)" } ?? ""),
                      color: Figure.palette[(curves.count + i) % Figure.palette.count],
                      smoothing: smoothing)
            }
            curves += these
            // A multiple-choice loss is read from 0 (every answer certain and right) against ln 4,
            // the loss of guessing among four options, with room above it for its label.
            let guessing = kind == .multipleChoice ? [0, log(4.0), 1.15 * log(4.0)] : []
            let y = Axis.linear(kind.axisLabel, covering: these.flatMap(\.settledValues) + guessing, target: 6)
            var drawn = panel(kinds.count > 1 ? kind.title : "", these, y: y)
            drawn.marks += guessing.dropFirst().prefix(1).map { .reference(y: $0, label: "ln 4 = 1.386: guessing among 4 options", color: "#555") }
            panels.append(drawn)
        }
        let smoothing = smoothing.description
        let finals = curves.map { "\($0.label) \(formatNumber($0.finalMean))" }.joined(separator: ", ")
        let guessing = curves.filter { Loss($0.group) == .multipleChoice }.map { curve in
            let near = abs(curve.finalMean - log(4.0)) / log(4.0) < 0.02
            return " \(curve.group.label)'s fine-tuning loss ends \(near ? "at" : curve.finalMean < log(4.0) ? "below" : "above") "
                + "ln 4 = 1.386, the loss of guessing among four options" + (near ? " (within 2 %)." : ".")
        }.joined()
        return Figure(
            file: "loss.svg", title: "\(record.experiment): training loss",
            note: "Lines: \(smoothing) of the per-step loss; faint: the raw per-step values; y axis from the loss after 10 % of the steps.",
            panels: panels, legend: curves.map { .init(swatch: .line, color: $0.color, text: $0.legendText) },
            caption: "Training loss per step of each run (\(smoothing)), steps below and tokens seen above. "
                + "It shows how each loss moved and where it ended (final = mean of the last 10 % of steps, as in the table): \(finals)."
                + guessing)
    }

    /// Steps along the bottom, tokens along the top where every curve sees the same tokens per step.
    static func panel(_ title: String, _ curves: [Curve], y: Axis) -> Panel {
        let lastStep = curves.flatMap(\.steps).max() ?? 1
        let x = Axis.linear("training step", covering: [0, lastStep], target: 6)
        let rates = Set(curves.compactMap { $0.group.settings.tokensPerStep })
        let multipleChoice = curves.contains { Loss($0.group) == .multipleChoice }
        var top: Axis?
        if rates.count == 1, !multipleChoice, let rate = rates.first {
            let ticks = Ticks.linear(x.lower * rate, x.upper * rate, target: 6).values.filter { $0 <= x.upper * rate * (1 + 1e-9) }
            top = Axis(label: "tokens seen (\(formatNumber(rate)) per step)", scale: .linear, format: .suffixed,
                       lower: x.lower * rate, upper: x.upper * rate, ticks: ticks)
        }
        return Panel(title: title, x: x, y: y, top: top, marks: curves.flatMap { $0.marks() })
    }
}
