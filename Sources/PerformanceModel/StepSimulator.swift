import Collectives
import Foundation

/// One step's predicted time on a machine, split the way the issue asks: products (compute),
/// communication that nothing hides (exposed), and the rest (memory-bound kernels, optimizer).
public struct StepPrediction: Sendable {
    public var config: StepTraceConfig
    public var stepSeconds: Double
    public var computeSeconds: Double
    public var exposedCommunicationSeconds: Double
    /// Data-parallel communication the backward pass hides (overlap on).
    public var hiddenCommunicationSeconds: Double
    public var restSeconds: Double
    /// Model FLOPs of the step over all ranks (Narayanan eq. 2, or eq. 3 with recomputation).
    public var modelFLOPs: Double
    /// Each distinct collective: how many per step and what one costs.
    public var collectives: [CollectiveLine]

    public struct CollectiveLine: Sendable {
        public var group: CommunicationGroup
        public var op: CollectiveOp
        public var ranks: Int
        public var bytes: Int
        public var calls: Int
        public var link: String
        public var cost: CollectiveCost
        public var alternatives: [CollectiveCost]
    }

    public var tokensPerSecond: Double { Double(config.tokensPerStep) / stepSeconds }
    public var modelFLOPsPerSecondPerRank: Double { modelFLOPs / stepSeconds / Double(config.ranks) }
}

/// Walks a step's trace on a machine: each product at the table's rate for its shape, each
/// elementwise kernel at the memory bandwidth, each collective by `CollectiveCost` on the link
/// its group uses. Operations of one rank run one after another; the data-parallel gradient
/// all-reduce hides behind the backward pass where the machine overlaps it.
public struct StepSimulator: Sendable {
    public let machine: MachineModel
    /// One rate for every product, from the machine's calibration point (nil: the tables).
    public let uniformGEMMRate: Double?

    public init(machine: MachineModel) throws {
        self.machine = machine
        guard let point = machine.gemm.calibration else {
            uniformGEMMRate = nil
            return
        }
        // Solve rate R so the calibration config runs at its measured model FLOP/s: T = F/R_model
        // = gemm FLOPs / R + everything else.
        let config = point.config
        let trace = GPTStepTrace.build(config)
        let target = ClosedForms.trainingFLOPs(layers: point.layers, hidden: point.hidden, vocabulary: point.vocabulary,
                                               sequence: point.sequence, batch: point.microBatch, recompute: point.recompute)
            / point.modelFlopsPerSecond
        let rest = StepSimulator(machine: machine, rate: .infinity).simulate(trace).stepSeconds
        guard target > rest else {
            throw PerformanceModelError.calibrationImpossible(
                machine: machine.name, reason: String(format: "the step may take %.4g s, the rest alone takes %.4g s", target, rest))
        }
        uniformGEMMRate = Double(trace.gemmFLOPs) / (target - rest)
    }

    init(machine: MachineModel, rate: Double) {
        self.machine = machine
        uniformGEMMRate = rate
    }

    public func simulate(_ config: StepTraceConfig) throws -> StepPrediction {
        let problems = config.problems
        guard problems.isEmpty else { throw PerformanceModelError.invalidConfig(source: "config", problems: problems) }
        if config.ranks > machine.ranksPerNode && machine.interNode == nil {
            throw PerformanceModelError.noInterNodeLink(machine: machine.name, ranks: config.ranks, ranksPerNode: machine.ranksPerNode)
        }
        return simulate(GPTStepTrace.build(config))
    }

