import Collectives
import Foundation
import Testing
import TensorParallel
import Training

@Suite struct ResumeTests {
    /// Train 3 steps, checkpoint, continue 3 in a fresh trainer built from another seed: the same
    /// losses, bit for bit, as 6 steps straight (tp 2 × dp 2, two micro-batches, dropout on).
    @Test func resumedRunMatchesAnUninterruptedOne() throws {
        let directory = CheckpointDirectory(path: Fixtures.temporaryDirectory(), keep: 1)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let plan = CheckpointPlan(directory: directory, interval: 2, model: Fixtures.modelInfo)
        let results = try InProcessWorld.run(worldSize: 4, timeout: 120) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 2)
            let straight = Fixtures.trainer(grid: grid)
            var source = Fixtures.source(grid)
            let expected = try straight.train(until: 6, data: &source).map(\.loss)

            let first = Fixtures.trainer(grid: grid)
            var firstSource = Fixtures.source(grid)
            let before = try first.train(until: 3, data: &firstSource, checkpoints: plan).map(\.loss)

            let resumed = Fixtures.trainer(grid: grid, seed: 12345)
            let contents = try resumed.restore(from: try directory.latest())
            var resumedSource = TinySource(microBatch: 1, dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size,
                                           position: contents.state.dataPosition)
            var lines: [String] = []
            let after = try resumed.train(until: 6, data: &resumedSource, log: { lines.append($0) }).map(\.loss)
            return (expected, before + after, resumed.lossCurve.map(\.loss), try directory.checkpoints().map(\.step), lines)
        }
        for (expected, interrupted, curve, kept, _) in results {
            #expect(interrupted.map(\.bitPattern) == expected.map(\.bitPattern))
            #expect(curve.map(\.bitPattern) == expected.map(\.bitPattern))
            #expect(kept == [3])
            #expect(expected.last! < expected.first!)
        }
        // World rank 0 logs at steps 4 and 6 (interval 2), the others stay quiet.
        #expect(results[0].4.count == 2 && results[1].4.isEmpty)
        #expect(results[0].4[0].hasPrefix("step 4/6 | loss "))
        #expect(results[0].4[1].contains("model TFLOP/s") && results[0].4[1].contains("ETA 0:00:00"))
    }

    /// One global batch split as dp = 2 × one micro-batch or dp = 1 × two micro-batches draws the
    /// same masks for the same sequences, so the losses agree to rounding.
    @Test func microBatchesAndDataParallelRanksAreInterchangeable() throws {
        func run(dp: Int, microBatches: Int) throws -> [Double] {
            try InProcessWorld.run(worldSize: dp, timeout: 60) { world in
                let grid = try ProcessGrid(world: world, tensorParallel: 1, dataParallel: dp)
                let trainer = Fixtures.trainer(grid: grid, microBatches: microBatches)
                var source = Fixtures.source(grid)
                return try trainer.train(until: 4, data: &source).map(\.loss)
            }[0]
        }
        let split = try run(dp: 2, microBatches: 1), accumulated = try run(dp: 1, microBatches: 2)
        for (a, b) in zip(split, accumulated) {
            #expect(abs(a - b) / abs(b) < 1e-5)
        }
    }
}
