import Foundation
import Tasks

/// bert-race's claim drawn against chance: accuracy on each evaluated RACE file with its 95 %
/// Wilson interval (from the file's question count, `race.FILE.questions`), the chance line of
/// four options, and the paper's figure where it has one for that file.
enum RACEAccuracyFigure {
    static let chance = 0.25

    struct Entry {
        let name: String
        let accuracy: Double
        let questions: Double?
        let paper: Double?
        /// What the longest option and the most passage overlap get right (`RACESurfaceCues`), where recorded.
        let cues: (longest: Double, overlap: Double)?
        var bestCue: Double? { cues.map { Swift.max($0.longest, $0.overlap) } }
        var interval: (low: Double, high: Double)? {
            questions.map { n in
                let range = RACEAccuracy.FileAccuracy.wilsonInterval95(accuracy: accuracy, questions: Int(n))
                return (range.lowerBound, range.upperBound)
            }
        }
    }

    static func entries(_ record: RunRecord) -> [Entry] {
        let runs = record.runs.filter { run in run.metrics.keys.contains { isFileAccuracy($0) } }
        return runs.flatMap { run in
            run.metrics.keys.filter(isFileAccuracy).sorted().map { key in
                let file = String(key.dropFirst("race.".count).dropLast(".accuracy".count))
                let longest = run.metrics["race.\(file).longest_option_accuracy"]
                let overlap = run.metrics["race.\(file).passage_overlap_accuracy"]
                return Entry(name: runs.count > 1 ? "\(run.id): \(file)" : file, accuracy: run.metrics[key]!,
                             questions: run.metrics["race.\(file).questions"], paper: run.metrics["paper.\(key)"],
                             cues: longest.flatMap { l in overlap.map { (l, $0) } })
            }
        }
    }

    static func isFileAccuracy(_ key: String) -> Bool {
        key.hasPrefix("race.") && key.hasSuffix(".accuracy") && key != "race.accuracy"
    }

    static func make(_ record: RunRecord) -> Figure? {
        let entries = entries(record)
        guard !entries.isEmpty else { return nil }
        let y = Axis.linear("accuracy (% of questions right)", covering: [0, 1] + entries.compactMap(\.paper), format: .percent, target: 6)
        let x = Axis.categorical("evaluated file", entries.map(\.name))
        let ours = Figure.palette[0], paperColor = "#555", cueColor = "#27ae60"
        var marks: [Panel.Mark] = [.reference(y: chance, label: "chance, 25 %", color: "#c0392b")]
        for (i, e) in entries.enumerated() {
            let interval = e.interval
            marks.append(.point(series: "ours", x: Double(i) + 0.5, y: e.accuracy, low: interval?.low, high: interval?.high,
                                color: ours, hollow: false))
            marks.append(.label(x: Double(i) + 0.5, y: e.accuracy, text: Axis.label(e.accuracy, step: 0.001, format: .percent), color: ours))
            if let best = e.bestCue {
                marks.append(.point(series: "surface cue", x: Double(i) + 0.5, y: best, low: nil, high: nil, color: cueColor, hollow: true))
                marks.append(.label(x: Double(i) + 0.5, y: best, text: "cue " + Axis.label(best, step: 0.001, format: .percent), color: cueColor))
            }
            if let paper = e.paper {
                marks.append(.point(series: "paper", x: Double(i) + 0.5, y: paper, low: nil, high: nil, color: paperColor, hollow: true))
                marks.append(.label(x: Double(i) + 0.5, y: paper, text: "paper " + Axis.label(paper, step: 0.001, format: .percent),
                                    color: paperColor))
            }
        }
        var legend = [Figure.LegendEntry(swatch: .point, color: ours, text: "ours, with 95 % Wilson interval")]
        if entries.contains(where: { $0.cues != nil }) {
            legend.append(.init(swatch: .hollowPoint, color: cueColor, text: "the better surface cue (longest option or passage overlap)"))
        }
        if entries.contains(where: { $0.paper != nil }) { legend.append(.init(swatch: .hollowPoint, color: paperColor, text: "paper")) }
        legend.append(.init(swatch: .dashed, color: "#c0392b", text: "chance: 1 in 4 options"))
        let findings = entries.map { e -> String in
            let accuracy = Axis.label(e.accuracy, step: 0.001, format: .percent)
            guard let (low, high) = e.interval else { return "\(e.name) \(accuracy) (question count not recorded, no interval)" }
            let relation = high < chance ? "below chance" : low > chance ? "above chance" : "chance inside the interval"
            let cues = e.cues.map { cues in
                let best = e.bestCue!
                let beside = low > best ? "above" : high < best ? "below" : "not apart from"
                return " (\(beside) the surface cues: longest option \(Axis.label(cues.longest, step: 0.001, format: .percent)), "
                    + "most passage overlap \(Axis.label(cues.overlap, step: 0.001, format: .percent)))"
            } ?? ""
            return "\(e.name) \(accuracy) [\(Axis.label(low, step: 0.001, format: .percent)), "
                + "\(Axis.label(high, step: 0.001, format: .percent))], \(relation)" + cues
        }
        return Figure(
            file: "accuracy.svg", title: "\(record.experiment): RACE accuracy against chance (Table 5)",
            note: "Dots: accuracy per evaluated file; bars: 95 % Wilson intervals from each file's question count; dashed: chance.",
            panels: [Panel(title: "", x: x, y: y, top: nil, marks: marks)], legend: legend, caption:
                "Multiple-choice accuracy on each evaluated RACE file with its 95 % Wilson interval, against chance (25 %)"
                + (entries.contains { $0.paper != nil } ? " and the paper's figure" : "") + ". It tests whether fine-tuning learned the task at all: \(findings.joined(separator: "; ")).")
    }
}
