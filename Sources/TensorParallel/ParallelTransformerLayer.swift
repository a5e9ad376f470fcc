import TensorCore

/// One transformer layer in the paper's (GPT-2, "rearranged" BERT) pre-LN order:
///   x1 = x + Drop(Attention(LN1(x))),  out = x1 + Drop(MLP(LN2(x1))),
/// or, with `postLayerNorm`, the original BERT order, where the residuals start from the norms:
///   x1 = LN1(x) + Drop(Attention(LN1(x))),  out = LN2(x1) + Drop(MLP(LN2(x1))).
/// (Each LN1 then plays the previous sublayer's post-LN; a final norm closes the stack.)
/// Layer norms, residual adds and hidden dropout run redundantly on every rank of the
/// tensor-parallel group, on replicated activations; the only communication is the two
/// all-reduces forward (after attention and after the MLP) and two backward.
public final class ParallelTransformerLayer<T: TensorScalar> {
    public let inputLayerNorm: LayerNormParameters<T>
    public let attention: ParallelAttention<T>
    public let postAttentionLayerNorm: LayerNormParameters<T>
    public let mlp: ParallelMLP<T>
    let config: TransformerConfig
    let attentionDropout: HiddenDropout<T>
    let mlpDropout: HiddenDropout<T>

    let workspace: Workspace
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

        public init() {}
    }

    public init(name: String, config: TransformerConfig, initializer: ParameterInitializer,
                group: TensorParallelGroup, workspace: Workspace = Workspace()) {
        self.config = config
        self.workspace = workspace
        inputLayerNorm = LayerNormParameters(name: "\(name).input_layernorm", width: config.hidden,
                                             initializer: initializer, group: group)
        attention = ParallelAttention(name: "\(name).attention", config: config,
                                      initializer: initializer, group: group, workspace: workspace.attention)
        postAttentionLayerNorm = LayerNormParameters(name: "\(name).post_attention_layernorm",
                                                     width: config.hidden, initializer: initializer, group: group)
        mlp = ParallelMLP(name: "\(name).mlp", config: config, initializer: initializer, group: group,
                          workspace: workspace.mlp)
        attentionDropout = HiddenDropout(site: "\(name).attention_output_dropout", probability: config.hiddenDropout)
        mlpDropout = HiddenDropout(site: "\(name).mlp_output_dropout", probability: config.hiddenDropout)
    }

    public var parameters: [Parameter<T>] {
        inputLayerNorm.parameters + attention.parameters + postAttentionLayerNorm.parameters + mlp.parameters
    }

    // x: [b·s, h] → [b·s, h]
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, context: StepContext) throws -> Tensor<T> {
        self.context = context
        input = x
        let n = x.rows, eps = T(config.layerNormEpsilon)
        let ln1 = workspace.normed1(x.shape), m1 = workspace.mean1([n]), r1 = workspace.rstd1([n])
        LayerNorm.forward(out: ln1, mean: m1, rstd: r1, x: x, gamma: inputLayerNorm.gamma.value,
                          beta: inputLayerNorm.beta.value, epsilon: eps)
        let a = try attention.forward(ln1, context: context)
        attentionDropout.forward(a, context: context)
        let x1 = workspace.residual1(x.shape)
        ResidualAdd.forward(out: x1, a: config.postLayerNorm ? ln1 : x, b: a)
        let ln2 = workspace.normed2(x.shape), m2 = workspace.mean2([n]), r2 = workspace.rstd2([n])
        LayerNorm.forward(out: ln2, mean: m2, rstd: r2, x: x1, gamma: postAttentionLayerNorm.gamma.value,
                          beta: postAttentionLayerNorm.beta.value, epsilon: eps)
        let m = try mlp.forward(ln2)
        mlpDropout.forward(m, context: context)
        let out = workspace.output(x.shape)
        ResidualAdd.forward(out: out, a: config.postLayerNorm ? ln2 : x1, b: m)
        return out
    }

    // dOut: [b·s, h] → dx: [b·s, h]
    @_specialize(where T == Float)
    public func backward(_ dOut: Tensor<T>) throws -> Tensor<T> {
        guard let context, let x = input else { preconditionFailure("ParallelTransformerLayer.backward before forward") }
        let n = x.rows
        let dm = dropoutGradient(dOut, mlpDropout, context)
        let dln2 = try mlp.backward(dm)
        if config.postLayerNorm { ResidualAdd.forward(out: dln2, a: dln2, b: dOut) }
        let dx1 = workspace.normed2(x.shape)                         // LN2's output is no longer needed
        LayerNorm.backward(dx: dx1, dGamma: postAttentionLayerNorm.gamma.gradient,
                           dBeta: postAttentionLayerNorm.beta.gradient, dOut: dln2,
                           x: workspace.residual1(x.shape), mean: workspace.mean2([n]), rstd: workspace.rstd2([n]),
                           gamma: postAttentionLayerNorm.gamma.value)
        if !config.postLayerNorm { ResidualAdd.forward(out: dx1, a: dx1, b: dOut) }
        let da = dropoutGradient(dx1, attentionDropout, context)
        let dln1 = try attention.backward(da)
        if config.postLayerNorm { ResidualAdd.forward(out: dln1, a: dln1, b: dx1) }
        let dx = workspace.inputGradient(x.shape)
        LayerNorm.backward(dx: dx, dGamma: inputLayerNorm.gamma.gradient, dBeta: inputLayerNorm.beta.gradient,
                           dOut: dln1, x: x, mean: workspace.mean1([n]), rstd: workspace.rstd1([n]),
                           gamma: inputLayerNorm.gamma.value)
        if !config.postLayerNorm { ResidualAdd.forward(out: dx, a: dx, b: dx1) }
        return dx
    }

    /// The gradient at a sublayer's output from the gradient after its dropout: a masked copy,
    /// since `dOut` still feeds the residual path, or `dOut` itself where the dropout is off.
    private func dropoutGradient(_ dOut: Tensor<T>, _ dropout: HiddenDropout<T>, _ context: StepContext) -> Tensor<T> {
        guard dropout.isActive(context) else { return dOut }
        let d = workspace.gradient1(dOut.shape)
        d.assign(dOut)
        dropout.backward(d, context: context)
        return d
    }
}

/// A layer norm's γ (ones) and β (zeros): replicated across the tensor-parallel group, no decay.
public struct LayerNormParameters<T: TensorScalar> {
    public let gamma: Parameter<T>
    public let beta: Parameter<T>

    public init(name: String, width: Int, initializer: ParameterInitializer, group: TensorParallelGroup) {
        gamma = Parameter(name: "\(name).weight", full: initializer.constant([width], 1),
                          partition: .replicated, weightDecay: false, group: group)
        beta = Parameter(name: "\(name).bias", full: initializer.constant([width], 0),
                         partition: .replicated, weightDecay: false, group: group)
    }

    public var parameters: [Parameter<T>] { [gamma, beta] }
}
