import Collectives
import Models
import TensorParallel

/// The operations one GPT training step performs on one rank, derived from the config alone: the
/// shapes are the ones `GPTModel`'s layers allocate (local widths h/t, 3h/t, 4h/t, V/t; the causal
/// attention blocks of `ParallelAttention.queryBlocks`), the collectives the ones its f and g
/// mappings, vocabulary-parallel embedding and cross-entropy, `ParameterSet` and the training
/// loops issue. Rank 0's view: the other ranks of a group run the same shapes.
/// Elementwise kernels are charged the bytes they read and write (an estimate; no counter checks it).
public enum GPTStepTrace {
    public static func build(_ config: StepTraceConfig) -> StepTrace {
        var builder = Builder(config)
        builder.step()
        return StepTrace(config: config, operations: builder.operations, parametersPerRank: parametersPerRank(config))
    }

    /// The name of the data-parallel gradient all-reduce, the one collective a machine may overlap.
    public static let gradientReduction = "data-parallel gradients"

    /// The elements of a rank's flat parameter buffer (`ParameterSet`, each parameter aligned).
    public static func parametersPerRank(_ config: StepTraceConfig) -> Int {
        let m = config.model, t = config.tensorParallel
        let (h, f) = (m.hidden, m.transformer.ffnHidden)
        let align = ParameterSet<Float>.alignedCount
        let layerNorm = 2 * align(h)
        let layer = layerNorm + align(3 * h / t * h) + align(3 * h / t)      // LN1, QKV
            + align(h * h / t) + align(h)                                    // dense (bias replicated)
            + layerNorm + align(f / t * h) + align(f / t)                    // LN2, h → 4h
            + align(h * f / t) + align(h)                                    // 4h → h
        return align(m.paddedVocabSize / t * h) + align(m.maxPositions * h) + m.layers * layer + layerNorm
    }

    struct Builder {
        let config: StepTraceConfig
        let t: Int, b: Int, s: Int, n: Int, h: Int, f: Int, v: Int, d: Int, localHeads: Int, e: Int
        let hiddenDropout: Bool, attentionDropout: Bool
        var operations: [StepOperation] = []
        var pass: StepPass = .forward

        init(_ config: StepTraceConfig) {
            self.config = config
            let m = config.model
            t = config.tensorParallel
            b = config.microBatch
            s = config.sequence
            n = b * s
            h = m.hidden
            f = m.transformer.ffnHidden
            v = m.paddedVocabSize / t
            d = m.hidden / m.heads
            localHeads = m.heads / t
            e = config.elementBytes
            hiddenDropout = m.hiddenDropout > 0
            attentionDropout = m.attentionDropout > 0
        }

        mutating func gemm(_ name: String, m: Int, n: Int, k: Int, count: Int = 1) {
            operations.append(StepOperation(name: name, pass: pass, work: .gemm(TracedGEMM(m: m, n: n, k: k, count: count))))
        }

        /// A memory-bound kernel touching `elements` elements `passes` times (reads plus writes).
        mutating func kernel(_ name: String, elements: Int, passes: Int) {
            operations.append(StepOperation(name: name, pass: pass, work: .elementwise(bytes: elements * passes * e)))
        }

        /// Collectives of the model's scalar type on the tensor-parallel group are skipped at tp = 1
        /// (`TensorParallelGroup`); `always` ones go straight to the communicator, which counts them at any size.
        mutating func collective(_ name: String, _ op: CollectiveOp, _ group: CommunicationGroup, elements: Int,
                                 elementBytes: Int? = nil, always: Bool = false) {
            let size = group == .tensorParallel ? t : config.dataParallel
            guard size > 1 || always else { return }
            let c = TracedCollective(op: op, group: group, groupSize: size, elements: elements, elementBytes: elementBytes ?? e)
            operations.append(StepOperation(name: name, pass: pass, work: .collective(c)))
        }

