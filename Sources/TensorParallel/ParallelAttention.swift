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

    private var context: StepContext?
    private var qkv: Tensor<T>?
    private var probabilities = Reusable<T>()
    private var droppedProbabilities = Reusable<T>()
    private var scores = Reusable<T>()
    private var attended = Reusable<T>()
    private var qkvGradient = Reusable<T>()

    public init(name: String, config: TransformerConfig, initializer: ParameterInitializer,
                group: TensorParallelGroup) {
        self.config = config
        self.group = group
        site = "\(name).attention_dropout"
        queryKeyValue = ColumnParallelLinear(
            name: "\(name).query_key_value", inFeatures: config.hidden, outFeatures: 3 * config.hidden,
            stride: 3, initStd: config.initStd, initializer: initializer, group: group)
        dense = RowParallelLinear(
            name: "\(name).dense", inFeatures: config.hidden, outFeatures: config.hidden,
            initStd: config.outputInitStd, initializer: initializer, group: group)
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
    private func core(_ qkv: Tensor<T>, context: StepContext) -> Tensor<T> {
        let (b, s, d, nl, hl) = (context.batch, context.sequence, config.headDimension, localHeads, localHidden)
        let raw = scores([b, nl, s, s])
        let probs = probabilities([b, nl, s, s])
        let out = attended([b * s, hl])
        for i in 0..<b {
            let q = qkv.pointer + i * s * 3 * hl
            GEMM.stridedBatched(batch: nl, transA: false, transB: true, m: s, n: s, k: d,
                                a: q, lda: 3 * hl, strideA: d,
                                b: q + hl, ldb: 3 * hl, strideB: d,
                                c: raw.pointer + i * nl * s * s, ldc: s, strideC: s * s)
        }
        let mask = SoftmaxMask(causalQueries: config.causal ? s : nil, keyPadding: context.keyPadding,
                               rowsPerBatch: nl * s)
        Softmax.forward(probs: probs, scores: raw, scale: scale, mask: mask)
        let used = dropProbabilities(probs, context: context)
        for i in 0..<b {
            let v = qkv.pointer + i * s * 3 * hl + 2 * hl
            GEMM.stridedBatched(batch: nl, transA: false, transB: false, m: s, n: d, k: s,
                                a: used.pointer + i * nl * s * s, lda: s, strideA: s * s,
                                b: v, ldb: 3 * hl, strideB: d,
                                c: out.pointer + i * s * hl, ldc: hl, strideC: d)
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

    // dOut: [b·s, h/t] → dqkv: [b·s, 3·h/t]
    private func coreBackward(_ dOut: Tensor<T>, qkv: Tensor<T>, context: StepContext) -> Tensor<T> {
        let (b, s, d, nl, hl) = (context.batch, context.sequence, config.headDimension, localHeads, localHidden)
        let probs = probabilities([b, nl, s, s])
        let used = usesDropout(context) ? droppedProbabilities([b, nl, s, s]) : probs
        let dProbs = scores([b, nl, s, s])
        let dqkv = qkvGradient([b * s, 3 * hl])
        for i in 0..<b {
            let v = qkv.pointer + i * s * 3 * hl + 2 * hl
            let dO = dOut.pointer + i * s * hl
            // dP = dO·Vᵀ and dV = Pᵀ·dO, per head.
            GEMM.stridedBatched(batch: nl, transA: false, transB: true, m: s, n: s, k: d,
                                a: dO, lda: hl, strideA: d,
                                b: v, ldb: 3 * hl, strideB: d,
                                c: dProbs.pointer + i * nl * s * s, ldc: s, strideC: s * s)
            GEMM.stridedBatched(batch: nl, transA: true, transB: false, m: s, n: d, k: s,
                                a: used.pointer + i * nl * s * s, lda: s, strideA: s * s,
                                b: dO, ldb: hl, strideB: d,
                                c: dqkv.pointer + i * s * 3 * hl + 2 * hl, ldc: 3 * hl, strideC: d)
        }
        if usesDropout(context) {
            for i in 0..<b {
                let block = dProbs.rows(i..<(i + 1))
                Dropout.backward(dx: block, dOut: block, probability: config.attentionDropout,
                                 rng: context.dropoutRNG(site), offset: maskOffset(i, context))
            }
        }
        Softmax.backward(dScores: dProbs, dProbs: dProbs, probs: probs, scale: scale)
        for i in 0..<b {
            let q = qkv.pointer + i * s * 3 * hl
            let dS = dProbs.pointer + i * nl * s * s
            let dq = dqkv.pointer + i * s * 3 * hl
            // dQ = dS·K and dK = dSᵀ·Q, per head (the softmax scale is inside dS).
            GEMM.stridedBatched(batch: nl, transA: false, transB: false, m: s, n: d, k: s,
                                a: dS, lda: s, strideA: s * s,
                                b: q + hl, ldb: 3 * hl, strideB: d,
                                c: dq, ldc: 3 * hl, strideC: d)
            GEMM.stridedBatched(batch: nl, transA: true, transB: false, m: s, n: d, k: s,
                                a: dS, lda: s, strideA: s * s,
                                b: q, ldb: 3 * hl, strideB: d,
                                c: dq + hl, ldc: 3 * hl, strideC: d)
        }
        return dqkv
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

    // probs: [b, n/t, s, s] → the probabilities the values are weighted with.
    private func dropProbabilities(_ probs: Tensor<T>, context: StepContext) -> Tensor<T> {
        guard usesDropout(context) else { return probs }
        let dropped = droppedProbabilities(probs.shape)
        for i in 0..<context.batch {
            Dropout.forward(out: dropped.rows(i..<(i + 1)), x: probs.rows(i..<(i + 1)),
                            probability: config.attentionDropout, rng: context.dropoutRNG(site),
                            offset: maskOffset(i, context))
        }
        return dropped
    }
}
