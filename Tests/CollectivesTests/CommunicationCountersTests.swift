import Collectives
import Testing

@Suite struct CommunicationCountersTests {
    @Test func collectivesAreCountedPerScopeGroupAndOp() throws {
        let counters = try InProcessWorld.run(worldSize: 2) { comm in
            let grid = try ProcessGrid(world: comm, tensorParallel: 2, dataParallel: 1)
            var x = [Float](repeating: 1, count: 6)
            try comm.counters.withScope("layer0") {
                try comm.counters.withScope("attention") {
                    try x.withUnsafeMutableBufferPointer { try grid.tensorParallel.allReduce($0, op: .sum) }
                }
                try comm.counters.withScope("mlp") {
                    try x.withUnsafeMutableBufferPointer { try grid.tensorParallel.allReduce($0, op: .sum) }
                    try x.withUnsafeMutableBufferPointer { try grid.tensorParallel.allReduce($0, op: .max) }
                }
            }
            var y = [Double](repeating: 1, count: 3)
            try y.withUnsafeMutableBufferPointer { try grid.dataParallel.broadcast($0, root: 0) }
            return comm.counters
        }
        for c in counters {
            #expect(c.tally(.allReduce, scope: "layer0") == CollectiveTally(calls: 3, elements: 18, bytes: 72))
            #expect(c.tally(.allReduce, scope: "layer0", nested: false).calls == 0)
            #expect(c.tally(.allReduce, scope: "layer0/mlp").calls == 2)
            #expect(c.tally(.allReduce, scope: "layer0/mlp", group: "dp").calls == 0)
            #expect(c.tally(.broadcast) == CollectiveTally(calls: 1, elements: 3, bytes: 24))
            #expect(c.tally(.split).calls == 4)
            #expect(c.currentScope == "")
            #expect(c.report.contains("layer0/mlp"))
            c.reset()
            #expect(c.entries.isEmpty)
        }
    }
}