    func simulate(_ trace: StepTrace) -> StepPrediction {
        let config = trace.config
        let concurrent = min(config.ranks, machine.ranksPerNode)
        var compute = 0.0, rest = 0.0, exposed = 0.0, backwardCompute = 0.0, dataParallel = 0.0
        var lines: [String: StepPrediction.CollectiveLine] = [:]
        var order: [String] = []
        for op in trace.operations {
            switch op.work {
            case .gemm(let g):
                let seconds = Double(g.flops) / gemmRate(m: g.m, n: g.n, k: g.k, concurrent: concurrent)
                compute += seconds
                if op.pass != .forward { backwardCompute += seconds }
            case .elementwise(let bytes):
                let seconds = Double(bytes) / machine.memory.value
                rest += seconds
                if op.pass != .forward && op.pass != .update { backwardCompute += seconds }
            case .collective(let c):
                let (link, name, beta) = self.link(c, config: config)
                let alternatives = CollectiveCost.estimate(c.op, bytes: c.bytes, ranks: c.groupSize, alpha: link.alphaSeconds, beta: beta)
                let cost = alternatives.min { $0.seconds < $1.seconds }!
                if op.name == GPTStepTrace.gradientReduction {
                    dataParallel += cost.seconds
                } else {
                    exposed += cost.seconds
                }
                let key = "\(c.group.rawValue) \(c.op.rawValue) \(c.groupSize) \(c.bytes)"
                if lines[key] == nil {
                    order.append(key)
                    lines[key] = .init(group: c.group, op: c.op, ranks: c.groupSize, bytes: c.bytes, calls: 0, link: name,
                                       cost: cost, alternatives: alternatives)
                }
                lines[key]!.calls += 1
            }
        }
        let hidden = machine.overlapsDataParallel ? min(dataParallel, backwardCompute) : 0
        exposed += dataParallel - hidden
        let m = config.model
        let flops = ClosedForms.trainingFLOPs(layers: m.layers, hidden: m.hidden, vocabulary: m.paddedVocabSize,
                                              sequence: config.sequence, batch: config.globalBatch,
                                              recompute: config.recomputeActivations)
        return StepPrediction(config: config, stepSeconds: compute + exposed + rest, computeSeconds: compute,
                              exposedCommunicationSeconds: exposed, hiddenCommunicationSeconds: hidden, restSeconds: rest,
                              modelFLOPs: flops, collectives: order.map { lines[$0]! })
    }

    /// The link a group's collective runs on and the bandwidth each of its rings gets: within a
    /// node, or across nodes, where the node's bandwidth is shared by the groups leaving it.
    func link(_ c: TracedCollective, config: StepTraceConfig) -> (MachineModel.Link, String, Double) {
        let perNode = machine.ranksPerNode, t = config.tensorParallel
        let crossesNodes: Bool, groupsLeavingNode: Int
        switch c.group {
        case .tensorParallel:
            crossesNodes = t > perNode
            groupsLeavingNode = 1
        case .dataParallel:
            crossesNodes = t * c.groupSize > perNode
            groupsLeavingNode = min(t, perNode)
        }
        guard crossesNodes, let inter = machine.interNode else {
            return (machine.intraNode, "intra-node", machine.intraNode.betaBytesPerSecond)
        }
        let share = inter.perNode ? inter.betaBytesPerSecond / Double(groupsLeavingNode) : inter.betaBytesPerSecond
        return (inter, inter.perNode && groupsLeavingNode > 1 ? "inter-node, 1/\(groupsLeavingNode) of the node's" : "inter-node",
                min(share, machine.intraNode.betaBytesPerSecond))
    }

    /// FLOP/s of an m×n×k product: the calibration's one rate, or the table of the nearest
    /// concurrency interpolated linearly in log m, log n, log k (clamped at the table's edges).
    public func gemmRate(m: Int, n: Int, k: Int, concurrent: Int) -> Double {
        if let uniformGEMMRate { return uniformGEMMRate }
        let table = machine.gemm.tables.min {
            abs($0.concurrentRanks - concurrent) < abs($1.concurrentRanks - concurrent)
        }!
        let (i, wi) = Self.bracket(table.m, m), (j, wj) = Self.bracket(table.n, n), (l, wl) = Self.bracket(table.k, k)
        var rate = 0.0
        for (di, a) in [(0, 1 - wi), (1, wi)] where a > 0 {
            for (dj, b) in [(0, 1 - wj), (1, wj)] where b > 0 {
                for (dl, c) in [(0, 1 - wl), (1, wl)] where c > 0 {
                    rate += a * b * c * table.flopsPerSecond[i + di][j + dj][l + dl]
                }
            }
        }
        return rate
    }

    /// The grid index below `x` and the weight of the one above, in log space.
    static func bracket(_ grid: [Int], _ x: Int) -> (Int, Double) {
        guard grid.count > 1, x > grid[0] else { return (0, 0) }
        guard x < grid[grid.count - 1] else { return (grid.count - 2, 1) }
        let i = grid.lastIndex { $0 <= x }!
        return (i, (log(Double(x)) - log(Double(grid[i]))) / (log(Double(grid[i + 1])) - log(Double(grid[i]))))
    }
}

extension MachineModel.ComputeCalibration {
    /// The calibration's step on one rank.
    public var config: StepTraceConfig {
        StepTraceConfig(model: .init(layers: layers, hidden: hidden, heads: heads, maxPositions: sequence, vocabSize: vocabulary,
                                     paddedVocabSize: vocabulary, attentionDropout: 0, hiddenDropout: 0),
                        tensorParallel: 1, dataParallel: 1, microBatch: microBatch, sequence: sequence,
                        recomputeActivations: recompute, loop: loop,
                        elementBytes: elementBytes)
    }
}
