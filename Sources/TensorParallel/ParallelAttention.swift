import TensorCore

/// Self-attention with its heads split across the tensor-parallel group: a fused QKV
/// column-parallel projection (stride 3, so rank r holds the Q, K and V rows of heads
/// r·n/t ..< (r+1)·n/t), attention computed per local head with no communication, and a
/// row-parallel output projection. One all-reduce forward, one backward.
///
/// Attention-probability dropout draws each head's mask from counters indexed by the head's
/// global number: ranks holding different heads draw independent masks (Megatron's per-rank
/// stream), and the masks equal those of a tp = 1 run, which a per-rank seed would not give.
public final class ParallelAttention<T: TensorScalar> {
    public let queryKeyValue: ColumnParallelLinear<T>
    public let dense: RowParallelLinear<T>
    let config: TransformerConfig
    let group: TensorParallelGroup
    let site: String

    let workspace: Workspace
    private var context: StepContext?
    private var qkv: Tensor<T>?

    /// The buffers a forward and backward write, the projections' included: the layer's own, or
    /// shared with the attention of the other layers of a stack that recomputes its activations.
    public final class Workspace {
        let queryKeyValue = ColumnParallelLinear<T>.Workspace()
        let dense = RowParallelLinear<T>.Workspace()
        var probabilities = Reusable<T>()
        var droppedProbabilities = Reusable<T>()
        var scores = Reusable<T>()
        var attended = Reusable<T>()
        var qkvGradient = Reusable<T>()

        public init() {}
    }

    public init(name: String, config: TransformerConfig, initializer: ParameterInitializer,
                group: TensorParallelGroup, workspace: Workspace = Workspace()) {
        self.config = config
        self.group = group
        self.workspace = workspace
        site = "\(name).attention_dropout"
        queryKeyValue = ColumnParallelLinear(
            name: "\(name).query_key_value", inFeatures: config.hidden, outFeatures: 3 * config.hidden,
            stride: 3, initStd: config.initStd, initializer: initializer, group: group,
            workspace: workspace.queryKeyValue)
        dense = RowParallelLinear(
            name: "\(name).dense", inFeatures: config.hidden, outFeatures: config.hidden,
            initStd: config.outputInitStd, initializer: initializer, group: group, workspace: workspace.dense)
    }

    public var parameters: [Parameter<T>] { queryKeyValue.parameters + dense.parameters }

    var localHeads: Int { config.heads / group.size }
    var localHidden: Int { config.hidden / group.size }
    var scale: T { 1 / T(config.headDimension).squareRoot() }

