import Collectives
import Datasets
import Foundation
import Models
import TensorCore
import Testing
import TensorParallel
import Training

/// Checkpoints of pipelined runs hold the full logical tensors: one written at tp 2 × pp 2
/// loads into the serial model and at other stage splits, and resuming from it continues bit
/// for bit. GPT and BERT.
@Suite struct PipelineCheckpointTests {
    static let config = GPTConfig(layers: 4, hidden: 16, heads: 4, maxPositions: 8, vocabSize: 29, paddedVocabSize: 32)
    static let bertConfig = BERTConfig(layers: 4, hidden: 16, heads: 4, maxPositions: 8, vocabSize: 29, paddedVocabSize: 32)

    static func trainer<M: TrainableModel>(_ model: M, grid: ProcessGrid) -> Trainer<M> where M.Scalar == Float {
        let optimizer = Optimizer(parameters: model.parameters,
                                  schedule: LearningRateSchedule(maxRate: 1e-2, minRate: 1e-3, warmupSteps: 2, decaySteps: 6),
                                  hyperparameters: AdamWHyperparameters(learningRate: 1e-2), maxGradientNorm: 1)
        return Trainer(model: model, optimizer: optimizer, grid: grid,
                       options: TrainerOptions(microBatchSize: 1, microBatches: 2, sequenceLength: 8,
                                               dropoutSeed: 77, logInterval: 2, totalSteps: 6))
    }

    static func stage(_ grid: ProcessGrid) -> PipelineStage {
        PipelineStage(index: grid.pipelineParallelRank, count: grid.pipeline.size)
    }

    static func gpt(_ grid: ProcessGrid, seed: UInt64) -> GPTStageModel<Float> {
        GPTStageModel(config: config, stage: stage(grid), seed: seed, group: TensorParallelGroup(grid.tensorParallel),
                      pipeline: grid.pipeline)
    }

    static func bert(_ grid: ProcessGrid, seed: UInt64) -> BERTStageModel<Float> {
        BERTStageModel(config: bertConfig, stage: stage(grid), seed: seed, group: TensorParallelGroup(grid.tensorParallel),
                       pipeline: grid.pipeline)
    }

    static func source(_ grid: ProcessGrid, position: LoaderPosition = .start) -> MappedMicroBatchSource<TinySource, GPTInput> {
        TinySource(microBatch: 1, dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size, position: position)
            .map { GPTInput(tokens: $0.tokens, labels: $0.labels) }
    }

    /// The tiny sequences as BERT's: two segments, the last position of sequences that start on
    /// an even token padding, every fourth position scored, sentence order from the first token.
    static func bertSource(_ grid: ProcessGrid, position: LoaderPosition = .start)
        -> MappedMicroBatchSource<TinySource, BERTInput> {
        TinySource(microBatch: 1, dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size, position: position)
            .map { batch in
                let s = 8, n = batch.tokens.count
                return BERTInput(tokens: batch.tokens, tokenTypes: (0..<n).map { Int32($0 % s < s / 2 ? 0 : 1) },
                                 paddingMask: (0..<n).map { $0 % s == s - 1 && batch.tokens[$0 - $0 % s] % 2 == 0 ? 0 : 1 },
                                 maskedLabels: batch.labels, maskedLossMask: (0..<n).map { $0 % 4 == 1 ? 1 : 0 },
                                 binaryLabels: stride(from: 0, to: n, by: s).map { batch.tokens[$0] % 2 })
            }
    }

    /// This rank's parameters as full tensors, by name; collective over the TP group.
    static func gathered<M: TrainableModel>(_ model: M) throws -> [String: [UInt32]] where M.Scalar == Float {
        var values: [String: [UInt32]] = [:]
        for p in model.parameters.parameters {
            values[p.name] = try ParameterSet.gathered(p.value, of: p, group: model.tensorParallel).array.map(\.bitPattern)
        }
        return values
    }

    /// Trains 6 steps at tp 2 × pp 2 straight through, and again with a checkpoint at step 3
    /// that a third trainer (another seed) resumes from; the two must agree bit for bit. Returns
    /// the checkpoint, the parameters it was written from (full tensors by name) and the curve.
    static func writeAndResume<M: PipelineStageModel & SendableMetatype, S: MicroBatchSource & SendableMetatype>(
        in directory: CheckpointDirectory,
        model: @escaping @Sendable (ProcessGrid, UInt64) -> M,
        source: @escaping @Sendable (ProcessGrid, LoaderPosition) -> S
    ) throws -> (path: String, parameters: [String: [UInt32]], losses: [Double]) where M.Scalar == Float, S.Batch == M.Batch {
        let plan = CheckpointPlan(directory: directory, interval: 3, model: Fixtures.modelInfo)
        let written = try InProcessWorld.run(worldSize: 4, timeout: 120) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 1, pipelineParallel: 2)
            let straight = Self.trainer(model(grid, 5), grid: grid)
            var straightSource = source(grid, .start)
            let expected = try straight.train(until: 6, data: &straightSource).map(\.loss)

