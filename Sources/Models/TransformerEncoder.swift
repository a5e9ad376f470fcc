import TensorCore
import TensorParallel

/// The stack of transformer layers and the final layer norm, shared by GPT and BERT (a pipeline
/// stage holds a contiguous range of the layers, and the final norm only on the last stage). With
/// `recomputeActivations` the layers share one workspace and recompute their activations in
/// backward (`LayerRecomputation`); without, each keeps its own from forward to backward.
/// With sequence parallelism the stack scatters its input to sequence shards, runs the layers and
/// the final layer norm on them, and gathers the whole sequences for the heads or the next
/// pipeline stage (whose gradient is whole on every rank, so backward keeps this rank's shard).
final class TransformerEncoder<T: TensorScalar> {
    let layers: [ParallelTransformerLayer<T>]
    let finalLayerNorm: LayerNormParameters<T>?
    let epsilon: T
    let recomputation: LayerRecomputation<T>?
    let group: TensorParallelGroup

    private var input: Tensor<T>?
    private var context: StepContext?
    private var output = Reusable<T>(), mean = Reusable<T>(), rstd = Reusable<T>()
    private var gradient = Reusable<T>()
    private var shard = Reusable<T>(), gathered = Reusable<T>(), outputGradient = Reusable<T>()
    private var inputGradient = Reusable<T>(), scratch = Reusable<T>()

    /// `forwardOnly`: the layers share one workspace and keep nothing for a backward (evaluation).
    /// `layerRange`: the layers this stack holds (all by default), named by their global index.
    init(config: TransformerConfig, initializer: ParameterInitializer, group: TensorParallelGroup,
         recomputeActivations: Bool, forwardOnly: Bool = false, layerRange: Range<Int>? = nil,
         withFinalLayerNorm: Bool = true) {
        let range = layerRange ?? 0..<config.layers
        let recomputation = recomputeActivations || forwardOnly
            ? LayerRecomputation<T>(layers: range.count, forwardOnly: forwardOnly) : nil
        let sequenceBuffers = ParallelTransformerLayer<T>.SequenceBuffers()
        layers = range.map {
            ParallelTransformerLayer(name: "layers.\($0)", config: config, initializer: initializer, group: group,
                                     workspace: recomputation?.workspace ?? .init(), sequenceBuffers: sequenceBuffers)
        }
        finalLayerNorm = withFinalLayerNorm
            ? LayerNormParameters(name: "final_layernorm", width: config.hidden, initializer: initializer,
                                  group: group, sequenceParallel: group.shardsSequence)
            : nil
        self.group = group
        epsilon = T(config.layerNormEpsilon)
        self.recomputation = recomputation
    }

    var parameters: [Parameter<T>] { layers.flatMap(\.parameters) + (finalLayerNorm?.parameters ?? []) }

    // x: [b·s, h] → [b·s, h] (the layers see [b·s/t, h] with sequence parallelism)
    func forward(_ x: Tensor<T>, context: StepContext) throws -> Tensor<T> {
        self.context = context
        var h = x
        if group.shardsSequence {
            precondition(context.sequence % group.size == 0,
                         "TransformerEncoder: sequence \(context.sequence) does not split across \(group.size) ranks")
            h = shard([x.rows / group.size, x.lastDimension])
            ScatterToSequenceParallelRegion.forward(x, into: h, group: group, sequences: context.batch)
        }
        for (i, layer) in layers.enumerated() {
            if let recomputation {
                h = try recomputation.forward(layer, index: i, h, context: context)
            } else {
                h = try layer.forward(h, context: context)
            }
        }
        // With recomputation h is in the shared workspace: the final layer norm's backward, the
        // first step of backward, reads it before any layer runs again.
        input = h
        var out = h
        if let finalLayerNorm {
            out = output(h.shape)
            LayerNorm.forward(out: out, mean: mean([h.rows]), rstd: rstd([h.rows]), x: h,
                              gamma: finalLayerNorm.gamma.value, beta: finalLayerNorm.beta.value, epsilon: epsilon)
        }
        guard group.shardsSequence else { return out }
        let whole = gathered([out.rows * group.size, out.lastDimension])
        try GatherFromSequenceParallelRegion.forward(out, into: whole, scratch: scratch(whole.shape), group: group,
                                                     sequences: context.batch)
        return whole
    }

    // dy: [b·s, h] → dx: [b·s, h]
    func backward(_ dy: Tensor<T>) throws -> Tensor<T> {
        guard let h = input, let context else { preconditionFailure("TransformerEncoder.backward before forward") }
        var dOut = dy
        if group.shardsSequence {
            dOut = outputGradient(h.shape)
            GatherFromSequenceParallelRegion.backwardOfWholeGradient(dy, into: dOut, group: group, sequences: context.batch)
        }
        var g = gradient(h.shape)
        if let finalLayerNorm {
            LayerNorm.backward(dx: g, dGamma: finalLayerNorm.gamma.gradient, dBeta: finalLayerNorm.beta.gradient,
                               dOut: dOut, x: h, mean: mean([h.rows]), rstd: rstd([h.rows]), gamma: finalLayerNorm.gamma.value)
        } else {
            g.assign(dOut)
        }
        for (i, layer) in layers.enumerated().reversed() {
            if let recomputation {
                try recomputation.backward(layer, index: i, gradient: g)
            } else {
                g = try layer.backward(g)
            }
        }
        guard group.shardsSequence else { return g }
        let dx = inputGradient([g.rows * group.size, g.lastDimension])
        try ScatterToSequenceParallelRegion.backward(g, into: dx, scratch: scratch(dx.shape), group: group,
                                                     sequences: context.batch)
        return dx
    }
}
