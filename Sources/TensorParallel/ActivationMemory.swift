/// The activation memory one transformer layer keeps for backward on one rank (Korthikanti et
/// al. 2022, §4.1–4.2), for a micro-batch of b sequences of s tokens, hidden h, a heads, t
/// tensor-parallel ranks.
public struct ActivationMemory: Sendable, Equatable {
    public var sequence: Int
    public var batch: Int
    public var hidden: Int
    public var heads: Int
    public var tensorParallel: Int
    public var sequenceParallel: Bool
    /// False where attention dropout is off and its dropped copy of the probabilities is not kept.
    public var attentionDropout: Bool

    public init(sequence: Int, batch: Int, hidden: Int, heads: Int, tensorParallel: Int, sequenceParallel: Bool,
                attentionDropout: Bool = true) {
        self.sequence = sequence
        self.batch = batch
        self.hidden = hidden
        self.heads = heads
        self.tensorParallel = tensorParallel
        self.sequenceParallel = sequenceParallel
        self.attentionDropout = attentionDropout
    }

    /// The paper's bytes per layer, fp16 activations and 1-byte dropout masks:
    /// sbh·(10 + 24/t + 5as/(ht)) with tensor parallelism, sbh/t·(34 + 5as/h) with sequence parallelism.
    public var paperBytes: Double {
        let (s, b, h, a, t) = (Double(sequence), Double(batch), Double(hidden), Double(heads), Double(tensorParallel))
        return sequenceParallel ? s * b * h / t * (34 + 5 * a * s / h) : s * b * h * (10 + 24 / t + 5 * a * s / (h * t))
    }

    /// The same activations as this harness's layer keeps them, at `elementSize` bytes each (4 for
    /// Float, 8 for Double): no dropout masks (backward draws them again from the counters), the
    /// two norms' four per-token statistics (mean, 1/σ) that the paper leaves out. In elements:
    ///   the layer input, the two norms' outputs and the residual sum: 4·sbh, replicated over the
    ///   group, or 4·sbh/t on sequence shards;
    ///   q, k, v, the attention context, GeLU's input and output: (3 + 1 + 4 + 4)·sbh/t;
    ///   the probabilities and their dropped copy: 2·a·s²·b/t;
    ///   the statistics: 4·sb (4·sb/t on shards).
    /// That is 2 × (the paper's figure less its masks) + the statistics, in fp16 elements.
    public func bytes(elementSize: Int) -> Int {
        let (s, b, h, a, t) = (sequence, batch, hidden, heads, tensorParallel)
        let shard = sequenceParallel ? t : 1
        let replicated = 4 * s * b * h / shard + 4 * s * b / shard
        let split = 12 * s * b * h / t + (attentionDropout ? 2 : 1) * a * s * s * b / t
        return elementSize * (replicated + split)
    }
}
