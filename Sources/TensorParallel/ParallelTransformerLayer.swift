import TensorCore

/// One transformer layer in the paper's (GPT-2, "rearranged" BERT) pre-LN order:
///   x1 = x + Drop(Attention(LN1(x))),  out = x1 + Drop(MLP(LN2(x1))),
/// or, with `postLayerNorm`, the original BERT order, where the residuals start from the norms:
///   x1 = LN1(x) + Drop(Attention(LN1(x))),  out = LN2(x1) + Drop(MLP(LN2(x1))).
/// (Each LN1 then plays the previous sublayer's post-LN; a final norm closes the stack.)
/// Layer norms, residual adds and hidden dropout run redundantly on every rank of the
/// tensor-parallel group, on replicated activations; the only communication is the two
/// all-reduces forward (after attention and after the MLP) and two backward.
///
/// With sequence parallelism (a group with `sequenceParallel`) the layer takes and returns its
/// rank's sequence shard [b·s/t, h]: the norms, dropouts and residual adds run on the shard, an
/// all-gather brings the whole sequence to attention and the MLP and a reduce-scatter takes their
/// partial outputs back to the shard. Only the shards of the norms' outputs are kept for
/// backward, which gathers them again (Korthikanti et al. §4.2.2: two more all-gathers backward
/// for activations t times smaller); the norms' parameter gradients are then partial sums over
/// this rank's positions, which `ParameterSet.reduceSequenceParallelGradients` completes.
public final class ParallelTransformerLayer<T: TensorScalar> {
    public let inputLayerNorm: LayerNormParameters<T>
    public let attention: ParallelAttention<T>
    public let postAttentionLayerNorm: LayerNormParameters<T>
    public let mlp: ParallelMLP<T>
    let config: TransformerConfig
    let attentionDropout: HiddenDropout<T>
    let mlpDropout: HiddenDropout<T>

    let workspace: Workspace
    let sequenceBuffers: SequenceBuffers
    let group: TensorParallelGroup
    private var context: StepContext?
    private var input: Tensor<T>?

    /// Every buffer one forward and backward of the layer write (all but the parameters and their
    /// gradients), its sublayers' included. Each layer has its own, so that backward finds the
    /// forward's activations; the layers of a stack that recomputes its activations share one,
    /// since a layer's forward is run again just before its backward and only the running layer
    /// needs them (the stack then keeps each layer's input instead).
    public final class Workspace {
        let attention = ParallelAttention<T>.Workspace()
        let mlp = ParallelMLP<T>.Workspace()
        var normed1 = Reusable<T>(), normed2 = Reusable<T>()
        var residual1 = Reusable<T>(), output = Reusable<T>()
        var mean1 = Reusable<T>(), rstd1 = Reusable<T>(), mean2 = Reusable<T>(), rstd2 = Reusable<T>()
        var gradient1 = Reusable<T>(), inputGradient = Reusable<T>()
        var attentionShard = Reusable<T>(), mlpShard = Reusable<T>(), shardGradient = Reusable<T>()

        public init() {}
    }

    /// The whole-sequence buffers of sequence parallelism, needed only while attention or the MLP
    /// runs: one set serves every layer of a stack.
    public final class SequenceBuffers {
        var gatheredInput = Reusable<T>(), gatheredGradient = Reusable<T>(), scratch = Reusable<T>()

        public init() {}
    }

    public init(name: String, config: TransformerConfig, initializer: ParameterInitializer,
                group: TensorParallelGroup, workspace: Workspace = Workspace(),
                sequenceBuffers: SequenceBuffers = SequenceBuffers()) {
        self.config = config
        self.workspace = workspace
        self.sequenceBuffers = sequenceBuffers
        self.group = group
        inputLayerNorm = LayerNormParameters(name: "\(name).input_layernorm", width: config.hidden,
                                             initializer: initializer, group: group,
                                             sequenceParallel: group.shardsSequence)
        attention = ParallelAttention(name: "\(name).attention", config: config,
                                      initializer: initializer, group: group, workspace: workspace.attention)
        postAttentionLayerNorm = LayerNormParameters(name: "\(name).post_attention_layernorm",
                                                     width: config.hidden, initializer: initializer, group: group,
                                                     sequenceParallel: group.shardsSequence)
        mlp = ParallelMLP(name: "\(name).mlp", config: config, initializer: initializer, group: group,
                          workspace: workspace.mlp)
        attentionDropout = HiddenDropout(site: "\(name).attention_output_dropout", probability: config.hiddenDropout)
        mlpDropout = HiddenDropout(site: "\(name).mlp_output_dropout", probability: config.hiddenDropout)
    }

