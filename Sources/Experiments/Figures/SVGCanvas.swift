import Foundation

/// The plain SVG a figure is written as: a list of elements with coordinates printed to one
/// decimal, nothing that depends on the machine or the clock, no script, no external font or
/// stylesheet; browsers and rsvg-convert draw it alike. Elements carry `class` (and
/// `data-series`) attributes, so tests can check a figure's structure by reading the text.
struct SVGCanvas {
    private(set) var elements: [String] = []
    private var clipCount = 0

    static func number(_ v: Double) -> String {
        let text = String(format: "%.1f", v)
        return text == "-0.0" ? "0.0" : text
    }

    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// ` class="…" data-series="…"`, or nothing.
    private static func tags(_ role: String?, _ series: String?) -> String {
        (role.map { " class=\"\($0)\"" } ?? "") + (series.map { " data-series=\"\(escaped($0))\"" } ?? "")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1,
                       dash: String? = nil, role: String? = nil, series: String? = nil) {
        let n = Self.number
        elements.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(width)\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + Self.tags(role, series) + "/>")
    }

    /// An open path through `points` (one path per drawn series), or a closed filled one.
    mutating func path(_ points: [(x: Double, y: Double)], stroke: String?, width: Double = 1.5, opacity: Double = 1,
                       fill: String? = nil, dash: String? = nil, clip: String? = nil, role: String? = nil, series: String? = nil) {
        guard let first = points.first else { return }
        let n = Self.number
        var d = "M\(n(first.x)) \(n(first.y))"
        for p in points.dropFirst() { d += " L\(n(p.x)) \(n(p.y))" }
        if fill != nil { d += " Z" }
        var attributes = "d=\"\(d)\" fill=\"\(fill ?? "none")\""
        if let stroke {
            attributes += " stroke=\"\(stroke)\" stroke-width=\"\(width)\" stroke-linejoin=\"round\""
            if opacity < 1 { attributes += " stroke-opacity=\"\(opacity)\"" }
        }
        if fill != nil, opacity < 1 { attributes += " fill-opacity=\"\(opacity)\"" }
        if let dash { attributes += " stroke-dasharray=\"\(dash)\"" }
        if let clip { attributes += " clip-path=\"url(#\(clip))\"" }
        elements.append("<path \(attributes)\(Self.tags(role, series))/>")
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil,
                       opacity: Double = 1, role: String? = nil, series: String? = nil) {
        let n = Self.number
        elements.append("<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill)\""
            + (stroke.map { " stroke=\"\($0)\"" } ?? "") + (opacity < 1 ? " fill-opacity=\"\(opacity)\"" : "")
            + Self.tags(role, series) + "/>")
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, stroke: String? = nil,
                         role: String? = nil, series: String? = nil) {
        let n = Self.number
        elements.append("<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\" fill=\"\(fill)\""
            + (stroke.map { " stroke=\"\($0)\" stroke-width=\"1.5\"" } ?? "") + Self.tags(role, series) + "/>")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ x: Double, _ y: Double, _ s: String, anchor: Anchor = .start, size: Double = 12,
                       color: String = "#222", bold: Bool = false, rotated: Bool = false, role: String? = nil) {
        let n = Self.number
        let place = rotated ? "transform=\"translate(\(n(x)) \(n(y))) rotate(-90)\"" : "x=\"\(n(x))\" y=\"\(n(y))\""
        elements.append("<text \(place) text-anchor=\"\(anchor.rawValue)\" font-size=\"\(Int(size))\" fill=\"\(color)\""
            + (bold ? " font-weight=\"bold\"" : "") + Self.tags(role, nil) + ">\(Self.escaped(s))</text>")
    }

    /// A clip rectangle; returns its id for `path(clip:)`.
    mutating func clip(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> String {
        clipCount += 1
        let id = "clip\(clipCount)", n = Self.number
        elements.append("<clipPath id=\"\(id)\"><rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\"/></clipPath>")
        return id
    }

    func document(width: Double, height: Double) -> String {
        (["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"DejaVu Sans, Verdana, sans-serif\">",
          "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"] + elements + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    /// Width of `s` at `size` px, estimated (no font metrics here): enough to lay out legends.
    static func textWidth(_ s: String, size: Double = 12) -> Double {
        Double(s.count) * size * 0.56
    }
}
