import Collectives
import TensorCore
import TensorParallel

/// Megatron's `clip_grad_norm` (`mpu/grads.py`): the norm of the whole model's gradient, as a
/// tp = 1 run would compute it, without gathering anything. Split parameters contribute their
/// shard's Σg² on every rank; replicated ones hold the same gradient on every rank, so only
/// tensor-parallel rank 0 counts them. One all-reduce of a scalar over the group sums the parts.
/// Called after the data-parallel average, so every data-parallel rank gets the same norm.
/// With pipeline stages each stage's part is summed over the pipeline too, a parameter held by
/// two stages (the tied embedding) counted on one of them.
public enum GradientClipping {
    /// The global L2 norm of `parameters`' gradients; identical on every rank of `group` and
    /// of the pipeline in `stages`.
    public static func globalNorm<T: TensorScalar>(_ parameters: ParameterSet<T>, group: TensorParallelGroup,
                                                   stages: GradientNormStages = .init()) throws -> Double {
        var sum = 0.0
        for p in parameters.parameters
        where (!p.isReplicated || group.rank == 0) && !stages.countedElsewhere.contains(p.name) {
            sum += sumOfSquares(p.gradient)
        }
        let total = Tensor<Double>(shape: [1], values: [sum])
        try group.allReduce(total)
        if let pipeline = stages.pipeline, pipeline.size > 1 { try pipeline.allReduce(total) }
        return total.pointer[0].squareRoot()
    }

    /// Scales every gradient by maxNorm / (norm + 1e-6) when the norm exceeds `maxNorm`
    /// (the ε as in Megatron). Returns the norm before clipping, for the log.
    @discardableResult
    public static func clip<T: TensorScalar>(_ parameters: ParameterSet<T>, maxNorm: Double,
                                             group: TensorParallelGroup, stages: GradientNormStages = .init()) throws -> Double {
        let norm = try globalNorm(parameters, group: group, stages: stages)
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            let g = parameters.gradients.pointer, factor = T(coefficient)
            parallelChunks(parameters.gradients.count) { range in
                for i in range { g[i] *= factor }
            }
        }
        return norm
    }

    /// Σ x² in Double, with eight accumulators so the loop vectorizes.
    static func sumOfSquares<T: TensorScalar>(_ t: Tensor<T>) -> Double {
        let x = t.pointer, n = t.count
        var acc = SIMD8<Double>()
        var i = 0
        while i + 8 <= n {
            var v = SIMD8<Double>()
            for k in 0..<8 { v[k] = Double(x[i + k]) }
            acc += v * v
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            let v = Double(x[i])
            sum += v * v
            i += 1
        }
        return sum
    }
}

/// The pipeline a gradient norm sums over, and the parameters whose copy another stage counts.
public struct GradientNormStages: Sendable {
    public var pipeline: (any Communicator)?
    public var countedElsewhere: Set<String>

    public init(pipeline: (any Communicator)? = nil, countedElsewhere: Set<String> = []) {
        self.pipeline = pipeline
        self.countedElsewhere = countedElsewhere
    }
}
