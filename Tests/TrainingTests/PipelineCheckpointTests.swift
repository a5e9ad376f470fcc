import Collectives
import Datasets
import Foundation
import Models
import TensorCore
import Testing
import TensorParallel
import Training

/// Checkpoints of pipelined runs hold the full logical tensors: one written at tp 2 × pp 2
/// loads into the serial model and at tp 4 × pp 2, and resuming from it continues bit for bit.
@Suite struct PipelineCheckpointTests {
    static let config = GPTConfig(layers: 4, hidden: 16, heads: 4, maxPositions: 8, vocabSize: 29, paddedVocabSize: 32)

    static func trainer(grid: ProcessGrid, pp: Int, seed: UInt64 = 5) -> Trainer<GPTStageModel<Float>> {
        let stage = PipelineStage(index: grid.pipelineParallelRank, count: pp)
        let model = GPTStageModel<Float>(config: config, stage: stage, seed: seed,
                                         group: TensorParallelGroup(grid.tensorParallel), pipeline: grid.pipeline)
        let optimizer = Optimizer(parameters: model.parameters,
                                  schedule: LearningRateSchedule(maxRate: 1e-2, minRate: 1e-3, warmupSteps: 2, decaySteps: 6),
                                  hyperparameters: AdamWHyperparameters(learningRate: 1e-2), maxGradientNorm: 1)
        return Trainer(model: model, optimizer: optimizer, grid: grid,
                       options: TrainerOptions(microBatchSize: 1, microBatches: 2, sequenceLength: 8,
                                               dropoutSeed: 77, logInterval: 2, totalSteps: 6))
    }

    static func source(_ grid: ProcessGrid, position: LoaderPosition = .start) -> MappedMicroBatchSource<TinySource, GPTInput> {
        TinySource(microBatch: 1, dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size, position: position)
            .map { GPTInput(tokens: $0.tokens, labels: $0.labels) }
    }

    /// This rank's parameters as full tensors, by name; collective over the TP group.
    static func gathered<M: TrainableModel>(_ model: M) throws -> [String: [UInt32]] where M.Scalar == Float {
        var values: [String: [UInt32]] = [:]
        for p in model.parameters.parameters {
            values[p.name] = try ParameterSet.gathered(p.value, of: p, group: model.tensorParallel).array.map(\.bitPattern)
        }
        return values
    }

    @Test func aTP2PP2CheckpointResumesBitExactAndLoadsAtOtherLayouts() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory(), keep: 1)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let plan = CheckpointPlan(directory: directory, interval: 3, model: Fixtures.modelInfo)
        let written = try InProcessWorld.run(worldSize: 4, timeout: 120) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 1, pipelineParallel: 2)
            let straight = Self.trainer(grid: grid, pp: 2)
            var straightSource = Self.source(grid)
            let expected = try straight.train(until: 6, data: &straightSource).map(\.loss)

            let first = Self.trainer(grid: grid, pp: 2)
            var firstSource = Self.source(grid)
            let before = try first.train(until: 3, data: &firstSource, checkpoints: plan).map(\.loss)
            let atCheckpoint = try Self.gathered(first.model)

            let resumed = Self.trainer(grid: grid, pp: 2, seed: 999)
            let contents = try resumed.restore(from: try directory.latest())
            var resumedSource = Self.source(grid, position: contents.state.dataPosition)
            let after = try resumed.train(until: 6, data: &resumedSource).map(\.loss)
            return (expected, before + after, atCheckpoint)
        }
        var full: [String: [UInt32]] = [:]
        for (expected, interrupted, stage) in written {
            #expect(interrupted.map(\.bitPattern) == expected.map(\.bitPattern))
            #expect(expected.last! < expected.first!)
            full.merge(stage) { first, _ in first }
        }
        let path = try directory.latest()

        // The serial model: every tensor of the file is one of its parameters and back.
        let serial = try InProcessWorld.run(worldSize: 1) { world in
            let group = TensorParallelGroup(world)
            let model = GPTModel<Float>(config: Self.config, seed: 1, group: group)
            let optimizer = Optimizer(parameters: model.parameters, schedule: LearningRateSchedule(maxRate: 1e-2, warmupSteps: 0, decaySteps: 6),
                                      hyperparameters: AdamWHyperparameters(learningRate: 1e-2), maxGradientNorm: 1)
            _ = try Checkpoint.read(from: path, into: optimizer, group: group)
            return try Self.gathered(model)
        }[0]
        #expect(serial == full)

        // tp 4 × pp 2: each stage takes its shards of its own tensors.
        let wide = try InProcessWorld.run(worldSize: 8, timeout: 120) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 4, dataParallel: 1, pipelineParallel: 2)
            let trainer = Self.trainer(grid: grid, pp: 2, seed: 31)
            _ = try trainer.restore(from: path)
            return try Self.gathered(trainer.model)
        }
        for stage in wide {
            for (name, bits) in stage { #expect(full[name] == bits, "\(name)") }
        }
        #expect(Set(wide.flatMap(\.keys)) == Set(full.keys))
    }
}