    // x: [b·s, h] → [b·s, h]
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, context: StepContext) throws -> Tensor<T> {
        self.context = context
        let qkv = try queryKeyValue.forward(x)                      // [b·s, 3·h/t] = [q | k | v]
        self.qkv = qkv
        let out = StepProfiler.measure(.attention) { core(qkv, context: context) }
        return try dense.forward(out)
    }

    // qkv: [b·s, 3·h/t] → softmax(q·kᵀ·scale)·v: [b·s, h/t]
    // Each (sequence, local head) pair is independent: the pairs are split across the rank's
    // threads, each multiplying on its own thread, and one pair's scores stay in cache from
    // q·kᵀ through the softmax to probs·v.
    private func core(_ qkv: Tensor<T>, context: StepContext) -> Tensor<T> {
        let (b, s, d, nl, hl) = (context.batch, context.sequence, config.headDimension, localHeads, localHidden)
        let raw = workspace.scores([b, nl, s, s])
        let probs = workspace.probabilities([b, nl, s, s])
        let dropped = usesDropout(context) ? workspace.droppedProbabilities([b, nl, s, s]) : probs
        let out = workspace.attended([b * s, hl])
        let (queryBlocks, scale) = (self.queryBlocks(s), self.scale)
        // One mask per sequence, shared by its heads: its slice of the key padding.
        let masks = (0..<b).map { i in
            SoftmaxMask(causalQueries: config.causal ? s : nil,
                        keyPadding: context.keyPadding.map { Array($0[(i * s)..<((i + 1) * s)]) }, rowsPerBatch: s)
        }
        parallelChunks(b * nl, grain: 1) { pairs in
            for pair in pairs {
                let (i, head) = pair.quotientAndRemainder(dividingBy: nl)
                let q = qkv.pointer + i * s * 3 * hl + head * d, k = q + hl, v = q + 2 * hl
                let S = view(raw, pair, s), P = view(probs, pair, s), used = view(dropped, pair, s)
                for (rows, keys) in queryBlocks {
                    GEMM.block(transB: true, m: rows.count, n: keys, k: d,
                               a: q + rows.lowerBound * 3 * hl, lda: 3 * hl, b: k, ldb: 3 * hl,
                               c: S.pointer + rows.lowerBound * s, ldc: s)
                }
                Softmax.forward(probs: P, scores: S, scale: scale, mask: masks[i])
                if usesDropout(context) {
                    Dropout.forward(out: used, x: P, probability: config.attentionDropout,
                                    rng: context.dropoutRNG(site), offset: maskOffset(i, context) + head * s * s)
                }
                for (rows, keys) in queryBlocks {
                    GEMM.block(m: rows.count, n: d, k: keys,
                               a: used.pointer + rows.lowerBound * s, lda: s, b: v, ldb: 3 * hl,
                               c: out.pointer + (i * s + rows.lowerBound) * hl + head * d, ldc: hl)
                }
            }
        }
        return out
    }

    // dy: [b·s, h] → dx: [b·s, h]
    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) throws -> Tensor<T> {
        guard let context, let qkv else { preconditionFailure("ParallelAttention.backward before forward") }
        let dOut = try dense.backward(dy)                            // [b·s, h/t]
        let dqkv = StepProfiler.measure(.attention) { coreBackward(dOut, qkv: qkv, context: context) }
        return try queryKeyValue.backward(dqkv)
    }

    // dOut: [b·s, h/t] → dqkv: [b·s, 3·h/t], per (sequence, local head) pair as forward.
    private func coreBackward(_ dOut: Tensor<T>, qkv: Tensor<T>, context: StepContext) -> Tensor<T> {
        let (b, s, d, nl, hl) = (context.batch, context.sequence, config.headDimension, localHeads, localHidden)
        let probs = workspace.probabilities([b, nl, s, s])
        let dropped = usesDropout(context) ? workspace.droppedProbabilities([b, nl, s, s]) : probs
        let dProbs = workspace.scores([b, nl, s, s])
        let dqkv = workspace.qkvGradient([b * s, 3 * hl])
        let (queryBlocks, keyBlocks, scale) = (self.queryBlocks(s), self.keyBlocks(s), self.scale)
        parallelChunks(b * nl, grain: 1) { pairs in
            for pair in pairs {
                let (i, head) = pair.quotientAndRemainder(dividingBy: nl)
                let q = qkv.pointer + i * s * 3 * hl + head * d, k = q + hl, v = q + 2 * hl
                let dq = dqkv.pointer + i * s * 3 * hl + head * d, dk = dq + hl, dv = dq + 2 * hl
                let dO = dOut.pointer + i * s * hl + head * d
                let dP = view(dProbs, pair, s), P = view(probs, pair, s), used = view(dropped, pair, s)
                // dP = dO·Vᵀ where the probabilities are not masked, dV = Pᵀ·dO over the queries that see each key.
                for (rows, keys) in queryBlocks {
                    GEMM.block(transB: true, m: rows.count, n: keys, k: d,
                               a: dO + rows.lowerBound * hl, lda: hl, b: v, ldb: 3 * hl,
                               c: dP.pointer + rows.lowerBound * s, ldc: s)
                }
                for (columns, first) in keyBlocks {
                    GEMM.block(transA: true, m: columns.count, n: d, k: s - first,
                               a: used.pointer + first * s + columns.lowerBound, lda: s,
                               b: dO + first * hl, ldb: hl, c: dv + columns.lowerBound * 3 * hl, ldc: 3 * hl)
                }
                if usesDropout(context) {
                    Dropout.backward(dx: dP, dOut: dP, probability: config.attentionDropout,
                                     rng: context.dropoutRNG(site), offset: maskOffset(i, context) + head * s * s)
                }
                Softmax.backward(dScores: dP, dProbs: dP, probs: P, scale: scale,
                                 causalQueries: config.causal ? s : nil)
                // dQ = dS·K and dK = dSᵀ·Q (the softmax scale is inside dS), over the same blocks.
                for (rows, keys) in queryBlocks {
                    GEMM.block(m: rows.count, n: d, k: keys,
                               a: dP.pointer + rows.lowerBound * s, lda: s, b: k, ldb: 3 * hl,
                               c: dq + rows.lowerBound * 3 * hl, ldc: 3 * hl)
                }
                for (columns, first) in keyBlocks {
                    GEMM.block(transA: true, m: columns.count, n: d, k: s - first,
                               a: dP.pointer + first * s + columns.lowerBound, lda: s,
                               b: q + first * 3 * hl, ldb: 3 * hl, c: dk + columns.lowerBound * 3 * hl, ldc: 3 * hl)
                }
            }
        }
        return dqkv
    }

    /// What backward reads of the last forward: q, k and v, the probabilities (and their dropped
    /// copy), and the context that entered the output projection. Dropout masks are drawn again.
    func activationsKeptForBackward(_ context: StepContext) -> [Tensor<T>] {
        guard let qkv else { return [] }
        let (b, s, nl) = (context.batch, context.sequence, localHeads)
        let probabilities = workspace.probabilities([b, nl, s, s])
        return [qkv, probabilities, workspace.attended([b * s, localHidden])]
            + (usesDropout(context) ? [workspace.droppedProbabilities([b, nl, s, s])] : [])
    }

    /// Query rows per block of the causal products: block j's queries see keys < (j + 1)·64, so
    /// the products skip the blocks above the diagonal (5/8 of the work remains at s = 256).
    static var blockRows: Int { 64 }

    /// The rows of queries of each block and the keys they see (all of them without the causal
    /// mask). The performance model's trace reads the products' shapes from here too.
    public static func queryBlocks(sequence s: Int, causal: Bool) -> [(rows: Range<Int>, keys: Int)] {
        guard causal else { return [(0..<s, s)] }
        return Swift.stride(from: 0, to: s, by: blockRows).map { lo in
            let hi = Swift.min(s, lo + blockRows)
            return (lo..<hi, hi)
        }
    }

    /// The keys of each block and the first query that sees them (0 without the causal mask).
    public static func keyBlocks(sequence s: Int, causal: Bool) -> [(columns: Range<Int>, first: Int)] {
        guard causal else { return [(0..<s, 0)] }
        return Swift.stride(from: 0, to: s, by: blockRows).map { lo in
            (lo..<Swift.min(s, lo + blockRows), lo)
        }
    }

    func queryBlocks(_ s: Int) -> [(rows: Range<Int>, keys: Int)] { Self.queryBlocks(sequence: s, causal: config.causal) }
    func keyBlocks(_ s: Int) -> [(columns: Range<Int>, first: Int)] { Self.keyBlocks(sequence: s, causal: config.causal) }

    /// Pair `pair`'s [s, s] matrix of `t`: [b, n/t, s, s].
    private func view(_ t: Tensor<T>, _ pair: Int, _ s: Int) -> Tensor<T> {
        Tensor(storage: t.storage, offset: t.offset + pair * s * s, shape: [s, s])
    }

    func usesDropout(_ context: StepContext) -> Bool {
        context.training && config.attentionDropout > 0
    }

    /// The first counter of sequence i's block of local heads: heads are numbered globally, so
    /// the same (sequence, head, query, key) gets the same draw at every tp and dp.
    func maskOffset(_ i: Int, _ context: StepContext) -> Int {
        let s = context.sequence
        return ((context.batchOffset + i) * config.heads + group.rank * localHeads) * s * s
    }
}
