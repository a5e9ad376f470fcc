import TensorCore

/// h → 4h → h: column-parallel (output left split), GeLU on each rank's own columns with no
/// communication, row-parallel (input already split). One all-reduce forward (the g after the
/// row layer) and one backward (the f before the column layer).
public final class ParallelMLP<T: TensorScalar> {
    public let denseHTo4H: ColumnParallelLinear<T>
    public let dense4HToH: RowParallelLinear<T>
    let gelu: GeLUForm

    let workspace: Workspace
    private var preActivation: Tensor<T>?

    /// The buffers a forward and backward write, the projections' included: the layer's own, or
    /// shared with the MLP of the other layers of a stack that recomputes its activations.
    public final class Workspace {
        let denseHTo4H = ColumnParallelLinear<T>.Workspace()
        let dense4HToH = RowParallelLinear<T>.Workspace()
        var activation = Reusable<T>()
        var activationGradient = Reusable<T>()

        public init() {}
    }

    public init(name: String, config: TransformerConfig, initializer: ParameterInitializer,
                group: TensorParallelGroup, workspace: Workspace = Workspace()) {
        gelu = config.gelu
        self.workspace = workspace
        denseHTo4H = ColumnParallelLinear(
            name: "\(name).dense_h_to_4h", inFeatures: config.hidden, outFeatures: config.ffnHidden,
            initStd: config.initStd, initializer: initializer, group: group, workspace: workspace.denseHTo4H)
        dense4HToH = RowParallelLinear(
            name: "\(name).dense_4h_to_h", inFeatures: config.ffnHidden, outFeatures: config.hidden,
            initStd: config.outputInitStd, initializer: initializer, group: group, workspace: workspace.dense4HToH)
    }

    public var parameters: [Parameter<T>] { denseHTo4H.parameters + dense4HToH.parameters }

    // x: [N, h] → [N, h]
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>) throws -> Tensor<T> {
        let z = try denseHTo4H.forward(x)
        preActivation = z
        let a = workspace.activation(z.shape)
        GeLU.forward(out: a, x: z, form: gelu)
        return try dense4HToH.forward(a)
    }

    /// What backward reads of the last forward: GeLU's input and output (the second projection's input).
    var activationsKeptForBackward: [Tensor<T>] {
        guard let z = preActivation else { return [] }
        return [z, workspace.activation(z.shape)]
    }

    // dy: [N, h] → dx: [N, h]
    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) throws -> Tensor<T> {
        guard let z = preActivation else { preconditionFailure("ParallelMLP.backward before forward") }
        let da = try dense4HToH.backward(dy)
        let dz = workspace.activationGradient(z.shape)
        GeLU.backward(dx: dz, dOut: da, x: z, form: gelu)
        return try denseHTo4H.backward(dz)
    }
}
