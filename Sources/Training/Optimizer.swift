import Collectives
import TensorCore
import TensorParallel

/// AdamW over a `ParameterSet`'s flat buffers, with Megatron's schedule and clipping: one update
/// over the decayed range with the weight decay and one over the biases and layer norms without.
/// The moments are flat buffers laid out like the parameter set's, so a parameter's moments sit at
/// its value's offset.
public final class Optimizer<T: TensorScalar> {
    public let parameters: ParameterSet<T>
    public let schedule: LearningRateSchedule
    /// β₁, β₂, ε and the weight decay; the learning rate comes from `schedule`.
    public let hyperparameters: AdamWHyperparameters
    /// Clip the global gradient norm to this; nil leaves gradients as they are.
    public let maxGradientNorm: Double?
    public let firstMoments: Tensor<T>
    public let secondMoments: Tensor<T>
    /// Updates taken so far; the next update is AdamW step `stepsTaken + 1`.
    public internal(set) var stepsTaken = 0

    public init(parameters: ParameterSet<T>, schedule: LearningRateSchedule,
                hyperparameters: AdamWHyperparameters, maxGradientNorm: Double?) {
        self.parameters = parameters
        self.schedule = schedule
        self.hyperparameters = hyperparameters
        self.maxGradientNorm = maxGradientNorm
        firstMoments = Tensor(zeros: parameters.values.shape)
        secondMoments = Tensor(zeros: parameters.values.shape)
    }

    /// What one update did, for the log.
    public struct Update: Sendable, Equatable {
        public var learningRate: Double
        /// The global gradient norm before clipping.
        public var gradientNorm: Double
    }

    /// Clips the (already data-parallel averaged) gradients, then applies one AdamW update at the
    /// scheduled rate. Collective over `group` and `pipeline`, whose stages' norms add up;
    /// `countedElsewhere` names parameters another stage's copy counts in the norm.
    @discardableResult
    public func step(group: TensorParallelGroup, pipeline: (any Communicator)? = nil,
                     countedElsewhere: Set<String> = []) throws -> Update {
        let stages = GradientNormStages(pipeline: pipeline, countedElsewhere: countedElsewhere)
        let norm = try maxGradientNorm.map { try GradientClipping.clip(parameters, maxNorm: $0, group: group, stages: stages) }
            ?? GradientClipping.globalNorm(parameters, group: group, stages: stages)
        let rate = schedule.rate(at: stepsTaken)
        stepsTaken += 1
        var decayed = hyperparameters
        decayed.learningRate = rate
        var undecayed = decayed
        undecayed.weightDecay = 0
        let all = 0..<parameters.values.count
        for (range, hp) in [(parameters.decayed, decayed), (parameters.decayed.upperBound..<all.upperBound, undecayed)]
        where !range.isEmpty {
            AdamW.update(parameters: slice(parameters.values, range), gradients: slice(parameters.gradients, range),
                         firstMoments: slice(firstMoments, range), secondMoments: slice(secondMoments, range),
                         step: stepsTaken, hyperparameters: hp)
        }
        return Update(learningRate: rate, gradientNorm: norm)
    }

    /// The first and second moments of parameter `p` of this set, as views of the flat buffers.
    public func moments(of p: Parameter<T>) -> (first: Tensor<T>, second: Tensor<T>) {
        let offset = p.value.offset - parameters.values.offset
        return (Tensor(storage: firstMoments.storage, offset: firstMoments.offset + offset, shape: p.value.shape),
                Tensor(storage: secondMoments.storage, offset: secondMoments.offset + offset, shape: p.value.shape))
    }

    private func slice(_ t: Tensor<T>, _ range: Range<Int>) -> Tensor<T> {
        Tensor(storage: t.storage, offset: t.offset + range.lowerBound, shape: [range.count])
    }
}
