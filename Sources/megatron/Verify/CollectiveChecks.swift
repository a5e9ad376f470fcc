import Collectives
import TensorCore

/// What one rank found: how many checks ran and what failed.
struct CheckReport: Sendable {
    var checks = 0
    var failures: [String] = []

    mutating func expect(_ ok: Bool, _ what: @autoclosure () -> String) {
        checks += 1
        if !ok { failures.append(what()) }
    }
}

/// The checks `megatron verify collectives` runs on every rank of a world: each collective
/// against a serial computation of its definition (odd sizes, float32 and float64), results
/// bit-identical across ranks, every process grid the world allows, the counters, and a
/// mismatched call caught on every rank.
///
/// Each rank can compute every rank's input (they are seeded by rank), so each checks its own
/// result locally. Both engines reduce in rank order, so a reduction must equal the serial
/// rank-order reduction bit for bit.
struct CollectiveChecks {
    let comm: any Communicator
    var report = CheckReport()
    static let counts = [1, 1001, 65_537]

    init(comm: any Communicator) {
        self.comm = comm
    }

    mutating func run() throws -> CheckReport {
        for count in Self.counts {
            for op in ReduceOp.allCases {
                try allReduce(Float.self, count: count, op: op)
                try allReduce(Double.self, count: count, op: op)
            }
            try allGather(Float.self, count: count)
            try allGather(Double.self, count: count)
            try reduceScatter(Float.self, count: count)
            try reduceScatter(Double.self, count: count)
            for root in 0..<comm.size { try broadcast(Double.self, count: count, root: root) }
        }
        try grids()
        try counters()
        try mismatch()
        try comm.barrier()
        return report
    }