        mutating func step() {
            let parameters = GPTStepTrace.parametersPerRank(config)
            if config.loop == .benchmark {
                pass = .update
                kernel("zero gradients", elements: parameters, passes: 1)
            }
            for _ in 0..<config.microBatches {
                pass = .forward
                forward()
                pass = .backward
                backward()
            }
            pass = .update
            if config.loop == .trainer {
                collective("loss sums", .allReduce, .dataParallel, elements: 2, elementBytes: 8, always: true)
            }
            if config.dataParallel > 1 {
                collective(GPTStepTrace.gradientReduction, .allReduce, .dataParallel, elements: parameters)
                kernel("gradients ÷ dp", elements: parameters, passes: 2)
            }
            if config.loop == .trainer {
                kernel("gradient norm", elements: parameters, passes: 1)
                collective("gradient norm", .allReduce, .tensorParallel, elements: 1, elementBytes: 8)
            }
            kernel("AdamW", elements: parameters, passes: 7)
            if config.loop == .trainer { kernel("zero gradients", elements: parameters, passes: 1) }
        }

        mutating func forward() {
            kernel("embedding lookup", elements: n * h, passes: 2)
            collective("embedding", .allReduce, .tensorParallel, elements: n * h)
            kernel("embedding + positions", elements: n * h, passes: 3)
            if hiddenDropout { kernel("embedding dropout", elements: n * h, passes: 2) }
            for layer in 0..<config.model.layers {
                if config.recomputeActivations { kernel("layers.\(layer) keep input", elements: n * h, passes: 2) }
                layerForward(layer)
            }
            kernel("final_layernorm", elements: n * h, passes: 2)
            gemm("logits", m: n, n: v, k: h)
            kernel("cross-entropy maxima", elements: n * v, passes: 1)
            collective("cross-entropy maxima", .allReduce, .tensorParallel, elements: n)
            collective("cross-entropy target logits", .allReduce, .tensorParallel, elements: n)
            kernel("cross-entropy sum of exponentials", elements: n * v, passes: 1)
            collective("cross-entropy sums", .allReduce, .tensorParallel, elements: n)
        }

        mutating func backward() {
            kernel("cross-entropy backward", elements: n * v, passes: 2)
            gemm("logits dW", m: v, n: h, k: n)
            gemm("logits dX", m: n, n: h, k: v)
            collective("logits dX", .allReduce, .tensorParallel, elements: n * h)
            kernel("final_layernorm backward", elements: n * h, passes: 3)
            for layer in (0..<config.model.layers).reversed() {
                if config.recomputeActivations {
                    pass = .recompute
                    layerForward(layer)
                    pass = .backward
                }
                layerBackward(layer)
                if config.recomputeActivations { kernel("layers.\(layer) copy gradient", elements: n * h, passes: 2) }
            }
            if hiddenDropout { kernel("embedding dropout backward", elements: n * h, passes: 2) }
            kernel("position embeddings backward", elements: n * h, passes: 3)
            kernel("word embeddings backward", elements: n * h, passes: 2)
        }

        mutating func layerForward(_ layer: Int) {
            let name = "layers.\(layer)"
            kernel("\(name).input_layernorm", elements: n * h, passes: 2)
            kernel("\(name).attention.query_key_value bias", elements: n * 3 * h / t, passes: 1)
            gemm("\(name).attention.query_key_value", m: n, n: 3 * h / t, k: h)
            attentionCore(name)
            kernel("\(name).attention.dense bias", elements: n * h, passes: 1)
            gemm("\(name).attention.dense", m: n, n: h, k: h / t)
            collective("\(name).attention.dense", .allReduce, .tensorParallel, elements: n * h)
            if hiddenDropout { kernel("\(name) attention output dropout", elements: n * h, passes: 2) }
            kernel("\(name) residual", elements: n * h, passes: 3)
            kernel("\(name).post_attention_layernorm", elements: n * h, passes: 2)
            kernel("\(name).mlp.dense_h_to_4h bias", elements: n * f / t, passes: 1)
            gemm("\(name).mlp.dense_h_to_4h", m: n, n: f / t, k: h)
            kernel("\(name).mlp GeLU", elements: n * f / t, passes: 2)
            kernel("\(name).mlp.dense_4h_to_h bias", elements: n * h, passes: 1)
            gemm("\(name).mlp.dense_4h_to_h", m: n, n: h, k: f / t)
            collective("\(name).mlp.dense_4h_to_h", .allReduce, .tensorParallel, elements: n * h)
            if hiddenDropout { kernel("\(name) mlp output dropout", elements: n * h, passes: 2) }
            kernel("\(name) residual", elements: n * h, passes: 3)
        }

