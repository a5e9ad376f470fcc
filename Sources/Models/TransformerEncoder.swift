import TensorCore
import TensorParallel

/// The stack of transformer layers and the final layer norm, shared by GPT and BERT (a pipeline
/// stage holds a contiguous range of the layers, and the final norm only on the last stage). With
/// `recomputeActivations` the layers share one workspace and recompute their activations in
/// backward (`LayerRecomputation`); without, each keeps its own from forward to backward.
final class TransformerEncoder<T: TensorScalar> {
    let layers: [ParallelTransformerLayer<T>]
    let finalLayerNorm: LayerNormParameters<T>?
    let epsilon: T
    let recomputation: LayerRecomputation<T>?

    private var input: Tensor<T>?
    private var output = Reusable<T>(), mean = Reusable<T>(), rstd = Reusable<T>()
    private var gradient = Reusable<T>()

    /// `forwardOnly`: the layers share one workspace and keep nothing for a backward (evaluation).
    /// `layerRange`: the layers this stack holds (all by default), named by their global index.
    init(config: TransformerConfig, initializer: ParameterInitializer, group: TensorParallelGroup,
         recomputeActivations: Bool, forwardOnly: Bool = false, layerRange: Range<Int>? = nil,
         withFinalLayerNorm: Bool = true) {
        let range = layerRange ?? 0..<config.layers
        let recomputation = recomputeActivations || forwardOnly
            ? LayerRecomputation<T>(layers: range.count, forwardOnly: forwardOnly) : nil
        layers = range.map {
            ParallelTransformerLayer(name: "layers.\($0)", config: config, initializer: initializer, group: group,
                                     workspace: recomputation?.workspace ?? .init())
        }
        finalLayerNorm = withFinalLayerNorm
            ? LayerNormParameters(name: "final_layernorm", width: config.hidden, initializer: initializer, group: group)
            : nil
        epsilon = T(config.layerNormEpsilon)
        self.recomputation = recomputation
    }

    var parameters: [Parameter<T>] { layers.flatMap(\.parameters) + (finalLayerNorm?.parameters ?? []) }

    // x: [b·s, h] → [b·s, h]
    func forward(_ x: Tensor<T>, context: StepContext) throws -> Tensor<T> {
        var h = x
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
        guard let finalLayerNorm else { return h }
        let out = output(h.shape)
        LayerNorm.forward(out: out, mean: mean([h.rows]), rstd: rstd([h.rows]), x: h,
                          gamma: finalLayerNorm.gamma.value, beta: finalLayerNorm.beta.value, epsilon: epsilon)
        return out
    }

    // dy: [b·s, h] → dx: [b·s, h]
    func backward(_ dy: Tensor<T>) throws -> Tensor<T> {
        guard let h = input else { preconditionFailure("TransformerEncoder.backward before forward") }
        var g = gradient(h.shape)
        if let finalLayerNorm {
            LayerNorm.backward(dx: g, dGamma: finalLayerNorm.gamma.gradient, dBeta: finalLayerNorm.beta.gradient,
                               dOut: dy, x: h, mean: mean([h.rows]), rstd: rstd([h.rows]), gamma: finalLayerNorm.gamma.value)
        } else {
            g.assign(dy)
        }
        for (i, layer) in layers.enumerated().reversed() {
            if let recomputation {
                try recomputation.backward(layer, index: i, gradient: g)
            } else {
                g = try layer.backward(g)
            }
        }
        return g
    }
}
