import Foundation

/// One axis of a panel: how values map onto [0, 1] of its length, where its ticks sit and how
/// they read. Linear and log axes take round ticks from `Ticks`; a categorical axis gives each
/// named value an equal slot (tensor-parallel sizes 1, 2, 4, 8 are a set, not a scale).
struct Axis: Sendable {
    enum Scale: Sendable, Equatable {
        case linear, log
        case categorical([String])
    }

    /// How a tick value is written.
    enum Format: Sendable, Equatable {
        /// Decimals from the tick step: 0.5, 1.0 … or 200, 400.
        case plain
        /// With a k / M / B suffix: 500k, 1M, 8.3B.
        case suffixed
        /// A fraction written as a percentage: 0.25 → 25%.
        case percent
        /// 10⁻⁹, 10⁻⁸ … (log axes spanning decades).
        case powerOfTen
    }

    /// The axis title with its unit: "loss (nats per token)".
    let label: String
    let scale: Scale
    let format: Format
    let lower: Double
    let upper: Double
    let ticks: [Double]

    /// A linear axis over `values` with 1-2-5 ticks, about `target` of them; quantities read from
    /// zero (efficiency, accuracy) pass 0 among the values.
    static func linear(_ label: String, covering values: [Double], format: Format = .plain, target: Int = 5) -> Axis {
        let all = values.filter(\.isFinite)
        let (_, ticks) = Ticks.linear(all.min() ?? 0, all.max() ?? 1, target: target)
        return Axis(label: label, scale: .linear, format: format, lower: ticks.first!, upper: ticks.last!, ticks: ticks)
    }

    /// A log axis over the positive `values`.
    static func log(_ label: String, covering values: [Double], format: Format = .powerOfTen) -> Axis {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        let ticks = Ticks.log(positive.min() ?? 1, positive.max() ?? 10, decadesOnly: format == .powerOfTen)
        return Axis(label: label, scale: .log, format: format, lower: ticks.first!, upper: ticks.last!, ticks: ticks)
    }

    static func categorical(_ label: String, _ categories: [String]) -> Axis {
        Axis(label: label, scale: .categorical(categories), format: .plain, lower: 0, upper: Double(categories.count),
             ticks: categories.indices.map { Double($0) + 0.5 })
    }

    /// Where `value` falls along the axis, 0 at `lower` and 1 at `upper`; a category's index i
    /// maps to the middle of its slot when given as i + 0.5.
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .log: (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        case .linear, .categorical: (value - lower) / (upper - lower)
        }
    }

    /// The text under (or beside) each tick.
    var tickLabels: [String] {
        if case .categorical(let names) = scale { return names }
        let step = ticks.count > 1 ? zip(ticks.dropFirst(), ticks).map { $0 - $1 }.min()! : 1
        if format == .suffixed, scale == .linear, let largest = ticks.map(abs).max() {
            return ticks.map { Self.suffixed($0, step: step, magnitude: largest) }
        }
        return ticks.map { Self.label($0, step: scale == .log ? $0 : step, format: format) }
    }

    static func label(_ v: Double, step: Double, format: Format) -> String {
        switch format {
        case .percent:
            return decimals(v * 100, step: step * 100) + "%"
        case .powerOfTen:
            let exponent = log10(v)
            guard v > 0, abs(exponent - exponent.rounded()) < 1e-9 else { return decimals(v, step: step) }
            return "10" + superscript(Int(exponent.rounded()))
        case .suffixed:
            return suffixed(v, step: step, magnitude: v)
        case .plain:
            return decimals(v, step: step)
        }
    }

    /// `v` over the k / M / B unit that `magnitude` reads in: 0.5M beside 2.0M, not 500k.
    static func suffixed(_ v: Double, step: Double, magnitude: Double) -> String {
        for (scale, suffix) in [(1e9, "B"), (1e6, "M"), (1e3, "k")] where abs(magnitude) >= scale {
            return v == 0 ? "0" : decimals(v / scale, step: step / scale) + suffix
        }
        return decimals(v, step: step)
    }

    /// 6.4 × 10⁻⁹: two significant digits, for values spanning decades.
    static func scientific(_ v: Double) -> String {
        guard v != 0, v.isFinite else { return v == 0 ? "0" : "\(v)" }
        var e = Int(floor(log10(abs(v))))
        var mantissa = (v / pow(10, Double(e)) * 10).rounded() / 10
        if abs(mantissa) >= 10 { mantissa /= 10; e += 1 }
        return e == 0 ? String(format: "%.1f", mantissa) : String(format: "%.1f", mantissa) + " × 10" + superscript(e)
    }

    static func superscript(_ e: Int) -> String {
        let digits = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return (e < 0 ? "⁻" : "") + String(abs(e)).map { digits[Int(String($0))!] }.joined()
    }

    /// Three significant digits with a k / M / B suffix: 7.27M, 17.7M, 8.3B.
    static func size(_ v: Double) -> String {
        let text = suffixed(v, step: pow(10, floor(log10(abs(v))) - 2), magnitude: v)
        guard text.contains(".") else { return text }
        let suffix = text.last!.isLetter ? String(text.last!) : ""
        var number = String(text.dropLast(suffix.count))
        while number.hasSuffix("0") { number.removeLast() }
        if number.hasSuffix(".") { number.removeLast() }
        return number + suffix
    }

    /// `v` with as many decimals as its step needs (0.05 → 2), thousands grouped by a thin space.
    static func decimals(_ v: Double, step: Double) -> String {
        let places = Swift.max(0, Swift.min(6, Int(-floor(log10(abs(step)) + 1e-9))))
        let text = String(format: "%.\(places)f", v == 0 ? 0 : v)
        guard places == 0, abs(v) >= 10_000 else { return text }
        var digits = Array(text.hasPrefix("-") ? String(text.dropFirst()) : text), grouped = ""
        while digits.count > 3 {
            grouped = "\u{2009}" + String(digits.suffix(3)) + grouped
            digits.removeLast(3)
        }
        return (text.hasPrefix("-") ? "-" : "") + String(digits) + grouped
    }
}