        mutating func layerBackward(_ layer: Int) {
            let name = "layers.\(layer)"
            if hiddenDropout { kernel("\(name) mlp output dropout backward", elements: n * h, passes: 3) }
            kernel("\(name).mlp.dense_4h_to_h bias backward", elements: n * h, passes: 1)
            gemm("\(name).mlp.dense_4h_to_h dW", m: h, n: f / t, k: n)
            gemm("\(name).mlp.dense_4h_to_h dX", m: n, n: f / t, k: h)
            kernel("\(name).mlp GeLU backward", elements: n * f / t, passes: 3)
            gemm("\(name).mlp.dense_h_to_4h dW", m: f / t, n: h, k: n)
            kernel("\(name).mlp.dense_h_to_4h bias backward", elements: n * f / t, passes: 1)
            gemm("\(name).mlp.dense_h_to_4h dX", m: n, n: h, k: f / t)
            collective("\(name).mlp.dense_h_to_4h dX", .allReduce, .tensorParallel, elements: n * h)
            kernel("\(name).post_attention_layernorm backward", elements: n * h, passes: 3)
            kernel("\(name) residual backward", elements: n * h, passes: 3)
            if hiddenDropout { kernel("\(name) attention output dropout backward", elements: n * h, passes: 3) }
            kernel("\(name).attention.dense bias backward", elements: n * h, passes: 1)
            gemm("\(name).attention.dense dW", m: h, n: h / t, k: n)
            gemm("\(name).attention.dense dX", m: n, n: h / t, k: h)
            attentionCoreBackward(name)
            gemm("\(name).attention.query_key_value dW", m: 3 * h / t, n: h, k: n)
            kernel("\(name).attention.query_key_value bias backward", elements: n * 3 * h / t, passes: 1)
            gemm("\(name).attention.query_key_value dX", m: n, n: h, k: 3 * h / t)
            collective("\(name).attention.query_key_value dX", .allReduce, .tensorParallel, elements: n * h)
            kernel("\(name).input_layernorm backward", elements: n * h, passes: 3)
            kernel("\(name) residual backward", elements: n * h, passes: 3)
        }

        /// softmax(q·kᵀ)·v per (sequence, local head) pair, over the blocks the causal mask leaves.
        mutating func attentionCore(_ name: String) {
            let pairs = b * localHeads, causal = config.model.transformer.causal
            let blocks = ParallelAttention<Float>.queryBlocks(sequence: s, causal: causal)
            for (rows, keys) in blocks { gemm("\(name).attention q·kᵀ", m: rows.count, n: keys, k: d, count: pairs) }
            kernel("\(name).attention softmax", elements: pairs * s * s, passes: 2)
            if attentionDropout { kernel("\(name).attention dropout", elements: pairs * s * s, passes: 2) }
            for (rows, keys) in blocks { gemm("\(name).attention probs·v", m: rows.count, n: d, k: keys, count: pairs) }
        }

        mutating func attentionCoreBackward(_ name: String) {
            let pairs = b * localHeads, causal = config.model.transformer.causal
            let queries = ParallelAttention<Float>.queryBlocks(sequence: s, causal: causal)
            let keys = ParallelAttention<Float>.keyBlocks(sequence: s, causal: causal)
            for (rows, seen) in queries { gemm("\(name).attention dP", m: rows.count, n: seen, k: d, count: pairs) }
            for (columns, first) in keys { gemm("\(name).attention dV", m: columns.count, n: d, k: s - first, count: pairs) }
            if attentionDropout { kernel("\(name).attention dropout backward", elements: pairs * s * s, passes: 3) }
            kernel("\(name).attention softmax backward", elements: pairs * s * s, passes: 3)
            for (rows, seen) in queries { gemm("\(name).attention dQ", m: rows.count, n: d, k: seen, count: pairs) }
            for (columns, first) in keys { gemm("\(name).attention dK", m: columns.count, n: d, k: s - first, count: pairs) }
        }
    }
}