    public var parameters: [Parameter<T>] {
        inputLayerNorm.parameters + attention.parameters + postAttentionLayerNorm.parameters + mlp.parameters
    }

    // x: [b·s, h] → [b·s, h] ([b·s/t, h] → [b·s/t, h] with sequence parallelism)
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, context: StepContext) throws -> Tensor<T> {
        self.context = context
        input = x
        let n = x.rows, eps = T(config.layerNormEpsilon)
        let ln1 = workspace.normed1(x.shape), m1 = workspace.mean1([n]), r1 = workspace.rstd1([n])
        LayerNorm.forward(out: ln1, mean: m1, rstd: r1, x: x, gamma: inputLayerNorm.gamma.value,
                          beta: inputLayerNorm.beta.value, epsilon: eps)
        let a = try reduceScatter(attention.forward(gather(ln1, context), context: context),
                                  into: &workspace.attentionShard, context)
        attentionDropout.forward(a, context: context, shard: group)
        let x1 = workspace.residual1(x.shape)
        ResidualAdd.forward(out: x1, a: config.postLayerNorm ? ln1 : x, b: a)
        let ln2 = workspace.normed2(x.shape), m2 = workspace.mean2([n]), r2 = workspace.rstd2([n])
        LayerNorm.forward(out: ln2, mean: m2, rstd: r2, x: x1, gamma: postAttentionLayerNorm.gamma.value,
                          beta: postAttentionLayerNorm.beta.value, epsilon: eps)
        let m = try reduceScatter(mlp.forward(gather(ln2, context)), into: &workspace.mlpShard, context)
        mlpDropout.forward(m, context: context, shard: group)
        let out = workspace.output(x.shape)
        ResidualAdd.forward(out: out, a: config.postLayerNorm ? ln2 : x1, b: m)
        return out
    }

    // dOut: [b·s, h] → dx: [b·s, h] ([b·s/t, h] → [b·s/t, h] with sequence parallelism)
    @_specialize(where T == Float)
    public func backward(_ dOut: Tensor<T>) throws -> Tensor<T> {
        guard let context, let x = input else { preconditionFailure("ParallelTransformerLayer.backward before forward") }
        let n = x.rows
        let dm = dropoutGradient(dOut, mlpDropout, context)
        try regather(workspace.normed2(x.shape), context)
        let dln2 = try reduceScatterGradient(mlp.backward(gatherGradient(dm, context)), context)
        if config.postLayerNorm { ResidualAdd.forward(out: dln2, a: dln2, b: dOut) }
        let dx1 = workspace.normed2(x.shape)                         // LN2's output is no longer needed
        LayerNorm.backward(dx: dx1, dGamma: postAttentionLayerNorm.gamma.gradient,
                           dBeta: postAttentionLayerNorm.beta.gradient, dOut: dln2,
                           x: workspace.residual1(x.shape), mean: workspace.mean2([n]), rstd: workspace.rstd2([n]),
                           gamma: postAttentionLayerNorm.gamma.value)
        if !config.postLayerNorm { ResidualAdd.forward(out: dx1, a: dx1, b: dOut) }
        let da = dropoutGradient(dx1, attentionDropout, context)
        try regather(workspace.normed1(x.shape), context)
        let dln1 = try reduceScatterGradient(attention.backward(gatherGradient(da, context)), context)
        if config.postLayerNorm { ResidualAdd.forward(out: dln1, a: dln1, b: dx1) }
        let dx = workspace.inputGradient(x.shape)
        LayerNorm.backward(dx: dx, dGamma: inputLayerNorm.gamma.gradient, dBeta: inputLayerNorm.beta.gradient,
                           dOut: dln1, x: x, mean: workspace.mean1([n]), rstd: workspace.rstd1([n]),
                           gamma: inputLayerNorm.gamma.value)
        if !config.postLayerNorm { ResidualAdd.forward(out: dx, a: dx, b: dx1) }
        return dx
    }

    /// The tensors backward reads of the last forward, each once: the layer's input, the norms'
    /// outputs and statistics, the residual sum, and what attention and the MLP keep. Not the
    /// buffers only a forward or a backward uses while it runs (gathered sequences, partial sums,
    /// gradients), which a stack could share between its layers.
    public var activationsKeptForBackward: [Tensor<T>] {
        guard let context, let x = input else { return [] }
        let n = x.rows
        return [x, workspace.normed1(x.shape), workspace.mean1([n]), workspace.rstd1([n]),
                workspace.residual1(x.shape), workspace.normed2(x.shape), workspace.mean2([n]), workspace.rstd2([n])]
            + attention.activationsKeptForBackward(context) + mlp.activationsKeptForBackward
    }

    /// The bytes of `activationsKeptForBackward`, counted from the buffers.
    public var activationBytesKeptForBackward: Int {
        activationsKeptForBackward.reduce(0) { $0 + $1.count * MemoryLayout<T>.stride }
    }

    // Sequence parallelism's conjugates around attention and the MLP; each passes its tensor
    // through unchanged without it.

    // shard: [b·s/t, h] → the whole sequences [b·s, h], for a column-parallel layer's input.
    private func gather(_ shard: Tensor<T>, _ context: StepContext) throws -> Tensor<T> {
        guard group.shardsSequence else { return shard }
        let full = sequenceBuffers.gatheredInput([shard.rows * group.size, shard.lastDimension])
        try GatherFromSequenceParallelRegion.forward(shard, into: full, scratch: sequenceBuffers.scratch(full.shape),
                                                     group: group, sequences: context.batch)
        return full
    }

    // shard: [b·s/t, h] → the column-parallel layer's input again, for its weight gradient: kept
    // as a shard, gathered in backward (counted under "regather", beside the conjugates' collectives).
    private func regather(_ shard: Tensor<T>, _ context: StepContext) throws {
        guard group.shardsSequence else { return }
        _ = try group.communicator.counters.withScope("regather") { try gather(shard, context) }
    }

    // partial: [b·s, h], a row-parallel layer's partial sums → this rank's shard of their sum.
    private func reduceScatter(_ partial: Tensor<T>, into shard: inout Reusable<T>,
                               _ context: StepContext) throws -> Tensor<T> {
        guard group.shardsSequence else { return partial }
        let part = shard([partial.rows / group.size, partial.lastDimension])
        try ReduceScatterToSequenceParallelRegion.forward(partial, into: part, scratch: sequenceBuffers.scratch(partial.shape),
                                                          group: group, sequences: context.batch)
        return part
    }

    // dShard: [b·s/t, h] → [b·s, h], the gradient at the row-parallel layer's output.
    private func gatherGradient(_ dShard: Tensor<T>, _ context: StepContext) throws -> Tensor<T> {
        guard group.shardsSequence else { return dShard }
        let full = sequenceBuffers.gatheredGradient([dShard.rows * group.size, dShard.lastDimension])
        try ReduceScatterToSequenceParallelRegion.backward(dShard, into: full, scratch: sequenceBuffers.scratch(full.shape),
                                                           group: group, sequences: context.batch)
        return full
    }

    // dPartial: [b·s, h], the column-parallel layer's partial input gradient → this rank's shard of the sum.
    private func reduceScatterGradient(_ dPartial: Tensor<T>, _ context: StepContext) throws -> Tensor<T> {
        guard group.shardsSequence else { return dPartial }
        let part = workspace.shardGradient([dPartial.rows / group.size, dPartial.lastDimension])
        try GatherFromSequenceParallelRegion.backward(dPartial, into: part, scratch: sequenceBuffers.scratch(dPartial.shape),
                                                      group: group, sequences: context.batch)
        return part
    }

    /// The gradient at a sublayer's output from the gradient after its dropout: a masked copy,
    /// since `dOut` still feeds the residual path, or `dOut` itself where the dropout is off.
    private func dropoutGradient(_ dOut: Tensor<T>, _ dropout: HiddenDropout<T>, _ context: StepContext) -> Tensor<T> {
        guard dropout.isActive(context) else { return dOut }
        let d = workspace.gradient1(dOut.shape)
        d.assign(dOut)
        dropout.backward(d, context: context, shard: group)
        return d
    }
}

/// A layer norm's γ (ones) and β (zeros): replicated across the tensor-parallel group, no decay.
/// `sequenceParallel`: the norm runs on sequence shards, so each rank's gradient is a partial sum.
public struct LayerNormParameters<T: TensorScalar> {
    public let gamma: Parameter<T>
    public let beta: Parameter<T>

    public init(name: String, width: Int, initializer: ParameterInitializer, group: TensorParallelGroup,
                sequenceParallel: Bool = false) {
        gamma = Parameter(name: "\(name).weight", full: initializer.constant([width], 1),
                          partition: .replicated, weightDecay: false, group: group, sequenceParallel: sequenceParallel)
        beta = Parameter(name: "\(name).bias", full: initializer.constant([width], 0),
                         partition: .replicated, weightDecay: false, group: group, sequenceParallel: sequenceParallel)
    }

    public var parameters: [Parameter<T>] { [gamma, beta] }
}