            let first = Self.trainer(model(grid, 5), grid: grid)
            var firstSource = source(grid, .start)
            let before = try first.train(until: 3, data: &firstSource, checkpoints: plan).map(\.loss)
            let atCheckpoint = try Self.gathered(first.model)

            let resumed = Self.trainer(model(grid, 999), grid: grid)
            let contents = try resumed.restore(from: try directory.latest())
            var resumedSource = source(grid, contents.state.dataPosition)
            let after = try resumed.train(until: 6, data: &resumedSource).map(\.loss)
            return (expected, before + after, atCheckpoint)
        }
        var full: [String: [UInt32]] = [:]
        for (expected, interrupted, stage) in written {
            #expect(interrupted.map(\.bitPattern) == expected.map(\.bitPattern))
            full.merge(stage) { first, _ in first }
        }
        return (try directory.latest(), full, written[0].0)
    }

    /// The serial model's parameters after reading `path`: every tensor of the file is one of
    /// its parameters and back.
    static func loadedSerially(_ path: String, parameters: @escaping @Sendable (TensorParallelGroup) -> ParameterSet<Float>)
        throws -> [String: [UInt32]] {
        try InProcessWorld.run(worldSize: 1) { world in
            let group = TensorParallelGroup(world)
            let set = parameters(group)
            let optimizer = Optimizer(parameters: set, schedule: LearningRateSchedule(maxRate: 1e-2, warmupSteps: 0, decaySteps: 6),
                                      hyperparameters: AdamWHyperparameters(learningRate: 1e-2), maxGradientNorm: 1)
            _ = try Checkpoint.read(from: path, into: optimizer, group: group)
            var values: [String: [UInt32]] = [:]
            for p in set.parameters { values[p.name] = p.value.array.map(\.bitPattern) }
            return values
        }[0]
    }

    /// Each stage of a tp × pp layout restored from `path`: its shards of its own tensors.
    static func loadedByStages<M: PipelineStageModel & SendableMetatype>(_ path: String, tp: Int, pp: Int,
                                                                          model: @escaping @Sendable (ProcessGrid, UInt64) -> M) throws
        -> [[String: [UInt32]]] where M.Scalar == Float {
        try InProcessWorld.run(worldSize: tp * pp, timeout: 120) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: 1, pipelineParallel: pp)
            let trainer = Self.trainer(model(grid, 31), grid: grid)
            _ = try trainer.restore(from: path)
            return try Self.gathered(trainer.model)
        }
    }

    @Test func aTP2PP2CheckpointResumesBitExactAndLoadsAtOtherLayouts() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory(), keep: 1)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let (path, full, losses) = try Self.writeAndResume(in: directory, model: Self.gpt, source: Self.source)
        #expect(losses.last! < losses.first!)
        #expect(try Self.loadedSerially(path) { GPTModel<Float>(config: Self.config, seed: 1, group: $0).parameters } == full)

        let wide = try Self.loadedByStages(path, tp: 4, pp: 2, model: Self.gpt)
        for stage in wide {
            for (name, bits) in stage { #expect(full[name] == bits, "\(name)") }
        }
        #expect(Set(wide.flatMap(\.keys)) == Set(full.keys))
    }

    /// BERT's stages write the serial BERT's tensors (the last stage's pooler and heads beside
    /// the first stage's embeddings) and read them back at another split of the layers.
    @Test func aBERTCheckpointAtPP2ResumesBitExactAndLoadsAtPP1AndPP4() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory(), keep: 1)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let (path, full, losses) = try Self.writeAndResume(in: directory, model: Self.bert, source: Self.bertSource)
        #expect(losses.count == 6 && losses.allSatisfy(\.isFinite))
        let serial = try Self.loadedSerially(path) { BERTModel<Float>(config: Self.bertConfig, seed: 1, group: $0).parameters }
        #expect(serial == full)
        #expect(full["binary_head.weight"] != nil && full["pooler.dense.weight"] != nil && full["lm_head.bias"] != nil)

        let deep = try Self.loadedByStages(path, tp: 1, pp: 4, model: Self.bert)
        for stage in deep {
            for (name, bits) in stage { #expect(full[name] == bits, "\(name)") }
        }
        #expect(Set(deep.flatMap(\.keys)) == Set(full.keys))
    }
}
