import Collectives
import Datasets
import Foundation
import HDF5Files
import Models
import TensorCore
import TensorParallel

/// The shape of each optimizer step and how it is reported.
public struct TrainerOptions: Sendable, Equatable {
    /// Sequences per micro-batch on one data-parallel rank.
    public var microBatchSize: Int
    /// Micro-batches per step on each rank (gradient accumulation).
    public var microBatches: Int
    public var sequenceLength: Int
    public var dropoutSeed: UInt64
    /// Steps between log lines.
    public var logInterval: Int
    /// The run's last step, for the ETA.
    public var totalSteps: Int
    /// The GEMM rate of the hardware the whole world runs on, in GFLOP/s (`megatron bench gemm`):
    /// the log gives model FLOP/s as a percentage of it. nil leaves the percentage out.
    public var peakGFLOPs: Double?

    public init(microBatchSize: Int, microBatches: Int, sequenceLength: Int, dropoutSeed: UInt64,
                logInterval: Int = 10, totalSteps: Int, peakGFLOPs: Double? = nil) {
        precondition(microBatchSize > 0 && microBatches > 0 && sequenceLength > 0 && logInterval > 0,
                     "TrainerOptions: sizes validated by the caller")
        self.microBatchSize = microBatchSize
        self.microBatches = microBatches
        self.sequenceLength = sequenceLength
        self.dropoutSeed = dropoutSeed
        self.logInterval = logInterval
        self.totalSteps = totalSteps
        self.peakGFLOPs = peakGFLOPs
    }
}

/// One optimizer step as the log and the records see it.
public struct StepRecord: Sendable, Equatable {
    /// The step number, counting from 1.
    public var step: Int
    /// The mean micro-batch loss over every micro-batch of every data-parallel rank.
    public var loss: Double
    public var parts: [String: Double]
    public var learningRate: Double
    public var gradientNorm: Double
    public var seconds: Double
}

/// Checkpoints during `train`: every `interval` steps and after the last one.
public struct CheckpointPlan: Sendable {
    public var directory: CheckpointDirectory
    /// 0 saves only after the last step.
    public var interval: Int
    public var model: CheckpointModelInfo

    public init(directory: CheckpointDirectory, interval: Int, model: CheckpointModelInfo) {
        self.directory = directory
        self.interval = interval
        self.model = model
    }
}

/// Megatron's training loop (`training.py: train_step`) over any `TrainableModel`: forward and
/// backward of each micro-batch with the loss scaled by 1/micro-batches (so the gradients add up
/// to the step's mean), one data-parallel average of the flat gradient buffer, clipping on the
/// global norm, an AdamW update, zeroed gradients.
///
/// Dropout masks: micro-batch m of data-parallel rank r holds sequences (m·dp + r)·b ..< +b of the
/// step's global batch — the order the loaders hand them out — and passes that index as
/// `batchOffset` with the step number as `step`. A sequence's masks then depend on its place in
/// the global batch only, so every tp × dp layout and micro-batch split of one global batch draws
/// the same masks, and the micro-batches of a step draw different ones.
public final class Trainer<Model: TrainableModel> where Model.Scalar: HDF5Scalar {
    public let model: Model
    public let optimizer: Optimizer<Model.Scalar>
    public let grid: ProcessGrid
    public let options: TrainerOptions
    /// Step → mean loss since the start of the run (restored on resume).
    public private(set) var lossCurve: [LossPoint] = []

    /// What this stage measured in the last pipelined step (nil at pp = 1).
    public private(set) var lastPipelineStats: PipelineStepStats?

    /// A pipeline stage's `PipelineReceiveBuffers` of the model's scalar, made at the first step.
    private var receiveBuffers: AnyObject?
    private var runStart: ContinuousClock.Instant?
    private var stepsThisRun = 0
    private var window: (steps: Int, loss: Double, seconds: Double) = (0, 0, 0)

    public init(model: Model, optimizer: Optimizer<Model.Scalar>, grid: ProcessGrid, options: TrainerOptions) {
        precondition(optimizer.parameters === model.parameters, "Trainer: the optimizer must own the model's parameters")
        self.model = model
        self.optimizer = optimizer
        self.grid = grid
        self.options = options
    }

    /// Optimizer steps taken so far.
    public var step: Int { optimizer.stepsTaken }

    /// Sequences per step over every data-parallel rank.
    public var globalBatch: Int { options.microBatchSize * options.microBatches * grid.dataParallel.size }

