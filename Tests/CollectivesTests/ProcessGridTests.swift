import Collectives
import Testing

@Suite struct ProcessGridTests {
    static let shapes = [(2, 1), (1, 2), (2, 2), (2, 4), (4, 2)]

    /// Megatron's layout (megatron/mpu/initialize.py): TP groups contiguous, DP groups strided.
    @Test(arguments: shapes)
    func layoutMatchesMegatron(tp: Int, dp: Int) {
        let layout = GridLayout(tensorParallel: tp, dataParallel: dp)
        let world = tp * dp
        #expect(layout.tensorParallelGroups == stride(from: 0, to: world, by: tp).map { Array($0..<($0 + tp)) })
        #expect(layout.dataParallelGroups == (0..<tp).map { Array(stride(from: $0, to: world, by: tp)) })
        for rank in 0..<world {
            #expect(layout.tensorParallelRank(of: rank) == rank % tp)
            #expect(layout.dataParallelRank(of: rank) == rank / tp)
        }
    }

    @Test func theTwoByFourExampleOfTheMegatronNotes() {
        let layout = GridLayout(tensorParallel: 2, dataParallel: 4)
        #expect(layout.tensorParallelGroups == [[0, 1], [2, 3], [4, 5], [6, 7]])
        #expect(layout.dataParallelGroups == [[0, 2, 4, 6], [1, 3, 5, 7]])
    }

    /// The communicators the grid splits off hold the layout's members, in rank order, and
    /// their collectives reach exactly those members.
    @Test(arguments: shapes)
    func communicatorsHoldTheLayoutsGroups(tp: Int, dp: Int) throws {
        let views = try InProcessWorld.run(worldSize: tp * dp) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
            let tpComm = grid.tensorParallel as! InProcessCommunicator
            let dpComm = grid.dataParallel as! InProcessCommunicator
            var tpSum = [Double(world.rank)], dpSum = [Double(world.rank)]
            try tpSum.withUnsafeMutableBufferPointer { try grid.tensorParallel.allReduce($0, op: .sum) }
            try dpSum.withUnsafeMutableBufferPointer { try grid.dataParallel.allReduce($0, op: .sum) }
            return (tpComm.worldRanks, grid.tensorParallelRank, dpComm.worldRanks, grid.dataParallelRank,
                    tpSum[0], dpSum[0], grid.tensorParallel.name, grid.dataParallel.name)
        }
        let layout = GridLayout(tensorParallel: tp, dataParallel: dp)
        for (rank, view) in views.enumerated() {
            let tpGroup = layout.tensorParallelGroup(containing: rank)
            let dpGroup = layout.dataParallelGroup(containing: rank)
            #expect(view.0 == tpGroup && view.1 == rank % tp)
            #expect(view.2 == dpGroup && view.3 == rank / tp)
            #expect(view.4 == Double(tpGroup.reduce(0, +)))
            #expect(view.5 == Double(dpGroup.reduce(0, +)))
            #expect(view.6 == "tp" && view.7 == "dp")
        }
    }

    @Test func splitOrdersByKeyThenRank() throws {
        let views = try InProcessWorld.run(worldSize: 5) { world in
            let comm = try world.splitGroup(color: world.rank % 2, key: -world.rank, name: "odd-even")
            return (comm.worldRanks, comm.rank, comm.size)
        }
        #expect(views[0].0 == [4, 2, 0] && views[0].1 == 2)
        #expect(views[1].0 == [3, 1] && views[1].1 == 1 && views[1].2 == 2)
        #expect(views[4].1 == 0)
    }

    @Test func aGridThatDoesNotFitTheWorldIsRejected() {
        let outcomes = InProcessWorld.results(worldSize: 3) { world in
            _ = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 2)
        }
        for outcome in outcomes {
            guard case .failure(let error as ParallelConfigError) = outcome else {
                Issue.record("expected ParallelConfigError, got \(outcome)")
                continue
            }
            #expect(error.violations == [.worldSizeMismatch(worldSize: 3, tensorParallel: 2, dataParallel: 2, pipelineParallel: 1)])
        }
    }

    /// parallel_state.py's docstring example: 16 ranks at tp 2 × pp 4 × dp 2.
    @Test func theTP2PP4DP2ExampleOfMegatronsParallelState() {
        let layout = GridLayout(tensorParallel: 2, dataParallel: 2, pipelineParallel: 4)
        #expect(layout.tensorParallelGroups == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13], [14, 15]])
        #expect(layout.dataParallelGroups == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9, 11], [12, 14], [13, 15]])
        #expect(layout.pipelineGroups == [[0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15]])
        #expect(layout.embeddingGroup(containing: 9) == [1, 13])
        #expect(layout.worldRank(tensorParallelRank: 1, dataParallelRank: 1, pipelineParallelRank: 2) == 11)
    }
}
