/// A figure as the paper draws one: a title, a line saying how to read it, panels side by side
/// and one legend for all of them. `caption` is the line `results/README.md` prints under it.
struct Figure: Sendable {
    struct LegendEntry: Sendable {
        enum Swatch: Sendable { case line, bar, point, hollowPoint, dashed }
        var swatch: Swatch
        var color: String
        var text: String
    }

    /// The file name under `results/NAME/` ("loss.svg").
    var file: String
    var title: String
    /// How to read it (smoothing, intervals, clipped axes); drawn under the title.
    var note: String
    var panels: [Panel]
    var legend: [LegendEntry]
    /// What it shows and what it supports, for the README.
    var caption: String
    var panelWidth = 380.0
    var panelHeight = 330.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// Panels side by side, the legend in columns under them, the note wrapped to the width.
    func render() -> String {
        var svg = SVGCanvas()
        // A lone panel gets the width two would share, so that its curves are not squeezed.
        let panelWidth = panels.count == 1 ? Swift.max(self.panelWidth, 560) : self.panelWidth
        let columnWidth = (legend.map { SVGCanvas.textWidth($0.text, size: 12) }.max() ?? 0) + 44
        let width = Swift.max(Double(panels.count) * panelWidth, columnWidth + 20, SVGCanvas.textWidth(title, size: 15) * 0.95 + 28)
        let noteLines = Self.wrapped(note, width: width - 28, size: 11)
        let header = 34 + 15 * Double(noteLines.count)
        svg.text(14, 22, title, size: 15, bold: true, role: "title")
        for (i, line) in noteLines.enumerated() {
            svg.text(14, 40 + 15 * Double(i), line, size: 11, color: "#555", role: "note")
        }
        for (i, panel) in panels.enumerated() {
            panel.render(into: &svg, x: Double(i) * panelWidth, y: header, width: panelWidth, height: panelHeight)
        }
        let columns = Swift.max(1, Swift.min(legend.count, Int((width - 20) / columnWidth)))
        let rows = (legend.count + columns - 1) / columns
        for (i, entry) in legend.enumerated() {
            let left = 20 + Double(i % columns) * columnWidth, y = header + panelHeight + 14 + Double(i / columns) * 20
            switch entry.swatch {
            case .line: svg.line(left, y - 4, left + 24, y - 4, stroke: entry.color, width: 2.5)
            case .dashed: svg.line(left, y - 4, left + 24, y - 4, stroke: entry.color, width: 1.5, dash: "6 4")
            case .bar: svg.rect(left + 4, y - 11, 16, 12, fill: entry.color)
            case .point: svg.circle(left + 12, y - 4, r: 4.5, fill: entry.color)
            case .hollowPoint: svg.circle(left + 12, y - 4, r: 4.5, fill: "white", stroke: entry.color)
            }
            svg.text(left + 30, y, entry.text, size: 12, role: "legend-entry")
        }
        return svg.document(width: width, height: header + panelHeight + 8 + 20 * Double(rows))
    }

    /// `text` broken at spaces into lines that fit `width`.
    static func wrapped(_ text: String, width: Double, size: Double) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if SVGCanvas.textWidth(candidate, size: size) > width, !line.isEmpty {
                lines.append(line)
                line = String(word)
            } else {
                line = candidate
            }
        }
        return lines + (line.isEmpty ? [] : [line])
    }
}
