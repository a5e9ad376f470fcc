import Collectives
import Foundation
import Testing
import Training

@Suite struct CheckpointComparisonTests {
    /// Trains tp = 2 × dp = 2 for `steps` from `seed` and returns its checkpoint's path.
    func checkpoint(in directory: CheckpointDirectory, seed: UInt64, steps: Int) throws -> String {
        let plan = CheckpointPlan(directory: directory, interval: 0, model: Fixtures.modelInfo)
        _ = try InProcessWorld.run(worldSize: 4, timeout: 60) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 2)
            let trainer = Fixtures.trainer(grid: grid, seed: seed)
            var source = Fixtures.source(grid)
            try trainer.train(until: steps, data: &source, checkpoints: plan)
        }
        return try directory.latest()
    }

    @Test func twoRunsOfOneConfigAreIdenticalAndAnotherSeedIsNot() throws {
        let root = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try checkpoint(in: CheckpointDirectory(path: root + "/a"), seed: 3, steps: 2)
        let again = try checkpoint(in: CheckpointDirectory(path: root + "/b"), seed: 3, steps: 2)
        let same = try CheckpointComparison.compare(first, again)
        #expect(same.identical && same.tensors > 0 && same.tensors % 3 == 0)

        let other = try checkpoint(in: CheckpointDirectory(path: root + "/c"), seed: 4, steps: 3)
        let different = try CheckpointComparison.compare(first, other)
        #expect(!different.identical)
        #expect(different.differences.contains { $0.name == "/model/layers.0.attention.query_key_value.weight" && $0.differing > 0 })
        #expect(different.stateDifferences.contains("step") && different.stateDifferences.contains("loss curve"))
        #expect(different.tensors == same.tensors && different.unmatched.isEmpty)
    }
}
