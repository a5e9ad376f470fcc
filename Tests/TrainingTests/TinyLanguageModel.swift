import Collectives
import Datasets
import Models
import TensorCore
import TensorParallel
import Training

struct TinyBatch: Sendable {
    var tokens: [Int32]
    var labels: [Int32]
}

/// A small language model for the trainer's tests: a vocabulary-parallel embedding, two
/// tensor-parallel transformer layers and logits from the tied embedding, scored by the
/// vocabulary-parallel cross-entropy. It has split and replicated parameters, decayed and
/// undecayed ones, and dropout, which is all the training loop needs to be tested against.
final class TinyLanguageModel: TrainableModel {
    typealias Scalar = Float
    typealias Batch = TinyBatch

    static let config = TransformerConfig(layers: 2, hidden: 16, heads: 4, causal: true,
                                          attentionDropout: 0.1, hiddenDropout: 0.1)
    static let vocab = 32

    let parameters: ParameterSet<Float>
    let tensorParallel: TensorParallelGroup
    let embedding: VocabParallelEmbedding<Float>
    let layers: [ParallelTransformerLayer<Float>]
    let crossEntropy: VocabParallelCrossEntropy<Float>
    let hidden: Int

    private var finalHidden: Tensor<Float>?

    init(seed: UInt64, group: TensorParallelGroup, hidden: Int = TinyLanguageModel.config.hidden) {
        var config = Self.config
        config.hidden = hidden
        config.ffnHidden = 4 * hidden
        self.hidden = hidden
        let initializer = ParameterInitializer(seed: seed)
        tensorParallel = group
        embedding = VocabParallelEmbedding(name: "embedding.word_embeddings", paddedVocabSize: Self.vocab, hidden: hidden,
                                           initStd: 0.02, initializer: initializer, group: group)
        layers = (0..<config.layers).map {
            ParallelTransformerLayer(name: "layers.\($0)", config: config, initializer: initializer, group: group)
        }
        crossEntropy = VocabParallelCrossEntropy(vocabRange: embedding.vocabRange, group: group)
        parameters = ParameterSet(embedding.parameters + layers.flatMap(\.parameters))
    }

    func trainingFLOPs(sequenceLength length: Int) -> Double {
        let (l, h, v, s) = (Double(layers.count), Double(hidden), Double(Self.vocab), Double(length))
        return s * (6 * (12 * l * h * h + v * h) + 12 * l * s * h)
    }

    // tokens [N] → per-token losses [N], identical on every rank.
    private func forward(_ batch: TinyBatch, context: StepContext) throws -> Tensor<Float> {
        var h = try embedding.forward(batch.tokens)
        for layer in layers { h = try layer.forward(h, context: context) }
        finalHidden = h
        let logits = Tensor<Float>(zeros: [h.rows, embedding.vocabRange.count])
        GEMM.matmul(CopyToTensorParallelRegion.forward(h), embedding.weight.value, into: logits, transB: true)
        return try crossEntropy.forward(logits: logits, targets: batch.labels)
    }

    func loss(_ batch: TinyBatch, context: StepContext) throws -> LossReport {
        let losses = try forward(batch, context: context)
        return LossReport(total: mean(losses))
    }

    func forwardBackward(_ batch: TinyBatch, context: StepContext, lossScale: Double) throws -> LossReport {
        let losses = try forward(batch, context: context)
        let n = losses.count
        let dLosses = Tensor<Float>(zeros: [n])
        dLosses.fill(Float(lossScale / Double(n)))
        let dLogits = crossEntropy.backward(dLosses)
        let h = finalHidden!
        GEMM.matmul(dLogits, h, into: embedding.weight.gradient, transA: true, beta: 1)
        var dh = Tensor<Float>(zeros: h.shape)
        GEMM.matmul(dLogits, embedding.weight.value, into: dh)
        try CopyToTensorParallelRegion.backward(dh, group: tensorParallel)
        for layer in layers.reversed() { dh = try layer.backward(dh) }
        embedding.backward(dh)
        return LossReport(total: mean(losses), parts: ["lm": mean(losses)])
    }

    private func mean(_ t: Tensor<Float>) -> Double {
        t.array.reduce(0) { $0 + Double($1) } / Double(t.count)
    }
}

/// Deterministic sequences laid out as the loaders lay them: a global batch of `microBatch × dp`
/// sequences per loader batch, rank r taking the r-th slice. Labels are a fixed function of the
/// tokens, so the loss can fall.
struct TinySource: MicroBatchSource {
    let microBatch: Int
    let sequence: Int
    let dpRank: Int
    let dpSize: Int
    var position: LoaderPosition

    init(microBatch: Int, sequence: Int = 8, dpRank: Int, dpSize: Int, position: LoaderPosition = .start) {
        self.microBatch = microBatch
        self.sequence = sequence
        self.dpRank = dpRank
        self.dpSize = dpSize
        self.position = position
    }

    mutating func next() -> TinyBatch {
        let first = (position.batch * dpSize + dpRank) * microBatch
        var tokens: [Int32] = [], labels: [Int32] = []
        for sample in first..<(first + microBatch) {
            for t in 0..<sequence {
                var x = UInt64(sample * 131 + t) &* 0x9E37_79B9_7F4A_7C15
                x ^= x >> 29
                let token = Int32(x % 29)
                tokens.append(token)
                labels.append((token * 7 + 3) % 29)
            }
        }
        position.batch += 1
        return TinyBatch(tokens: tokens, labels: labels)
    }
}
