import Collectives
import Models
import TensorCore
import TensorParallel

/// The 1F1B schedule of one optimizer step on one pipeline stage (Narayanan et al. 2021, §2.2,
/// Figure 4 top; Megatron's `forward_backward_pipelining_without_interleaving`): stage r of p
/// runs p − r − 1 warm-up forwards, then alternates one forward and one backward until every
/// forward is done, then the remaining backwards (cool-down). Backwards run in micro-batch
/// order, so every parameter's gradient adds up in the order of the serial loop.
///
///     stage 0 of 2, m = 4:   F0 F1 B0 F2 B1 F3 B2 B3
///     stage 1 of 2, m = 4:   F0 B0 F1 B1 F2 B2 F3 B3
public struct OneFOneBSchedule: Sendable, Equatable {
    public enum Work: Sendable, Equatable {
        case forward(Int)
        case backward(Int)
    }

    public let stage: PipelineStage
    public let microBatches: Int

    public init(stage: PipelineStage, microBatches: Int) {
        self.stage = stage
        self.microBatches = microBatches
    }

    /// Forwards before the first backward, besides the steady state's first forward.
    public var warmup: Int { min(stage.count - stage.index - 1, microBatches) }

    /// This stage's work, in order.
    public var order: [Work] {
        let steady = microBatches - warmup
        var work = (0..<warmup).map(Work.forward)
        for i in 0..<steady {
            work.append(.forward(warmup + i))
            work.append(.backward(i))
        }
        work += (steady..<microBatches).map(Work.backward)
        return work
    }

    /// Boundary tensors this stage sends per step: an activation per forward unless last, a
    /// gradient per backward unless first. Over a pipeline: 2·(p − 1)·m.
    public var sends: Int {
        (stage.isLast ? 0 : microBatches) + (stage.isFirst ? 0 : microBatches)
    }
}

/// The tensors a stage receives its neighbours' activations and gradients into, kept from step
/// to step: the boundary [b·s, h] has the same shape every step, so after the first step the
/// schedule allocates none.
public final class PipelineReceiveBuffers<T: TensorScalar> {
    private var activations: [Reusable<T>] = []
    private var gradientSlot = Reusable<T>()

    public init() {}

    /// `slots` activation tensors of `shape`: slot k holds micro-batch m's input while m % slots == k.
    func activationSlots(_ slots: Int, shape: [Int]) -> [Tensor<T>] {
        if activations.count != slots { activations = Array(repeating: Reusable(), count: slots) }
        return activations.indices.map { activations[$0](shape) }
    }

    func gradient(shape: [Int]) -> Tensor<T> { gradientSlot(shape) }
}

/// What one stage measured over a pipelined step.
public struct PipelineStepStats: Sendable, Equatable {
    /// The most micro-batches whose activations were alive at once (forward done, backward not).
    public var peakLiveActivationSets = 0
    /// Seconds the stage computed (forwards and backwards, sends included).
    public var busySeconds: Double { workSeconds.reduce(0, +) }
    /// Seconds from the stage's first work to its last, waits for its neighbours included.
    public var stepSeconds = 0.0
    /// Seconds each work of the schedule's order computed, in that order.
    public var workSeconds: [Double] = []
}

extension OneFOneBSchedule {
    /// Runs this step's micro-batches `batches` (every stage reads the same ones: the first
    /// needs the tokens, the last the labels) through `model`, sending activations to the
    /// next stage and gradients to the previous one over `pipeline`. Returns the loss of each
    /// micro-batch on the last stage (empty elsewhere) and what the stage measured.
    func run<M: PipelineStageModel>(
        _ model: M, batches: [M.Batch], contexts: [StepContext], lossScale: Double, pipeline: any Communicator,
        receiving buffers: PipelineReceiveBuffers<M.Scalar> = PipelineReceiveBuffers()
    ) throws -> (losses: [LossReport], stats: PipelineStepStats) {
        precondition(batches.count == microBatches && contexts.count == microBatches,
                     "OneFOneBSchedule: \(batches.count) batches for \(microBatches) micro-batches")
        let slots = stage.activationSets
        var losses: [LossReport] = []
        var stats = PipelineStepStats()
        var live = 0
        let start = StepProfiler.now()
        stats.workSeconds.reserveCapacity(order.count)
        func timed<R>(_ body: () throws -> R) rethrows -> R {
            let t0 = StepProfiler.now()
            defer { stats.workSeconds.append(Double(StepProfiler.now() - t0) * 1e-9) }
            return try body()
        }
        // A received activation lives in its slot until the micro-batch's backward; a received
        // gradient only through the backward it feeds.
        let shape = model.boundaryShape(context: contexts[0])
        let activations = stage.isFirst ? [] : buffers.activationSlots(slots, shape: shape)
        let gradient = stage.isLast ? nil : buffers.gradient(shape: shape)
        for work in order {
            switch work {
            case .forward(let m):
                let received = stage.isFirst ? nil : activations[m % slots]
                if let received { try pipeline.recv(received, from: stage.index - 1) }
                try timed {
                    switch try model.forwardStage(batches[m], received: received, slot: m % slots, context: contexts[m]) {
                    case .activation(let h): try pipeline.send(h, to: stage.index + 1)
                    case .loss(let report): losses.append(report)
                    }
                }
                live += 1
                stats.peakLiveActivationSets = max(stats.peakLiveActivationSets, live)
            case .backward(let m):
                let received = gradient
                if let received { try pipeline.recv(received, from: stage.index + 1) }
                try timed {
                    if let dx = try model.backwardStage(outputGradient: received, slot: m % slots, lossScale: lossScale) {
                        try pipeline.send(dx, to: stage.index - 1)
                    }
                }
                live -= 1
            }
        }
        stats.stepSeconds = Double(StepProfiler.now() - start) * 1e-9
        return (losses, stats)
    }
}
