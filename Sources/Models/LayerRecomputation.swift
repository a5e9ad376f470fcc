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
final class LayerRecomputation<T: TensorScalar> {
    /// The one workspace every layer of the stack is built with.
    let workspace = ParallelTransformerLayer<T>.Workspace()

    private var context: StepContext?
    private var inputs: [Reusable<T>]

    init(layers: Int) {
        inputs = Array(repeating: Reusable<T>(), count: layers)
    }

    // x: [b·s, h] → layer i's output [b·s, h], in the shared workspace until the next layer runs.
    func forward(_ layer: ParallelTransformerLayer<T>, index i: Int, _ x: Tensor<T>,
                 context: StepContext) throws -> Tensor<T> {
        self.context = context
        // A copy, since x is the previous layer's output, which this layer's forward overwrites.
        let kept = inputs[i](x.shape)
        kept.assign(x)
        return try layer.forward(kept, context: context)
    }

    // gradient: [b·s, h], at layer i's output on entry and at its input on return.
    func backward(_ layer: ParallelTransformerLayer<T>, index i: Int, gradient: Tensor<T>) throws {
        guard let context else { preconditionFailure("LayerRecomputation.backward before forward") }
        _ = try layer.forward(inputs[i](gradient.shape), context: context)
        // Copied out of the shared workspace, where the next layer's backward writes its own.
        gradient.assign(try layer.backward(gradient))
    }
}
