import Foundation

/// Round tick values for an axis: steps of 1, 2 or 5 × 10ᵏ on a linear axis, powers of ten (and
/// their 2 and 5 multiples where few decades show) on a log axis. The axis's range is widened to
/// the outermost ticks, so every gridline a reader sees sits on a round number.
enum Ticks {
    /// About `target` ticks covering [lo, hi], each a multiple of the step.
    static func linear(_ lo: Double, _ hi: Double, target: Int = 5) -> (step: Double, values: [Double]) {
        var lo = lo, hi = hi
        if hi - lo < 1e-12 * Swift.max(1, abs(lo)) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(Swift.max(1, target - 1))
        let magnitude = pow(10, floor(log10(raw)))
        func span(_ step: Double) -> (first: Double, last: Double) { (floor(lo / step + 1e-9), ceil(hi / step - 1e-9)) }
        // The 1-2-5 step whose widened range holds the tick count nearest the target.
        let step = [0.5, 1, 2, 5, 10].map { $0 * magnitude }.min { a, b in
            let (fa, la) = span(a), (fb, lb) = span(b)
            return abs(la - fa + 1 - Double(target)) < abs(lb - fb + 1 - Double(target))
        }!
        let (first, last) = span(step)
        let values = stride(from: first, through: last, by: 1).map { cleaned($0 * step) }
        return (step, values)
    }

    /// Ticks for a log axis covering [lo, hi] (both > 0): every decade, with 2 and 5 between
    /// decades when the range spans fewer than three of them, unless `decadesOnly` (axes
    /// labelled 10ⁿ).
    static func log(_ lo: Double, _ hi: Double, decadesOnly: Bool = false) -> [Double] {
        let mantissas: [Double]
        let decades = log10(hi) - log10(lo)
        switch decades {
        case _ where decadesOnly: mantissas = [1]
        case ..<0.5: return linear(lo, hi, target: 4).values
        case ..<3: mantissas = [1, 2, 5]
        default: mantissas = [1]
        }
        var candidates: [Double] = []
        for exponent in Int(floor(log10(lo))) - 1...Int(ceil(log10(hi))) + 1 {
            candidates += mantissas.map { cleaned($0 * pow(10, Double(exponent))) }
        }
        let below = candidates.last { $0 <= lo * (1 + 1e-9) } ?? lo
        let above = candidates.first { $0 >= hi * (1 - 1e-9) } ?? hi
        let inside = candidates.filter { $0 >= below && $0 <= above }
        // Many decades: every other one keeps the labels apart.
        if inside.count > 8, mantissas == [1] {
            return inside.enumerated().filter { $0.offset % 2 == 0 || $0.offset == inside.count - 1 }.map(\.element)
        }
        return inside
    }

    /// Removes the float dust of k·step (0.30000000000000004 → 0.3).
    static func cleaned(_ x: Double) -> Double {
        x == 0 ? 0 : Double(String(format: "%.12g", x))!
    }
}
