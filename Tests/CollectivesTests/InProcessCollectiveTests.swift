import Collectives
import Testing
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Every collective against a serial computation of its definition, at 1–4 ranks with odd
/// sizes, in both element types.
@Suite struct InProcessCollectiveTests {
    static let worlds = [1, 2, 3, 4]
    static let counts = [0, 1, 5, 1001, 40_003]

    @Test(arguments: worlds, [false, true])
    func allReduceEqualsSerialRankOrderReduction(world: Int, max: Bool) throws {
        try checkAllReduce(Float.self, world: world, max: max)
        try checkAllReduce(Double.self, world: world, max: max)
    }

    func checkAllReduce<T: TensorScalar>(_: T.Type, world: Int, max: Bool) throws {
        for count in Self.counts {
            let outputs = try InProcessWorld.run(worldSize: world) { comm in
                var buffer: [T] = rankInput(rank: comm.rank, count: count)
                try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: max ? .max : .sum) }
                return buffer
            }
            let expected = serialReduce((0..<world).map { rankInput(T.self, rank: $0, count: count) }, max: max)
            for output in outputs {
                #expect(bits(output) == bits(expected), "world \(world), count \(count), \(T.dtypeName)")
            }
        }
    }

    @Test(arguments: worlds)
    func allGatherConcatenatesInRankOrder(world: Int) throws {
        try checkAllGather(Float.self, world: world)
        try checkAllGather(Double.self, world: world)
    }

    func checkAllGather<T: TensorScalar>(_: T.Type, world: Int) throws {
        for count in Self.counts {
            let outputs = try InProcessWorld.run(worldSize: world) { comm in
                let input: [T] = rankInput(rank: comm.rank, count: count)
                var output = [T](repeating: -7, count: world * count)
                try input.withUnsafeBufferPointer { input in
                    try output.withUnsafeMutableBufferPointer { try comm.allGather(input, into: $0) }
                }
                return output
            }
            let expected = (0..<world).flatMap { rankInput(T.self, rank: $0, count: count) }
            for output in outputs { #expect(bits(output) == bits(expected), "world \(world), count \(count)") }
        }
    }

    @Test(arguments: worlds)
    func reduceScatterLeavesEachRankItsReducedBlock(world: Int) throws {
        try checkReduceScatter(Float.self, world: world)
        try checkReduceScatter(Double.self, world: world)
    }

    func checkReduceScatter<T: TensorScalar>(_: T.Type, world: Int) throws {
        for count in Self.counts {
            let outputs = try InProcessWorld.run(worldSize: world) { comm in
                let input: [T] = rankInput(rank: comm.rank, count: world * count)
                var output = [T](repeating: -7, count: count)
                try input.withUnsafeBufferPointer { input in
                    try output.withUnsafeMutableBufferPointer { try comm.reduceScatter(input, into: $0, op: .sum) }
                }
                return output
            }
            let total = serialReduce((0..<world).map { rankInput(T.self, rank: $0, count: world * count) }, max: false)
            for (rank, output) in outputs.enumerated() {
                let block = Array(total[(rank * count)..<((rank + 1) * count)])
                #expect(bits(output) == bits(block), "world \(world), count \(count), rank \(rank)")
            }
        }
    }

    @Test(arguments: worlds)
    func broadcastCopiesTheRootsBuffer(world: Int) throws {
        for root in 0..<world {
            let outputs = try InProcessWorld.run(worldSize: world) { comm in
                var buffer: [Double] = rankInput(rank: comm.rank, count: 1001)
                try buffer.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: root) }
                return buffer
            }
            for output in outputs { #expect(output == rankInput(Double.self, rank: root, count: 1001)) }
        }
    }

    /// Ranks that arrive in a different order each run (random delays) still get the same bits.
    @Test func resultsDoNotDependOnTiming() throws {
        var runs: [[[UInt64]]] = []
        for trial in 0..<5 {
            let outputs = try InProcessWorld.run(worldSize: 3) { comm in
                var buffer: [Float] = rankInput(rank: comm.rank, count: 30_001)
                usleep(UInt32((comm.rank * 7 + trial * 13) % 5) * 500)
                try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
                return bits(buffer)
            }
            #expect(Set(outputs).count == 1, "trial \(trial): ranks disagree")
            runs.append(outputs)
        }
        #expect(Set(runs.map { $0[0] }).count == 1)
    }

    @Test func tensorFormsMatchTheBufferForms() throws {
        let outputs = try InProcessWorld.run(worldSize: 2) { comm in
            let x = Tensor<Float>(shape: [3, 5], values: rankInput(rank: comm.rank, count: 15))
            try comm.allReduce(x)
            let gathered = Tensor<Float>(zeros: [2, 3, 5])
            try comm.allGather(x, into: gathered)
            let scattered = Tensor<Float>(zeros: [15])
            try comm.reduceScatter(gathered, into: scattered)
            return [x.array, scattered.array]
        }
        let sum = serialReduce([rankInput(Float.self, rank: 0, count: 15), rankInput(Float.self, rank: 1, count: 15)], max: false)
        #expect(outputs[0][0] == sum && outputs[1][0] == sum)
        #expect(outputs[0][1] == sum.map { $0 + $0 })
    }

    @Test func inPlaceGatherAndScatterAliasTheirOwnBlock() throws {
        let outputs = try InProcessWorld.run(worldSize: 3) { comm in
            var gathered = [Double](repeating: 0, count: 3 * 7)
            let mine: [Double] = rankInput(rank: comm.rank, count: 7)
            for i in 0..<7 { gathered[comm.rank * 7 + i] = mine[i] }
            try gathered.withUnsafeMutableBufferPointer { all in
                let own = UnsafeBufferPointer(rebasing: all[(comm.rank * 7)..<((comm.rank + 1) * 7)])
                try comm.allGather(own, into: all)
            }
            var reduced: [Double] = rankInput(rank: comm.rank, count: 3 * 7, seed: 9)
            try reduced.withUnsafeMutableBufferPointer { all in
                let own = UnsafeMutableBufferPointer(rebasing: all[(comm.rank * 7)..<((comm.rank + 1) * 7)])
                try comm.reduceScatter(UnsafeBufferPointer(all), into: own, op: .sum)
            }
            return [gathered, Array(reduced[(comm.rank * 7)..<((comm.rank + 1) * 7)])]
        }
        let gathered = (0..<3).flatMap { rankInput(Double.self, rank: $0, count: 7) }
        let total = serialReduce((0..<3).map { rankInput(Double.self, rank: $0, count: 21, seed: 9) }, max: false)
        for (rank, output) in outputs.enumerated() {
            #expect(output[0] == gathered)
            #expect(output[1] == Array(total[(rank * 7)..<((rank + 1) * 7)]))
        }
    }

    @Test func eachRankGetsItsShareOfTheCores() throws {
        let threads = try InProcessWorld.run(worldSize: 2) { _ in ComputeThreads.current }
        #expect(threads == Array(repeating: max(1, ComputeThreads.available / 2), count: 2))
    }

    /// The example in `Communicator`'s documentation, verbatim.
    @Test func documentedExample() throws {
        let sums = try InProcessWorld.run(worldSize: 4) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 2)
            let partial = Tensor<Float>(shape: [3], values: [1, 2, 3])
            try world.counters.withScope("layer0/mlp") {
                try grid.tensorParallel.allReduce(partial)      // Megatron's g: sum over the TP group
            }
            #expect(world.counters.tally(.allReduce, scope: "layer0").calls == 1)
            return partial.array                                // [2, 4, 6] on every rank
        }
        #expect(sums == Array(repeating: [2, 4, 6], count: 4))
    }
}
