import TensorCore
import TensorParallel

/// The output layer tied to the input embedding (Megatron's parallel_lm_logits): each rank
/// multiplies the replicated hidden states, entering through f, by its own vocabulary rows of the
/// word-embedding matrix, so the logits come out split along the vocabulary and are never
/// gathered in training. The tied matrix's gradient is the sum of both uses, with no extra
/// communication. BERT adds a vocabulary-parallel bias.
final class VocabParallelLogits<T: TensorScalar> {
    let embedding: VocabParallelEmbedding<T>
    let bias: Parameter<T>?    // full [V], local [V/t]
    let group: TensorParallelGroup

    private var input: Tensor<T>?
    private var output = Reusable<T>(), inputGradient = Reusable<T>()

    init(embedding: VocabParallelEmbedding<T>, biasName: String?, initializer: ParameterInitializer,
         group: TensorParallelGroup) {
        self.embedding = embedding
        self.group = group
        bias = biasName.map {
            Parameter(name: $0, full: initializer.constant(embedding.weight.fullShape.prefix(1).map { $0 }, 0),
                      partition: .split(dimension: 0, stride: 1), weightDecay: false, group: group)
        }
    }

    /// Only the bias: the weight belongs to the embedding and is listed there.
    var parameters: [Parameter<T>] { bias.map { [$0] } ?? [] }

    // x: [N, h] → logits: [N, V/t]
    func forward(_ x: Tensor<T>) -> Tensor<T> {
        let x = CopyToTensorParallelRegion.forward(x)
        input = x
        let w = embedding.weight.value
        let logits = output([x.rows, w.rows])
        GEMM.matmul(x, w, into: logits, transB: true)
        if let bias { BiasAdd.forward(out: logits, x: logits, bias: bias.value) }
        return logits
    }

    // dLogits: [N, V/t] → dx: [N, h]; the tied weight's gradient accumulates.
    func backward(_ dLogits: Tensor<T>) throws -> Tensor<T> {
        guard let x = input else { preconditionFailure("VocabParallelLogits.backward before forward") }
        let w = embedding.weight
        GEMM.matmul(dLogits, x, into: w.gradient, transA: true, beta: 1)
        if let bias { BiasAdd.backward(dBias: bias.gradient, dOut: dLogits) }
        let dx = inputGradient(x.shape)
        GEMM.matmul(dLogits, w.value, into: dx)
        try CopyToTensorParallelRegion.backward(dx, group: group)
        return dx
    }
}
