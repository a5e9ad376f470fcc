import TensorCore
import TensorParallel

/// Activation recomputation per layer (Megatron's `--checkpoint-activations`): the layers of a
/// stack share one workspace, so forward keeps only each layer's input, and backward runs the
/// layer's forward again from that input just before the layer's backward. Memory for
/// activations drops from one workspace per layer to one workspace plus a [b·s, h] input per
/// layer, for one more forward of the layers per step.
///
/// The recomputed forward is the first one exactly: the same input and weights (the optimizer
/// runs after backward), and dropout masks that are functions of (seed, step, site, element),
/// so losses and gradients are bit-identical to a run that keeps every activation.
///
/// Forward only (evaluation) goes one step further: no layer's input is kept either, so a
/// forward holds one workspace and one [b·s, h] buffer besides the weights, whatever the depth.
final class LayerRecomputation<T: TensorScalar> {
    /// The one workspace every layer of the stack is built with.
    let workspace = ParallelTransformerLayer<T>.Workspace()

    private var context: StepContext?
    private var inputs: [Reusable<T>]
    /// Forward only (inference): one input buffer serves every layer in turn, and there is no backward.
    let forwardOnly: Bool

    init(layers: Int, forwardOnly: Bool = false) {
        inputs = Array(repeating: Reusable<T>(), count: forwardOnly ? 1 : layers)
        self.forwardOnly = forwardOnly
    }

    // x: [b·s, h] → layer i's output [b·s, h], in the shared workspace until the next layer runs.
    func forward(_ layer: ParallelTransformerLayer<T>, index i: Int, _ x: Tensor<T>,
                 context: StepContext) throws -> Tensor<T> {
        self.context = context
        // A copy, since x is the previous layer's output, which this layer's forward overwrites.
        let kept = inputs[forwardOnly ? 0 : i](x.shape)
        kept.assign(x)
        return try layer.forward(kept, context: context)
    }

    // gradient: [b·s, h], at layer i's output on entry and at its input on return.
    func backward(_ layer: ParallelTransformerLayer<T>, index i: Int, gradient: Tensor<T>) throws {
        guard let context, !forwardOnly else { preconditionFailure("LayerRecomputation.backward before forward, or of a forward-only stack") }
        _ = try layer.forward(inputs[i](gradient.shape), context: context)
        // Copied out of the shared workspace, where the next layer's backward writes its own.
        gradient.assign(try layer.backward(gradient))
    }
}