    /// The context of micro-batch `micro` of the coming step on this rank.
    public func context(micro: Int) -> StepContext {
        let b = options.microBatchSize
        return StepContext(step: step, batch: b, sequence: options.sequenceLength,
                           batchOffset: (micro * grid.dataParallel.size + grid.dataParallelRank) * b,
                           dropoutSeed: options.dropoutSeed, training: true)
    }

    /// One optimizer step over `microBatches` batches drawn from `nextMicroBatch`. Collective
    /// over the world; every rank returns the same record.
    public func step(_ nextMicroBatch: () throws -> Model.Batch) throws -> StepRecord {
        let start = ContinuousClock.now
        let scale = 1 / Double(options.microBatches)
        var total = 0.0
        var parts: [String: Double] = [:]
        let pipelined = try pipelineStep(nextMicroBatch, lossScale: scale)
        for report in pipelined?.losses ?? [] {
            total += report.total
            parts.merge(report.parts, uniquingKeysWith: +)
        }
        for micro in 0..<(pipelined == nil ? options.microBatches : 0) {
            let report = try model.forwardBackward(try nextMicroBatch(), context: context(micro: micro), lossScale: scale)
            total += report.total
            parts.merge(report.parts, uniquingKeysWith: +)
        }
        let keys = pipelined?.parts ?? parts.keys.sorted()
        let sums = Tensor<Double>(shape: [1 + keys.count], values: [total] + keys.map { parts[$0] ?? 0 })
        // Only the last stage has losses; the others add zeros.
        if grid.pipeline.size > 1 { try grid.pipeline.allReduce(sums) }
        try grid.dataParallel.allReduce(sums)
        let count = Double(options.microBatches * grid.dataParallel.size)

        try model.parameters.reduceSequenceParallelGradients(over: model.tensorParallel)
        try model.parameters.averageGradients(over: grid.dataParallel)
        var countedElsewhere: Set<String> = []
        if let stage = model as? any PipelineStageModel {
            countedElsewhere = stage.parametersCountedElsewhere
            try stage.allReduceTiedEmbeddingGradient(over: grid.embedding)
        }
        let update = try optimizer.step(group: model.tensorParallel, pipeline: grid.pipeline,
                                        countedElsewhere: countedElsewhere)
        model.parameters.zeroGradients()

        let loss = sums.pointer[0] / count
        var meanParts: [String: Double] = [:]
        for (i, key) in keys.enumerated() { meanParts[key] = sums.pointer[1 + i] / count }
        let record = StepRecord(step: step, loss: loss, parts: meanParts, learningRate: update.learningRate,
                                gradientNorm: update.gradientNorm, seconds: seconds(since: start))
        lossCurve.append(LossPoint(step: record.step, loss: loss))
        return record
    }

    /// The 1F1B step when the model is a stage of a pipeline of more than one: the step's
    /// micro-batches (read up front, every stage the same) through `OneFOneBSchedule`. Returns
    /// the last stage's micro-batch losses and the loss parts every stage sums; nil at pp = 1.
    private func pipelineStep(_ nextMicroBatch: () throws -> Model.Batch, lossScale: Double) throws
        -> (losses: [LossReport], parts: [String])? {
        guard let stage = model as? any PipelineStageModel, stage.stage.count > 1 else { return nil }
        let batches = try (0..<options.microBatches).map { _ in try nextMicroBatch() }
        let contexts = (0..<options.microBatches).map(context(micro:))
        let (losses, stats) = try runSchedule(stage, batches: batches, contexts: contexts, lossScale: lossScale)
        lastPipelineStats = stats
        return (losses, stage.lossParts)
    }

    private func runSchedule<M: PipelineStageModel>(
        _ model: M, batches: [Model.Batch], contexts: [StepContext], lossScale: Double
    ) throws -> (losses: [LossReport], stats: PipelineStepStats) {
        // M is Model, opened from the existential, so the batches are M's.
        guard let batches = batches as? [M.Batch] else {
            preconditionFailure("Trainer: the pipeline stage's batches are the model's")
        }
        let buffers = receiveBuffers as? PipelineReceiveBuffers<M.Scalar> ?? PipelineReceiveBuffers()
        receiveBuffers = buffers
        return try OneFOneBSchedule(stage: model.stage, microBatches: options.microBatches)
            .run(model, batches: batches, contexts: contexts, lossScale: lossScale, pipeline: grid.pipeline, receiving: buffers)
    }

