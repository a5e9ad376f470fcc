import Collectives
import Foundation
import Models
import PerformanceModel
import Testing

@Suite struct StepSimulatorTests {
    static let paperMachine = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("machines/dgx-2h.json").path

    static func paperConfig(hidden: Int, heads: Int, layers: Int, tp: Int, dp: Int) -> StepTraceConfig {
        StepTraceConfig(model: GPTConfig(layers: layers, hidden: hidden, heads: heads, maxPositions: 1024, vocabSize: 51200,
                                         paddedVocabSize: 51200, attentionDropout: 0, hiddenDropout: 0),
                        tensorParallel: tp, dataParallel: dp, microBatch: 8, sequence: 1024, recomputeActivations: true,
                        elementBytes: 2)
    }

    @Test func collectiveFormulas() {
        let (alpha, beta, bytes) = (2e-6, 100e9, 50_000_000)
        let costs = CollectiveCost.estimate(.allReduce, bytes: bytes, ranks: 8, alpha: alpha, beta: beta)
        #expect(costs.map(\.algorithm) == ["ring", "tree"])
        #expect(abs(costs[0].seconds - (14 * alpha + 2 * 7.0 / 8 * Double(bytes) / beta)) < 1e-15)
        #expect(abs(costs[1].seconds - (6 * alpha + 2 * Double(bytes) / beta)) < 1e-15)
        #expect(CollectiveCost.best(.allReduce, bytes: bytes, ranks: 8, alpha: alpha, beta: beta).algorithm == "ring")
        // Small messages over many ranks: the tree's log-depth latency wins.
        #expect(CollectiveCost.best(.allReduce, bytes: 8, ranks: 512, alpha: alpha, beta: beta).algorithm == "tree")
        let gather = CollectiveCost.best(.allGather, bytes: bytes, ranks: 4, alpha: alpha, beta: beta)
        #expect(abs(gather.seconds - (3 * alpha + 0.75 * Double(bytes) / beta)) < 1e-15)
        #expect(CollectiveCost.best(.allReduce, bytes: bytes, ranks: 1, alpha: alpha, beta: beta).seconds == 0)
    }

    /// The DGX-2H description reproduces its one calibration point and nothing else is pinned.
    @Test func calibrationPointIsMet() throws {
        let machine = try MachineModel.load(Self.paperMachine)
        let simulator = try StepSimulator(machine: machine)
        let one = try simulator.simulate(Self.paperConfig(hidden: 1536, heads: 16, layers: 40, tp: 1, dp: 1))
        #expect(abs(one.modelFLOPsPerSecondPerRank / 39e12 - 1) < 1e-9)
        #expect(one.exposedCommunicationSeconds < 1e-3)
        #expect(abs(one.computeSeconds + one.exposedCommunicationSeconds + one.restSeconds - one.stepSeconds) < 1e-12)
    }

    /// Groups inside a server use NVSwitch; data-parallel rings that leave it share its 100 GB/s.
    @Test func linkClasses() throws {
        let simulator = try StepSimulator(machine: try MachineModel.load(Self.paperMachine))
        let within = try simulator.simulate(Self.paperConfig(hidden: 1920, heads: 20, layers: 2, tp: 2, dp: 8))
        #expect(within.collectives.allSatisfy { $0.link == "intra-node" })
        let across = try simulator.simulate(Self.paperConfig(hidden: 3072, heads: 32, layers: 2, tp: 8, dp: 64))
        let gradients = try #require(across.collectives.first { $0.group == .dataParallel && $0.bytes > 100 })
        #expect(gradients.link == "inter-node, 1/8 of the node's")
        #expect(across.collectives.filter { $0.group == .tensorParallel }.allSatisfy { $0.link == "intra-node" })
        let wide = try simulator.simulate(Self.paperConfig(hidden: 3072, heads: 32, layers: 2, tp: 32, dp: 1))
        #expect(wide.collectives.filter { $0.group == .tensorParallel }.allSatisfy { $0.link.hasPrefix("inter-node") })
    }

    /// With overlap on, the gradient all-reduce hides behind the backward pass.
    @Test func overlapHidesDataParallelCommunication() throws {
        var machine = try MachineModel.load(Self.paperMachine)
        let config = Self.paperConfig(hidden: 1536, heads: 16, layers: 4, tp: 1, dp: 64)
        let exposed = try StepSimulator(machine: machine).simulate(config)
        machine.overlapsDataParallel = true
        let hidden = try StepSimulator(machine: machine).simulate(config)
        #expect(exposed.hiddenCommunicationSeconds == 0 && hidden.hiddenCommunicationSeconds > 0)
        #expect(abs(hidden.stepSeconds + hidden.hiddenCommunicationSeconds - exposed.stepSeconds) < 1e-9)
    }

    /// A measured table: exact at its points, between its neighbours elsewhere.
    @Test func gemmTableInterpolates() throws {
        let grid = [64, 1024]
        let rates: [[[Double]]] = [[[1e9, 2e9], [3e9, 4e9]], [[5e9, 6e9], [7e9, 8e9]]]
        let machine = MachineModel(
            name: "t", description: "", ranksPerNode: 2,
            gemm: .init(tables: [.init(concurrentRanks: 1, m: grid, n: grid, k: grid, flopsPerSecond: rates)], source: ""),
            memory: .init(value: 1e10, source: ""), intraNode: .init(alphaSeconds: 0, betaBytesPerSecond: 1e9, source: ""),
            interNode: nil, overlapsDataParallel: false, overlapSource: "")
        let simulator = try StepSimulator(machine: machine)
        #expect(simulator.gemmRate(m: 1024, n: 64, k: 1024, concurrent: 1) == 6e9)
        #expect(simulator.gemmRate(m: 8, n: 8, k: 8, concurrent: 1) == 1e9)
        // m = 256 is halfway from 64 to 1024 in log space.
        let middle = simulator.gemmRate(m: 256, n: 64, k: 64, concurrent: 1)
        #expect(abs(middle - 3e9) < 1e-3)
    }

    /// 512 ranks of the 8.3B model: the trace and the walk are one pass over a few thousand operations.
    @Test func paperScaleTraceIsSmall() throws {
        let trace = GPTStepTrace.build(Self.paperConfig(hidden: 3072, heads: 32, layers: 72, tp: 8, dp: 64))
        #expect(trace.operations.count < 20_000)
    }
}
