import TensorCore

/// The row order of a tensor-parallel rank's fused query/key/value weight or bias by
/// `checkpoint_version` (Megatron-LM `checkpointing.py`, fix_query_key_value_ordering):
/// 0: [3][np][hd] (our order, rank by rank); 1.0: [np][hd][3]; 2.0 and 3.0: [np][3][hd].
/// The full tensor is ours, [3][n][hd]: rank r's heads of each of Q, K and V in turn.
enum QueryKeyValueOrder: Equatable {
    case version0, version1, version2

    init?(checkpointVersion v: Double) {
        switch v {
        case 0: self = .version0
        case 1: self = .version1
        case 2, 3: self = .version2
        default: return nil
        }
    }

    /// The row of a rank's shard holding `which` (0 q, 1 k, 2 v) of local head `head`, element `d`.
    func row(which: Int, head: Int, d: Int, localHeads: Int, headSize: Int) -> Int {
        switch self {
        case .version0: return (which * localHeads + head) * headSize + d
        case .version1: return (head * headSize + d) * 3 + which
        case .version2: return (head * 3 + which) * headSize + d
        }
    }

    // shards: tp × [3h/tp, c] (c = 1 for a bias) → [3h, c] as ours
    func merge<T: TensorScalar>(_ shards: [Tensor<T>], heads: Int, shape: [Int]) -> Tensor<T> {
        let out = Tensor<T>(zeros: shape)
        let hidden = shape[0] / 3, columns = shape.count > 1 ? shape[1] : 1
        let localHeads = heads / shards.count, headSize = hidden / heads
        for (rank, shard) in shards.enumerated() {
            let source = shard.pointer, target = out.pointer
            for which in 0..<3 {
                for head in 0..<localHeads {
                    for d in 0..<headSize {
                        let from = row(which: which, head: head, d: d, localHeads: localHeads, headSize: headSize)
                        let to = which * hidden + (rank * localHeads + head) * headSize + d
                        (target + to * columns).update(from: source + from * columns, count: columns)
                    }
                }
            }
        }
        return out
    }
}
