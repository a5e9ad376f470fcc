import Collectives
import Foundation

/// What one collective costs on a link, by the textbook algorithms (Thakur et al. 2005; NCCL's
/// ring and double binary tree): α per message step, β per rank and direction.
///   ring all-reduce      2(n − 1)·α + 2(n − 1)/n · S/β
///   tree all-reduce      2·⌈log₂ n⌉·α + 2 · S/β
///   ring all-gather, reduce-scatter   (n − 1)·α + (n − 1)/n · S/β
/// An all-reduce takes the cheaper of ring and tree, as NCCL picks by size.
public struct CollectiveCost: Sendable, Equatable {
    public var algorithm: String
    public var seconds: Double
    /// The formula with the numbers put in.
    public var formula: String

    public static func estimate(_ op: CollectiveOp, bytes: Int, ranks n: Int, alpha: Double, beta: Double) -> [CollectiveCost] {
        guard n > 1 else { return [CollectiveCost(algorithm: "none", seconds: 0, formula: "one rank: 0")] }
        let s = Double(bytes), steps = Double(n - 1)
        let a = micro(alpha), b = gigabytes(beta)
        switch op {
        case .allReduce:
            let ring = 2 * steps * alpha + 2 * steps / Double(n) * s / beta
            let depth = Double(Int((log2(Double(n))).rounded(.up)))
            let tree = 2 * depth * alpha + 2 * s / beta
            return [
                CollectiveCost(algorithm: "ring", seconds: ring,
                               formula: "2(n−1)·α + 2(n−1)/n·S/β = 2·\(n - 1)·\(a) + 2·\(n - 1)/\(n)·\(bytesText(s))/\(b)"),
                CollectiveCost(algorithm: "tree", seconds: tree,
                               formula: "2⌈log₂n⌉·α + 2·S/β = 2·\(Int(depth))·\(a) + 2·\(bytesText(s))/\(b)"),
            ]
        default:
            let ring = steps * alpha + steps / Double(n) * s / beta
            return [CollectiveCost(algorithm: "ring", seconds: ring,
                                   formula: "(n−1)·α + (n−1)/n·S/β = \(n - 1)·\(a) + \(n - 1)/\(n)·\(bytesText(s))/\(b)")]
        }
    }

    /// The cheapest algorithm of `estimate`.
    public static func best(_ op: CollectiveOp, bytes: Int, ranks n: Int, alpha: Double, beta: Double) -> CollectiveCost {
        estimate(op, bytes: bytes, ranks: n, alpha: alpha, beta: beta).min { $0.seconds < $1.seconds }!
    }

    static func micro(_ seconds: Double) -> String { String(format: "%.3g µs", seconds * 1e6) }
    static func gigabytes(_ bytesPerSecond: Double) -> String { String(format: "%.4g GB/s", bytesPerSecond / 1e9) }
    static func bytesText(_ bytes: Double) -> String {
        bytes >= 1_048_576 ? String(format: "%.4g MiB", bytes / 1_048_576) : String(format: "%.0f B", bytes)
    }
}
