/// One plot area of a figure: its axes and what is drawn on them, in value coordinates. The
/// figure places panels side by side; `render` draws one into the rectangle it is given.
struct Panel: Sendable {
    typealias Point = (x: Double, y: Double)

    enum Mark: Sendable {
        /// A series' line (`role` "series"), or the faint raw values under it ("raw").
        case line(series: String, points: [Point], color: String, width: Double, opacity: Double, role: String)
        /// A shaded range between two curves (seeds' spread).
        case band(series: String, lower: [Point], upper: [Point], color: String)
        /// Grouped bars on a categorical x axis: `slot` of `slots` within each category; nil
        /// where there is no value, drawn as `missing` at the base.
        case bars(series: String, values: [Double?], slot: Int, slots: Int, color: String, missing: String)
        /// A marker with an optional interval (a 95 % confidence interval).
        case point(series: String, x: Double, y: Double, low: Double?, high: Double?, color: String, hollow: Bool)
        /// A horizontal reference line with its label (chance, float rounding).
        case reference(y: Double, label: String, color: String)
        /// A value written beside a point.
        case label(x: Double, y: Double, text: String, color: String)
    }

    var title: String
    var x: Axis
    var y: Axis
    /// A second scale along the top for the same x positions (tokens for steps).
    var top: Axis?
    var marks: [Mark]

    /// The space around the plot area for ticks, axis titles and the panel title.
    static let margin = (left: 74.0, right: 14.0, top: 34.0, bottom: 48.0)
    static let topAxisSpace = 34.0

    func render(into svg: inout SVGCanvas, x left: Double, y top: Double, width: Double, height: Double) {
        let m = Self.margin
        let plotLeft = left + m.left, plotTop = top + m.top + (self.top == nil ? 0 : Self.topAxisSpace)
        let plotW = width - m.left - m.right, plotH = top + height - m.bottom - plotTop
        func px(_ v: Double) -> Double { plotLeft + x.fraction(v) * plotW }
        func py(_ v: Double) -> Double { plotTop + (1 - y.fraction(v)) * plotH }

        svg.text(plotLeft + plotW / 2, top + 16, title, anchor: .middle, size: 13, bold: true, role: "panel-title")
        for (value, label) in zip(y.ticks, y.tickLabels) {
            svg.line(plotLeft, py(value), plotLeft + plotW, py(value), stroke: "#e4e4e4", role: "grid")
            svg.line(plotLeft - 4, py(value), plotLeft, py(value), stroke: "#444", role: "tick-y")
            svg.text(plotLeft - 7, py(value) + 4, label, anchor: .end, size: 11, role: "tick-label-y")
        }
        for (value, label) in zip(x.ticks, x.tickLabels) {
            svg.line(px(value), plotTop + plotH, px(value), plotTop + plotH + 4, stroke: "#444", role: "tick-x")
            svg.text(px(value), plotTop + plotH + 17, label, anchor: .middle, size: 11, role: "tick-label-x")
        }
        svg.text(plotLeft + plotW / 2, plotTop + plotH + 38, x.label, anchor: .middle, size: 12, role: "axis-label-x")
        svg.text(left + 16, plotTop + plotH / 2, y.label, anchor: .middle, size: 12, rotated: true, role: "axis-label-y")
        if let topAxis = self.top {
            for (value, label) in zip(topAxis.ticks, topAxis.tickLabels) {
                let at = plotLeft + topAxis.fraction(value) * plotW
                svg.line(at, plotTop - 4, at, plotTop, stroke: "#444", role: "tick-top")
                svg.text(at, plotTop - 8, label, anchor: .middle, size: 11, role: "tick-label-top")
            }
            svg.text(plotLeft + plotW / 2, plotTop - 24, topAxis.label, anchor: .middle, size: 12, role: "axis-label-top")
        }
        let clip = svg.clip(plotLeft, plotTop, plotW, plotH)
        for mark in marks {
            switch mark {
            case let .band(series, lower, upper, color):
                svg.path((lower + upper.reversed()).map { (px($0.x), py($0.y)) }, stroke: nil, opacity: 0.22, fill: color,
                         clip: clip, role: "band", series: series)
            case let .line(series, points, color, width, opacity, role):
                svg.path(points.filter { $0.y.isFinite && (y.scale != .log || $0.y > 0) }.map { (px($0.x), py($0.y)) }, stroke: color, width: width,
                         opacity: opacity, clip: clip, role: role, series: series)
            case let .bars(series, values, slot, slots, color, missing):
                let slotWidth = plotW / x.upper * 0.8 / Double(slots)
                for (i, value) in values.enumerated() {
                    let xLeft = px(Double(i) + 0.1) + Double(slot) * slotWidth
                    if let value {
                        svg.rect(xLeft + 1, py(value), slotWidth - 2, py(y.lower) - py(value), fill: color, role: "bar", series: series)
                        svg.text(xLeft + slotWidth / 2, py(value) - 4, Axis.label(value, step: 0.01, format: y.format),
                                 anchor: .middle, size: 10, role: "bar-value")
                    } else {
                        svg.rect(xLeft + 1, py(y.lower) - 2, slotWidth - 2, 2, fill: color, role: "bar-missing", series: series)
                        svg.text(xLeft + slotWidth / 2 + 3, py(y.lower) - 6, missing, size: 10, color: "#777", rotated: true,
                                 role: "bar-missing-label")
                    }
                }
            case let .point(series, px0, py0, low, high, color, hollow):
                if let low, let high {
                    let at = px(px0)
                    svg.line(at, py(low), at, py(high), stroke: color, width: 2, role: "interval", series: series)
                    svg.line(at - 6, py(low), at + 6, py(low), stroke: color, width: 2)
                    svg.line(at - 6, py(high), at + 6, py(high), stroke: color, width: 2)
                }
                svg.circle(px(px0), py(py0), r: 4.5, fill: hollow ? "white" : color, stroke: color, role: "point", series: series)
            case let .reference(value, label, color):
                svg.line(plotLeft, py(value), plotLeft + plotW, py(value), stroke: color, width: 1.5, dash: "6 4", role: "reference")
                svg.text(plotLeft + 6, py(value) - 5, label, size: 11, color: color, role: "reference-label")
            case let .label(lx, ly, text, color):
                // Right of the point, or left of it near the right edge; on white, over gridlines and references.
                let rightSide = px(lx) < plotLeft + 0.8 * plotW, width = SVGCanvas.textWidth(text, size: 11)
                let at = rightSide ? px(lx) + 10 : px(lx) - 10
                svg.rect(rightSide ? at - 2 : at - width - 2, py(ly) - 8, width + 4, 15, fill: "white", opacity: 0.85)
                svg.text(at, py(ly) + 4, text, anchor: rightSide ? .start : .end, size: 11, color: color, role: "value-label")
            }
        }
        svg.rect(plotLeft, plotTop, plotW, plotH, fill: "none", stroke: "#444", role: "frame")
    }
}
