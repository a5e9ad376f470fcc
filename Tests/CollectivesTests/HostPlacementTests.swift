import Collectives
import Testing

@Suite struct HostPlacementTests {
    /// mpirun's default placement fills a host's slots before the next: with slots a multiple of
    /// tp every tensor-parallel group stays on one host.
    @Test func slotsFilledInOrderKeepTensorParallelGroupsOnOneHost() {
        let placement = HostPlacement(layout: GridLayout(tensorParallel: 2, dataParallel: 2),
                                      hosts: ["node1", "node1", "node2", "node2"])
        #expect(placement.tensorParallelGroupsAcrossHosts.isEmpty)
        #expect(placement.warning == nil)
        #expect(placement.summary == "4 ranks on 2 hosts (node1: 2, node2: 2)")
    }

    /// Round-robin placement (`--map-by node`) splits every tensor-parallel group.
    @Test func roundRobinPlacementIsWarnedAbout() throws {
        let placement = HostPlacement(layout: GridLayout(tensorParallel: 2, dataParallel: 2),
                                      hosts: ["node1", "node2", "node1", "node2"])
        #expect(placement.tensorParallelGroupsAcrossHosts == [[0, 1], [2, 3]])
        let warning = try #require(placement.warning)
        #expect(warning.hasPrefix("warning: 2 of 2 tensor-parallel groups span hosts (ranks 0, 1 on node1, node2;"))
        #expect(warning.contains("multiple of tp = 2 slots"))
    }

    /// Three slots per host at tp 2: the second group straddles the two hosts.
    @Test func slotsNotAMultipleOfTensorParallelSplitOneGroup() {
        let placement = HostPlacement(layout: GridLayout(tensorParallel: 2, dataParallel: 3),
                                      hosts: ["a", "a", "a", "b", "b", "b"])
        #expect(placement.tensorParallelGroupsAcrossHosts == [[2, 3]])
        #expect(placement.distinctHosts == ["a", "b"])
    }

    /// Texts of any length up to the limit, multi-byte characters included, arrive in rank order.
    @Test func textsGatherInRankOrder() throws {
        let gathered = try InProcessWorld.run(worldSize: 3) { world in
            try world.allGather(text: String(repeating: "ü", count: world.rank) + "rank \(world.rank)", maxBytes: 64)
        }
        for texts in gathered { #expect(texts == ["rank 0", "ürank 1", "üürank 2"]) }
    }
}
