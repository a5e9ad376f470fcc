import TensorCore
import TensorParallel

/// y = x·Wᵀ + b with W and b whole on every rank: the small heads (pooler, LM-head transform,
/// binary and multiple-choice classifiers) whose inputs are replicated, so their gradients are
/// identical on every rank of the tensor-parallel group without communication.
final class ReplicatedLinear<T: TensorScalar> {
    let weight: Parameter<T>   // [out, in]
    let bias: Parameter<T>     // [out]

    private var input: Tensor<T>?
    private var output = Reusable<T>()
    private var inputGradient = Reusable<T>()

    init(name: String, inFeatures: Int, outFeatures: Int, initStd: Double,
         initializer: ParameterInitializer, group: TensorParallelGroup) {
        weight = Parameter(name: "\(name).weight",
                           full: initializer.normal("\(name).weight", shape: [outFeatures, inFeatures], std: initStd),
                           partition: .replicated, weightDecay: true, group: group)
        bias = Parameter(name: "\(name).bias", full: initializer.constant([outFeatures], 0),
                         partition: .replicated, weightDecay: false, group: group)
    }

    var parameters: [Parameter<T>] { [weight, bias] }

    // x: [N, in] → [N, out]
    func forward(_ x: Tensor<T>) -> Tensor<T> {
        input = x
        let y = output([x.rows, weight.value.rows])
        GEMM.matmul(x, weight.value, into: y, transB: true)
        BiasAdd.forward(out: y, x: y, bias: bias.value)
        return y
    }

    // dy: [N, out] → dx: [N, in]; dW and db accumulate.
    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("ReplicatedLinear.backward before forward") }
        GEMM.matmul(dy, x, into: weight.gradient, transA: true, beta: 1)
        BiasAdd.backward(dBias: bias.gradient, dOut: dy)
        let dx = inputGradient(x.shape)
        GEMM.matmul(dy, weight.value, into: dx)
        return dx
    }
}
