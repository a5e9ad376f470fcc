import Foundation

/// A machine as the performance model sees it (`machines/NAME.json`): how fast products of each
/// shape run, how fast memory-bound kernels stream, what a collective costs on each link class,
/// how many ranks share a node, and whether communication overlaps computation. Every number
/// carries its source: measured here (`megatron calibrate`), or a published specification.
public struct MachineModel: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    /// Ranks (GPUs, or CPU cores at one rank each) per node; groups larger than this cross nodes.
    public var ranksPerNode: Int
    public var gemm: GEMMRates
    /// Bytes read plus written per second by an elementwise kernel on one rank.
    public var memory: Figure
    /// Within a node, and between nodes (nil: one node only).
    public var intraNode: Link
    public var interNode: Link?
    /// Whether the data-parallel gradient all-reduce runs behind the backward pass. The
    /// tensor-parallel all-reduces are always exposed: the next operation needs their result.
    public var overlapsDataParallel: Bool
    public var overlapSource: String

    public init(name: String, description: String, ranksPerNode: Int, gemm: GEMMRates, memory: Figure, intraNode: Link,
                interNode: Link?, overlapsDataParallel: Bool, overlapSource: String) {
        self.name = name
        self.description = description
        self.ranksPerNode = ranksPerNode
        self.gemm = gemm
        self.memory = memory
        self.intraNode = intraNode
        self.interNode = interNode
        self.overlapsDataParallel = overlapsDataParallel
        self.overlapSource = overlapSource
    }

    /// A number and where it comes from.
    public struct Figure: Codable, Sendable, Equatable {
        public var value: Double
        public var source: String

        public init(value: Double, source: String) {
            self.value = value
            self.source = source
        }
    }

    /// Collective cost on one link class: α per message step (seconds), β bytes per second per rank
    /// and direction; `perNode` when β is a node's total, shared by the rings that leave it.
    public struct Link: Codable, Sendable, Equatable {
        public var alphaSeconds: Double
        public var betaBytesPerSecond: Double
        public var perNode: Bool
        public var source: String

        public init(alphaSeconds: Double, betaBytesPerSecond: Double, perNode: Bool = false, source: String) {
            self.alphaSeconds = alphaSeconds
            self.betaBytesPerSecond = betaBytesPerSecond
            self.perNode = perNode
            self.source = source
        }
    }

    /// GEMM FLOP/s by shape: measured tables (one per number of ranks running products at once on
    /// a node), or a single calibration point: the model FLOP/s one rank reaches on a named config,
    /// which fixes one rate for every product.
    public struct GEMMRates: Codable, Sendable, Equatable {
        public var tables: [GEMMTable]
        public var calibration: ComputeCalibration?
        public var source: String

        public init(tables: [GEMMTable], calibration: ComputeCalibration? = nil, source: String) {
            self.tables = tables
            self.calibration = calibration
            self.source = source
        }
    }

    /// sgemm FLOP/s per rank over a grid of (m, n, k), with `concurrentRanks` ranks multiplying at once.
    public struct GEMMTable: Codable, Sendable, Equatable {
        public var concurrentRanks: Int
        public var m: [Int]
        public var n: [Int]
        public var k: [Int]
        /// flopsPerSecond[i][j][l] at (m[i], n[j], k[l]).
        public var flopsPerSecond: [[[Double]]]

        public init(concurrentRanks: Int, m: [Int], n: [Int], k: [Int], flopsPerSecond: [[[Double]]]) {
            self.concurrentRanks = concurrentRanks
            self.m = m
            self.n = n
            self.k = k
            self.flopsPerSecond = flopsPerSecond
        }
    }

    /// One measured step: `modelFlopsPerSecond` per rank on this config, model FLOPs counted by
    /// Narayanan et al.'s eq. 2 (eq. 3 with `recompute`).
    public struct ComputeCalibration: Codable, Sendable, Equatable {
        public var layers: Int, hidden: Int, heads: Int, sequence: Int, vocabulary: Int, microBatch: Int
        public var recompute: Bool
        public var elementBytes: Int
        public var loop: StepTraceConfig.Loop
        public var modelFlopsPerSecond: Double
        public var source: String
    }

    public static func load(_ path: String) throws -> MachineModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PerformanceModelError.unreadable(path: path)
        }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let machine = try decoder.decode(MachineModel.self, from: data)
            try machine.check(path)
            return machine
        } catch let error as PerformanceModelError {
            throw error
        } catch {
            throw PerformanceModelError.malformed(path: path, reason: "\(error)")
        }
    }

    /// Sorted, pretty JSON with snake_case keys, as the shipped files are written.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    func check(_ path: String) throws {
        var problems: [String] = []
        if ranksPerNode <= 0 { problems.append("ranks_per_node must be positive") }
        if memory.value <= 0 { problems.append("memory.value must be positive") }
        for (name, link) in [("intra_node", intraNode), ("inter_node", interNode)] {
            guard let link else { continue }
            if link.betaBytesPerSecond <= 0 || link.alphaSeconds < 0 { problems.append("\(name): beta must be positive, alpha ≥ 0") }
        }
        if gemm.tables.isEmpty && gemm.calibration == nil {
            problems.append("gemm needs tables or a calibration point")
        }
        for table in gemm.tables {
            let shapeOK = table.flopsPerSecond.count == table.m.count
                && table.flopsPerSecond.allSatisfy { $0.count == table.n.count && $0.allSatisfy { $0.count == table.k.count } }
            if !shapeOK || table.m.isEmpty || table.n.isEmpty || table.k.isEmpty {
                problems.append("gemm table for \(table.concurrentRanks) ranks: flops_per_second must be m × n × k")
            }
        }
        if !problems.isEmpty { throw PerformanceModelError.malformed(path: path, reason: problems.joined(separator: "; ")) }
    }
}

public enum PerformanceModelError: Error, CustomStringConvertible {
    case unreadable(path: String)
    case malformed(path: String, reason: String)
    case invalidConfig(source: String, problems: [String])
    case calibrationImpossible(machine: String, reason: String)
    case noInterNodeLink(machine: String, ranks: Int, ranksPerNode: Int)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path): cannot read the file; give a readable machine or config JSON file"
        case .malformed(let path, let reason): "\(path): \(reason)"
        case .invalidConfig(let source, let problems): "\(source): " + problems.joined(separator: "; ")
        case .calibrationImpossible(let machine, let reason): "\(machine): the compute calibration point cannot be met: \(reason)"
        case .noInterNodeLink(let machine, let ranks, let perNode):
            "\(machine) describes one node of \(perNode) ranks and no inter_node link; \(ranks) ranks need one (add inter_node to the file)"
        }
    }
}
