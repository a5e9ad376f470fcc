import TensorCore

/// Y = X·Aᵀ + b with A (out × in) split along its input columns, A = [A_1 … A_t], and X split
/// the same way: rank r computes the partial product X_r·A_rᵀ, g sums the partials, and the
/// replicated bias enters the sum once. With sequence parallelism the caller runs the conjugate
/// in place of g: it reduce-scatters the partial output along the sequence and all-gathers its
/// gradient (`ReduceScatterToSequenceParallelRegion`).
public final class RowParallelLinear<T: TensorScalar> {
    public let weight: Parameter<T>   // full [out, in], local [out, in/t]
    public let bias: Parameter<T>?    // [out], replicated
    public let inFeatures: Int
    public let outFeatures: Int
    public let inputIsParallel: Bool
    let group: TensorParallelGroup

    let workspace: Workspace
    private var input: Tensor<T>?

    /// The buffers a forward and backward write: the layer's own, or shared with the same
    /// sublayer of the other layers of a stack that recomputes its activations.
    public final class Workspace {
        var localInput = Reusable<T>()
        var output = Reusable<T>()
        var localInputGradient = Reusable<T>()
        var inputGradient = Reusable<T>()
        var gatherScratch = Reusable<T>()

        public init() {}
    }

    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true,
                inputIsParallel: Bool = true, initStd: Double,
                initializer: ParameterInitializer, group: TensorParallelGroup, workspace: Workspace = Workspace()) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.inputIsParallel = inputIsParallel
        self.group = group
        self.workspace = workspace
        weight = Parameter(name: "\(name).weight",
                           full: initializer.normal("\(name).weight", shape: [outFeatures, inFeatures], std: initStd),
                           partition: .split(dimension: 1, stride: 1), weightDecay: true, group: group)
        self.bias = bias
            ? Parameter(name: "\(name).bias", full: initializer.constant([outFeatures], 0),
                        partition: .replicated, weightDecay: false, group: group)
            : nil
    }

    public var parameters: [Parameter<T>] { [weight] + (bias.map { [$0] } ?? []) }
    public var localInFeatures: Int { weight.value.lastDimension }

    // x: [N, in/t] when inputIsParallel, else [N, in] → y: [N, out], identical on every rank
    // (this rank's partial sum with sequence parallelism).
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>) throws -> Tensor<T> {
        var xLocal = x
        if !inputIsParallel {
            xLocal = workspace.localInput([x.rows, localInFeatures])
            ScatterToTensorParallelRegion.forward(x, into: xLocal, group: group)
        }
        input = xLocal
        let y = workspace.output([x.rows, outFeatures])
        // Rank 0's partial product starts from the bias, so the sum holds it once, with no pass of its own.
        let startsFromBias = bias != nil && group.rank == 0
        if let bias, startsFromBias { BiasAdd.fill(out: y, bias: bias.value) }
        GEMM.matmul(xLocal, weight.value, into: y, transB: true, beta: startsFromBias ? 1 : 0)
        if !group.shardsSequence { try ReduceFromTensorParallelRegion.forward(y, group: group) }
        return y
    }

    // dy: [N, out] → dx: [N, in/t] (or [N, in] gathered); dA_r and the replicated db accumulate.
    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) throws -> Tensor<T> {
        guard let xLocal = input else { preconditionFailure("RowParallelLinear.backward before forward") }
        let dy = ReduceFromTensorParallelRegion.backward(dy)
        if let bias { BiasAdd.backward(dBias: bias.gradient, dOut: dy) }
        GEMM.matmul(dy, xLocal, into: weight.gradient, transA: true, beta: 1)
        let dxLocal = workspace.localInputGradient([dy.rows, localInFeatures])
        GEMM.matmul(dy, weight.value, into: dxLocal)
        guard !inputIsParallel else { return dxLocal }
        let dx = workspace.inputGradient([dy.rows, inFeatures])
        try ScatterToTensorParallelRegion.backward(
            dxLocal, into: dx, scratch: workspace.gatherScratch([dxLocal.count * group.size]), group: group)
        return dx
    }
}
