import Collectives

/// Where in a training step an operation runs.
public enum StepPass: String, Sendable, Codable {
    case forward, backward
    /// A layer's forward run again just before its backward (activation recomputation).
    case recompute
    /// After the micro-batches: gradient reduction, clipping, the optimizer.
    case update
}

/// The two kinds of process group a step communicates in.
public enum CommunicationGroup: String, Sendable, Codable {
    case tensorParallel = "tp", dataParallel = "dp"
}

/// `count` independent products op(a)·op(b) with op(a) m×k and op(b) k×n.
public struct TracedGEMM: Sendable, Equatable {
    public var m: Int, n: Int, k: Int
    public var count: Int

    public var flops: Int { 2 * m * n * k * count }
}

/// One collective call on a group of `groupSize` ranks: `elements` of `elementBytes` each, counted
/// as `CommunicationCounters` counts them (the buffer for all-reduce, the gathered output for
/// all-gather).
public struct TracedCollective: Sendable, Equatable {
    public var op: CollectiveOp
    public var group: CommunicationGroup
    public var groupSize: Int
    public var elements: Int
    public var elementBytes: Int

    public var bytes: Int { elements * elementBytes }
}

/// One operation of a step as the performance model sees it: a product, a memory-bound kernel
/// (bytes read plus written), or a collective.
public struct StepOperation: Sendable, Equatable {
    public enum Work: Sendable, Equatable {
        case gemm(TracedGEMM)
        case elementwise(bytes: Int)
        case collective(TracedCollective)
    }

    /// Where it sits in the model ("layers.3.mlp.dense_4h_to_h dW").
    public var name: String
    public var pass: StepPass
    public var work: Work
}

/// The operations of one training step on one rank, in the order the rank runs them.
public struct StepTrace: Sendable {
    public let config: StepTraceConfig
    public let operations: [StepOperation]
    /// The elements of this rank's flat parameter (and gradient) buffer.
    public let parametersPerRank: Int

    public var gemms: [TracedGEMM] {
        operations.compactMap { if case .gemm(let g) = $0.work { return g } else { return nil } }
    }

    public var collectives: [TracedCollective] {
        operations.compactMap { if case .collective(let c) = $0.work { return c } else { return nil } }
    }

    /// Σ 2·m·n·k over every product of the step.
    public var gemmFLOPs: Int { gemms.reduce(0) { $0 + $1.flops } }
    public var gemmCalls: Int { gemms.reduce(0) { $0 + $1.count } }

    public var elementwiseBytes: Int {
        operations.reduce(0) { if case .elementwise(let b) = $1.work { return $0 + b } else { return $0 } }
    }

    /// Calls, elements and bytes of `op` on `group`, as `CommunicationCounters.tally` adds them up.
    public func tally(_ op: CollectiveOp, group: CommunicationGroup) -> CollectiveTally {
        collectives.filter { $0.op == op && $0.group == group }.reduce(CollectiveTally()) {
            $0 + CollectiveTally(calls: 1, elements: $1.elements, bytes: $1.bytes)
        }
    }
}
