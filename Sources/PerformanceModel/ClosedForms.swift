/// The published closed forms the trace is checked against (Narayanan et al. 2021, arXiv 2104.04473).
public enum ClosedForms {
    /// Eq. 2–3 without the attention term's causal saving: FLOPs of one training step of `batch`
    /// sequences. Without recomputation 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h)); with full
    /// recomputation (every layer's forward twice) 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)).
    public static func trainingFLOPs(layers l: Int, hidden h: Int, vocabulary v: Int, sequence s: Int, batch: Int,
                                     recompute: Bool) -> Double {
        let (L, H, V, S, B) = (Double(l), Double(h), Double(v), Double(s), Double(batch))
        return recompute
            ? 96 * B * S * L * H * H * (1 + S / (6 * H) + V / (16 * L * H))
            : 72 * B * S * L * H * H * (1 + S / (6 * H) + V / (12 * L * H))
    }

    /// The products of the layers' weights and the output layer only (no q·kᵀ, probs·v): the
    /// part of `trainingFLOPs` a causal mask does not change.
    public static func weightFLOPs(layers l: Int, hidden h: Int, vocabulary v: Int, sequence s: Int, batch: Int,
                                   recompute: Bool) -> Double {
        let (L, H, V, S, B) = (Double(l), Double(h), Double(v), Double(s), Double(batch))
        return B * S * ((recompute ? 96 : 72) * L * H * H + 6 * V * H)
    }

    /// Tensor-parallel traffic per layer, per rank and micro-batch, forward and backward: four ring
    /// all-reduces of b·s·h elements, 8·b·s·h·(t − 1)/t elements.
    public static func tensorParallelElementsPerLayer(batch b: Int, sequence s: Int, hidden h: Int, tp t: Int) -> Double {
        8 * Double(b * s * h) * Double(t - 1) / Double(t)
    }

    /// Elements a rank sends in a ring collective of `elements` over `n` ranks: 2(n − 1)/n of the
    /// buffer for all-reduce, (n − 1)/n for all-gather and reduce-scatter (nccl-tests' bus factor).
    public static func ringElementsPerRank(allReduce: Bool, elements: Int, ranks n: Int) -> Double {
        Double(elements) * (allReduce ? 2 : 1) * Double(n - 1) / Double(n)
    }
}