    /// Trains until `lastStep` steps are done, reading micro-batches from `data`, logging every
    /// `logInterval` steps (world rank 0 calls `log`) and saving checkpoints by `checkpoints`.
    /// Returns the records of the steps it ran.
    @discardableResult
    public func train<Source: MicroBatchSource>(
        until lastStep: Int, data: inout Source, checkpoints: CheckpointPlan? = nil, log: (String) -> Void = { _ in }
    ) throws -> [StepRecord] where Source.Batch == Model.Batch {
        var records: [StepRecord] = []
        if runStart == nil { runStart = .now }
        while step < lastStep {
            let record = try self.step { try data.next() }
            records.append(record)
            account(record)
            if record.step % options.logInterval == 0 || record.step == lastStep {
                let line = logLine(record)
                if grid.worldRank == 0 { log(line) }
            }
            if let plan = checkpoints,
               (plan.interval > 0 && record.step % plan.interval == 0) || record.step == lastStep {
                try saveCheckpoint(plan, dataPosition: data.position)
            }
        }
        return records
    }

    /// Writes the current state to `plan.directory` (collective over the world) and prunes old
    /// checkpoints. `dataPosition` is where the next step's micro-batches start.
    public func saveCheckpoint(_ plan: CheckpointPlan, dataPosition: LoaderPosition) throws {
        let state = TrainingState(step: step, dataPosition: dataPosition, dropoutSeed: options.dropoutSeed,
                                  lossCurve: lossCurve)
        if grid.worldRank == 0 { try plan.directory.create() }
        try Checkpoint.write(to: plan.directory.file(forStep: step), optimizer: optimizer, grid: grid,
                             model: plan.model, state: state,
                             pipelineCopies: (model as? any PipelineStageModel)?.parametersCountedElsewhere ?? [],
                             afterCommit: { try plan.directory.prune() })
    }

    /// Loads the checkpoint at `path` (every rank its own shards) and returns where the data
    /// continues. The checkpoint's dropout seed must be this run's.
    public func restore(from path: String, expectedPaddedVocabSize: Int? = nil) throws -> Checkpoint.Contents {
        let contents = try Checkpoint.read(from: path, into: optimizer, group: model.tensorParallel,
                                           expectedPaddedVocabSize: expectedPaddedVocabSize,
                                           oneStageOfMany: grid.pipeline.size > 1)
        guard contents.state.dropoutSeed == options.dropoutSeed else {
            throw CheckpointError.settingMismatch(file: path, setting: "the seed (training.seed)",
                                                  checkpoint: "\(contents.state.dropoutSeed)", run: "\(options.dropoutSeed)")
        }
        lossCurve = contents.state.lossCurve
        return contents
    }

    private func account(_ record: StepRecord) {
        stepsThisRun += 1
        window.steps += 1
        window.loss += record.loss
        window.seconds += record.seconds
    }

    /// The log line for `record`; its rates and mean loss cover the steps since the last line.
    /// Model FLOP/s = trainingFLOPs(sequenceLength:) × sequences per step × steps / seconds: the model's
    /// own count of the work (no recomputation counted), over every rank of the world.
    func logLine(_ record: StepRecord) -> String {
        defer { window = (0, 0, 0) }
        let steps = Double(window.steps), seconds = max(window.seconds, 1e-12)
        let sequences = Double(globalBatch) * steps
        let tokensPerSecond = sequences * Double(options.sequenceLength) / seconds
        let flops = model.trainingFLOPs(sequenceLength: options.sequenceLength) * sequences / seconds
        var fields = [
            "step \(record.step)/\(options.totalSteps)",
            "loss \(String(format: "%.6f", window.loss / steps))",
            "lr \(String(format: "%.3e", record.learningRate))",
            "grad norm \(String(format: "%.4f", record.gradientNorm))",
            "\(String(format: "%.0f", tokensPerSecond)) tokens/s",
            "\(String(format: "%.4f", flops / 1e12)) model TFLOP/s",
        ]
        if let peak = options.peakGFLOPs, peak > 0 {
            fields.append("\(String(format: "%.1f", 100 * flops / 1e9 / peak))% of GEMM peak")
        }
        let elapsed = runStart.map(seconds(since:)) ?? 0
        let remaining = Double(max(options.totalSteps - record.step, 0)) * elapsed / Double(max(stepsThisRun, 1))
        fields.append("elapsed \(Self.clock(elapsed))")
        fields.append("ETA \(Self.clock(remaining))")
        return fields.joined(separator: " | ")
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