    func input<T: TensorScalar>(_: T.Type, rank: Int, count: Int, seed: UInt64 = 11) -> [T] {
        var state = (seed &+ UInt64(rank) &* 0x9E37_79B9_7F4A_7C15) | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return T(Double(state >> 11) / Double(1 << 53) * 2 - 1)
        }
    }

    /// Whether `got` is the reduction of `inputs` in rank order, bit for bit.
    func matches<T: TensorScalar>(_ got: [T], _ inputs: [[T]], op: ReduceOp) -> Bool {
        for i in got.indices {
            var expected = inputs[0][i]
            for input in inputs.dropFirst() {
                expected = op == .sum ? expected + input[i] : Swift.max(expected, input[i])
            }
            if !sameBits(got[i], expected) { return false }
        }
        return true
    }

    func sameBits<T: TensorScalar>(_ a: T, _ b: T) -> Bool {
        a.sign == b.sign && a.exponentBitPattern == b.exponentBitPattern
            && a.significandBitPattern == b.significandBitPattern
    }

    /// Whether every rank holds the same bits as rank 0.
    func identicalAcrossRanks<T: TensorScalar>(_ values: [T]) throws -> Bool {
        var root = values
        try root.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: 0) }
        var differs: [Double] = [zip(root, values).allSatisfy { sameBits($0, $1) } ? 0 : 1]
        try differs.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .max) }
        return differs[0] == 0
    }

    mutating func allReduce<T: TensorScalar>(_: T.Type, count: Int, op: ReduceOp) throws {
        var buffer = input(T.self, rank: comm.rank, count: count)
        try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: op) }
        let inputs = (0..<comm.size).map { input(T.self, rank: $0, count: count) }
        let what = "allReduce(\(op.rawValue)) of \(count) \(T.dtypeName) at \(comm.size) ranks"
        report.expect(matches(buffer, inputs, op: op), "\(what): differs from the serial reduction")
        report.expect(try identicalAcrossRanks(buffer), "\(what): ranks hold different bits")
    }

    mutating func allGather<T: TensorScalar>(_: T.Type, count: Int) throws {
        let mine = input(T.self, rank: comm.rank, count: count)
        var gathered = [T](repeating: 0, count: comm.size * count)
        try mine.withUnsafeBufferPointer { mine in
            try gathered.withUnsafeMutableBufferPointer { try comm.allGather(mine, into: $0) }
        }
        let expected = (0..<comm.size).flatMap { input(T.self, rank: $0, count: count) }
        report.expect(gathered == expected, "allGather of \(count) \(T.dtypeName) per rank at \(comm.size) ranks")
    }

    mutating func reduceScatter<T: TensorScalar>(_: T.Type, count: Int) throws {
        let full = input(T.self, rank: comm.rank, count: comm.size * count)
        var block = [T](repeating: 0, count: count)
        try full.withUnsafeBufferPointer { full in
            try block.withUnsafeMutableBufferPointer { try comm.reduceScatter(full, into: $0, op: .sum) }
        }
        let mine = (comm.rank * count)..<((comm.rank + 1) * count)
        let inputs = (0..<comm.size).map { Array(input(T.self, rank: $0, count: comm.size * count)[mine]) }
        report.expect(matches(block, inputs, op: .sum),
                      "reduceScatter of \(count) \(T.dtypeName) per rank at \(comm.size) ranks, rank \(comm.rank)")
    }

    mutating func broadcast<T: TensorScalar>(_: T.Type, count: Int, root: Int) throws {
        var buffer = input(T.self, rank: comm.rank, count: count)
        try buffer.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: root) }
        report.expect(buffer == input(T.self, rank: root, count: count),
                      "broadcast of \(count) \(T.dtypeName) from root \(root) at \(comm.size) ranks")
    }

    /// Every tp × dp = size grid: each group's all-reduce of the world ranks sums its layout members.
    mutating func grids() throws {
        for tp in 1...comm.size where comm.size % tp == 0 {
            let grid = try ProcessGrid(world: comm, tensorParallel: tp, dataParallel: comm.size / tp)
            let layout = grid.layout
            var sums = [Double(comm.rank), Double(comm.rank)]
            try sums.withUnsafeMutableBufferPointer { s in
                try grid.tensorParallel.allReduce(UnsafeMutableBufferPointer(rebasing: s[0..<1]), op: .sum)
                try grid.dataParallel.allReduce(UnsafeMutableBufferPointer(rebasing: s[1..<2]), op: .sum)
            }
            let what = "grid tp \(tp) × dp \(comm.size / tp), world rank \(comm.rank)"
            report.expect(grid.tensorParallelRank == layout.tensorParallelRank(of: comm.rank)
                          && grid.dataParallelRank == layout.dataParallelRank(of: comm.rank),
                          "\(what): tp/dp ranks")
            report.expect(sums[0] == Double(layout.tensorParallelGroup(containing: comm.rank).reduce(0, +)),
                          "\(what): TP group members")
            report.expect(sums[1] == Double(layout.dataParallelGroup(containing: comm.rank).reduce(0, +)),
                          "\(what): DP group members")
        }
    }

    mutating func counters() throws {
        let before = comm.counters.tally(.allReduce, scope: "verify")
        var buffer = [Float](repeating: 1, count: 37)
        try comm.counters.withScope("verify") {
            for _ in 0..<2 { try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) } }
        }
        let after = comm.counters.tally(.allReduce, scope: "verify")
        report.expect(after.calls - before.calls == 2 && after.bytes - before.bytes == 2 * 37 * 4,
                      "counters: 2 all-reduces of 37 float32 in scope verify, counted \(after)")
    }

    /// The last rank passes one element fewer: every rank must get the mismatch, naming the sizes.
    mutating func mismatch() throws {
        guard comm.size > 1 else { return }
        var buffer = [Float](repeating: 1, count: comm.rank == comm.size - 1 ? 9 : 10)
        do {
            try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
            report.expect(false, "a mismatched allReduce (10 vs 9 elements) was not caught")
        } catch let CollectiveError.mismatch(_, _, calls) {
            report.expect(calls.map(\.count) == Array(repeating: 10, count: comm.size - 1) + [9],
                          "mismatch error names the sizes: got \(calls)")
        }
    }
}
