import Foundation

/// A line chart as a standalone SVG file (GitHub shows it inline): one polyline per series,
/// linear axes with a few ticks, a legend. Enough for loss curves and scaling efficiency.
public struct SVGPlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logY: Bool

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func render(width: Double = 640, height: Double = 400) -> String {
        let (left, right, top, bottom) = (70.0, 170.0, 40.0, 50.0)
        let plotW = width - left - right, plotH = height - top - bottom
        let all = series.flatMap(\.points).filter { $0.y.isFinite && (!logY || $0.y > 0) }
        let ys = all.map { logY ? log10($0.y) : $0.y }
        let xMin = all.map(\.x).min() ?? 0, xMax = Swift.max(all.map(\.x).max() ?? 1, xMin + 1e-12)
        var yMin = ys.min() ?? 0, yMax = ys.max() ?? 1
        if yMax - yMin < 1e-12 { yMin -= 0.5; yMax += 0.5 }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + (1 - ((logY ? log10(y) : y) - yMin) / (yMax - yMin)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func label(_ v: Double) -> String { abs(v) >= 1000 || (abs(v) < 0.01 && v != 0) ? String(format: "%.2g", v) : String(format: "%.3g", v) }

        var svg = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(f(width / 2 - right / 2 + left / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(escaped(title))</text>",
                   "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#444\"/>"]
        for i in 0...4 {
            let x = xMin + Double(i) / 4 * (xMax - xMin)
            svg.append("<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(label(x))</text>")
            let yv = yMin + Double(i) / 4 * (yMax - yMin)
            let y = logY ? pow(10, yv) : yv
            svg.append("<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#ddd\"/>")
            svg.append("<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(label(y))</text>")
        }
        svg.append("<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(escaped(xLabel))</text>")
        svg.append("<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escaped(yLabel))</text>")
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let points = s.points.filter { $0.y.isFinite && (!logY || $0.y > 0) }
                .map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg.append(points.contains(" ")
                ? "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
                : "<circle cx=\"\(points.split(separator: ",").first ?? "0")\" cy=\"\(points.split(separator: ",").last ?? "0")\" r=\"3\" fill=\"\(color)\"/>")
            let ly = top + 10 + Double(i) * 18
            svg.append("<line x1=\"\(f(width - right + 12))\" x2=\"\(f(width - right + 32))\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"/>")
            svg.append("<text x=\"\(f(width - right + 38))\" y=\"\(f(ly + 4))\">\(escaped(s.name))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
