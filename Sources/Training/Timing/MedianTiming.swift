import Dispatch

/// Wall-clock seconds of `body`, the median over `repeats` runs after `warmup` runs.
/// Medians, because this machine is a shared VM whose runs have outliers.
public func medianSeconds(warmup: Int = 1, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    times.sort()
    return times[times.count / 2]
}
