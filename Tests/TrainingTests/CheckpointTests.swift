import Collectives
import Datasets
import Foundation
import HDF5Files
import Testing
import TensorCore
import TensorParallel
import Training

@Suite struct CheckpointTests {
    /// Written at tp = 2 × dp = 2, loaded at tp = 1 and tp = 4: the same full parameters and
    /// moments bit for bit, the same step, and the same validation loss.
    @Test func aCheckpointWrittenAtTwoRanksLoadsAtOneAndFour() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let plan = CheckpointPlan(directory: directory, interval: 0, model: Fixtures.modelInfo)
        let written = try InProcessWorld.run(worldSize: 4, timeout: 60) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 2)
            let trainer = Fixtures.trainer(grid: grid, microBatches: 1)
            var source = Fixtures.source(grid)
            try trainer.train(until: 2, data: &source, checkpoints: plan)
            return try Fixtures.fullState(trainer)
        }[0]

        func load(tp: Int) throws -> [([String: [UInt32]], Int, Double)] {
            try InProcessWorld.run(worldSize: tp, timeout: 60) { world in
                let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: 1)
                let trainer = Fixtures.trainer(grid: grid, seed: 999)
                let contents = try trainer.restore(from: try directory.latest(), expectedPaddedVocabSize: TinyLanguageModel.vocab)
                var source = TinySource(microBatch: 4, dpRank: 0, dpSize: 1)
                let validation = try trainer.model.loss(source.next(), context: StepContext(
                    step: 0, batch: 4, sequence: 8, dropoutSeed: 0, training: false))
                #expect(contents.state.step == 2 && trainer.step == 2)
                #expect(contents.state.dataPosition == LoaderPosition(epoch: 0, batch: 2))
                return (try Fixtures.fullState(trainer), trainer.lossCurve.count, validation.total)
            }
        }
        let one = try load(tp: 1), four = try load(tp: 4)
        #expect(written["layers.1.attention.query_key_value.weight.v"]?.count == 48 * 16)
        for (state, curve, _) in one + four {
            let differing = written.keys.filter { state[$0] != written[$0] }.sorted()
            #expect(state.count == written.count && differing.isEmpty, "tensors that differ: \(differing)")
            #expect(curve == 2)
        }
        let (a, b) = (one[0].2, four[0].2)
        #expect(abs(a - b) / abs(a) < 1e-6)
        #expect(try directory.checkpoints().map(\.step) == [2])
    }

    @Test func mismatchedShapesNameTheTensorAndBothShapes() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let plan = CheckpointPlan(directory: directory, interval: 0, model: Fixtures.modelInfo)
        let errors = try InProcessWorld.run(worldSize: 1) { world -> CheckpointError? in
            let grid = try ProcessGrid(world: world, tensorParallel: 1, dataParallel: 1)
            let trainer = Fixtures.trainer(grid: grid)
            try trainer.saveCheckpoint(plan, dataPosition: .start)
            let narrow = TinyLanguageModel(seed: 1, group: TensorParallelGroup(world), hidden: 8)
            let optimizer = Optimizer(parameters: narrow.parameters, schedule: LearningRateSchedule(maxRate: 1, decaySteps: 1),
                                      hyperparameters: AdamWHyperparameters(learningRate: 1), maxGradientNorm: nil)
            do {
                _ = try Checkpoint.read(from: try directory.latest(), into: optimizer, group: narrow.tensorParallel)
                return nil
            } catch let error as CheckpointError {
                return error
            }
        }
        guard case let .tensorMismatch(file, mismatches)? = errors[0] else {
            Issue.record("expected a tensor mismatch, got \(String(describing: errors[0]))")
            return
        }
        #expect(file.hasSuffix("checkpoint-00000000.h5"))
        let qkv = mismatches.first { $0.name == "/model/layers.0.attention.query_key_value.weight" }
        #expect(qkv?.checkpointShape == [48, 16] && qkv?.modelShape == [24, 8])
        #expect(mismatches.contains { $0.name.hasPrefix("/optimizer/second_moment/") })
        #expect("\(errors[0]!)".contains("checkpoint shape [48, 16], model shape [24, 8]"))
    }

    @Test func foreignFilesAndUnfinishedWritesAreNotCheckpoints() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory(), keep: 1)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        try directory.create()
        let foreign = directory.file(forStep: 7)
        let file = try HDF5File(creating: foreign)
        try file.root.createDataset("x", [Float(1)])
        try file.commit()
        // A write that never committed leaves only its hidden temporary name.
        _ = FileManager.default.createFile(atPath: directory.path + "/.checkpoint-00000009.h5.partial-1", contents: Data([1, 2]))
        #expect(try directory.latest() == foreign)
        let error = try InProcessWorld.run(worldSize: 1) { world -> CheckpointError? in
            let grid = try ProcessGrid(world: world, tensorParallel: 1, dataParallel: 1)
            do {
                _ = try Fixtures.trainer(grid: grid).restore(from: foreign)
                return nil
            } catch let error as CheckpointError {
                return error
            }
        }[0]
        guard case .notACheckpoint(let path, _)? = error else {
            Issue.record("expected notACheckpoint, got \(String(describing: error))")
            return
        }
        #expect(path == foreign)
    }

    /// A write killed mid-way leaves `.checkpoint-N.h5.partial-PID`: pruning removes it once its
    /// process is gone, and leaves a write still going on in a live process alone.
    @Test func pruningRemovesTheTemporaryFilesOfWritesKilledMidWay() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory(), keep: 1)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        try directory.create()
        // Above Linux's largest PID (2^22), so no process has it.
        let killed = directory.path + "/.checkpoint-00000004.h5.partial-99999999"
        let live = directory.path + "/.checkpoint-00000006.h5.partial-\(getpid())"
        let unrelated = directory.path + "/.notes.partial-99999999"
        for file in [killed, live, unrelated] { _ = FileManager.default.createFile(atPath: file, contents: Data([1])) }
        #expect(try directory.stalePartials() == [killed])
        try directory.prune()
        #expect(!FileManager.default.fileExists(atPath: killed))
        #expect(FileManager.default.fileExists(atPath: live) && FileManager.default.fileExists(atPath: unrelated))
    }
}
