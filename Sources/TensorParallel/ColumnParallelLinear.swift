import TensorCore

/// Y = X·Aᵀ + b with A (out × in) split along its output rows, A = [A_1; …; A_t]: rank r computes
/// the columns Y_r = X·A_rᵀ + b_r of the output. The input enters through f, so backward sums the
/// ranks' partial input gradients; the output stays split unless `gatherOutput`. With sequence
/// parallelism the caller runs the conjugate in place of f: it all-gathers the input along the
/// sequence and reduce-scatters the partial input gradient (`GatherFromSequenceParallelRegion`).
public final class ColumnParallelLinear<T: TensorScalar> {
    public let weight: Parameter<T>   // full [out, in], local [out/t, in]
    public let bias: Parameter<T>?    // full [out], local [out/t]
    public let inFeatures: Int
    public let outFeatures: Int
    public let gatherOutput: Bool
    let group: TensorParallelGroup

    let workspace: Workspace
    private var input: Tensor<T>?

    /// The buffers a forward and backward write: the layer's own, or shared with the same
    /// sublayer of the other layers of a stack that recomputes its activations.
    public final class Workspace {
        var localOutput = Reusable<T>()
        var gathered = Reusable<T>()
        var gatherScratch = Reusable<T>()
        var localGradient = Reusable<T>()
        var inputGradient = Reusable<T>()

        public init() {}
    }

    /// `stride` 3 keeps each rank's Q, K and V rows of a fused [Q; K; V] weight together.
    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true,
                gatherOutput: Bool = false, stride: Int = 1, initStd: Double,
                initializer: ParameterInitializer, group: TensorParallelGroup, workspace: Workspace = Workspace()) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.gatherOutput = gatherOutput
        self.group = group
        self.workspace = workspace
        let split = Partition.split(dimension: 0, stride: stride)
        weight = Parameter(name: "\(name).weight",
                           full: initializer.normal("\(name).weight", shape: [outFeatures, inFeatures], std: initStd),
                           partition: split, weightDecay: true, group: group)
        self.bias = bias
            ? Parameter(name: "\(name).bias", full: initializer.constant([outFeatures], 0),
                        partition: split, weightDecay: false, group: group)
            : nil
    }

    public var parameters: [Parameter<T>] { [weight] + (bias.map { [$0] } ?? []) }
    public var localOutFeatures: Int { weight.value.rows }

    // x: [N, in] → [N, out/t], or [N, out] when gatherOutput.
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>) throws -> Tensor<T> {
        let x = group.shardsSequence ? x : CopyToTensorParallelRegion.forward(x)
        input = x
        let y = workspace.localOutput([x.rows, localOutFeatures])
        if let bias { BiasAdd.fill(out: y, bias: bias.value) }
        GEMM.matmul(x, weight.value, into: y, transB: true, beta: bias == nil ? 0 : 1)
        guard gatherOutput else { return y }
        let full = workspace.gathered([x.rows, outFeatures])
        try GatherFromTensorParallelRegion.forward(
            y, into: full, scratch: workspace.gatherScratch([y.count * group.size]), group: group)
        return full
    }

    // dy: [N, out/t] (or [N, out] when gatherOutput) → dx: [N, in]; dA_r, db_r accumulate.
    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) throws -> Tensor<T> {
        guard let x = input else { preconditionFailure("ColumnParallelLinear.backward before forward") }
        var dLocal = dy
        if gatherOutput {
            dLocal = workspace.localGradient([dy.rows, localOutFeatures])
            GatherFromTensorParallelRegion.backward(dy, into: dLocal, group: group)
        }
        GEMM.matmul(dLocal, x, into: weight.gradient, transA: true, beta: 1)
        if let bias { BiasAdd.backward(dBias: bias.gradient, dOut: dLocal) }
        let dx = workspace.inputGradient([x.rows, inFeatures])
        GEMM.matmul(dLocal, weight.value, into: dx)
        if !group.shardsSequence { try CopyToTensorParallelRegion.backward(dx, group: group) }
        return dx
    }
}
