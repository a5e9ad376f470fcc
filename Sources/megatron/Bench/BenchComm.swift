import ArgumentParser
import Collectives
import Dispatch
import TensorCore
import Training

/// All-reduce bandwidth of the collective engines, next to what plain memory copies reach in
/// the same run: the in-process engine's all-reduce is memory traffic, so memcpy is its ceiling.
struct BenchComm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comm",
        abstract: "All-reduce GB/s (float32, sum) of the in-process or MPI engine beside memcpy GB/s.",
        discussion: """
            algbw = bytes / time, with bytes the size of the buffer each rank reduces; busbw = \
            algbw × 2(n−1)/n, the per-rank traffic of a ring all-reduce (nccl-tests' definitions), \
            comparable across rank counts. memcpy GB/s = bytes copied / time (one thread, and all \
            cores on disjoint halves). Times are medians. MPI: run under mpirun, e.g. \
            `mpirun -np 2 megatron bench comm --backend mpi`.
            """)

    @Option(help: "Engine: inprocess (rank threads) or mpi (under mpirun).")
    var backend: BackendOption = .inprocess

    @Option(help: "Rank counts for the in-process engine (MPI: the launched size).")
    var ranks: [Int] = [2, 4]

    @Option(help: "Buffer sizes in MiB.")
    var sizes: [Int] = [1, 2, 4, 8, 16, 32, 64]

    @Option(help: "Timed repetitions per size (the median is reported).")
    var repeats: Int = 5

    func validate() throws {
        for (name, values) in [("--ranks", ranks), ("--sizes", sizes)] {
            if values.isEmpty { throw ValidationError("\(name) needs at least one value") }
            if let bad = values.first(where: { $0 <= 0 }) {
                throw ValidationError("\(name) must be positive, got \(bad)")
            }
        }
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let definitions = "algbw = buffer bytes / time; busbw = algbw × 2(n−1)/n (nccl-tests); "
            + "memcpy = bytes copied / time"
        switch backend {
        case .inprocess:
            print(definitions)
            printMemcpy()
            for n in ranks {
                let timings = try InProcessWorld.run(worldSize: n) { try (measureAllReduce($0), measureLatency($0)) }
                printAllReduce(timings[0].0, latency: timings[0].1, engine: "inprocess", ranks: n)
            }
        case .mpi:
            let world = try MPIRuntime.world()
            if world.rank == 0 {
                print(definitions)
                printMemcpy()
            }
            try world.barrier()
            let timings = try measureAllReduce(world)
            let latency = try measureLatency(world)
            if world.rank == 0 { printAllReduce(timings, latency: latency, engine: "mpi", ranks: world.size) }
        }
    }

    /// Median seconds of one all-reduce at each size, as rank 0 sees it.
    func measureAllReduce(_ comm: any Communicator) throws -> [Double] {
        try sizes.map { mib in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: mib << 18)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 0)  // zeros: repeated sums neither overflow nor go subnormal
            let iterations = max(1, 64 / mib)
            try comm.allReduce(buffer, op: .sum)
            var times: [Double] = []
            for _ in 0..<repeats {
                try comm.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<iterations { try comm.allReduce(buffer, op: .sum) }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(iterations))
            }
            return times.sorted()[times.count / 2]
        }
    }

    /// Median seconds of an all-reduce of one float: the fixed cost every collective pays.
    func measureLatency(_ comm: any Communicator) throws -> Double {
        var value: [Float] = [1]
        let iterations = 1000
        var times: [Double] = []
        for _ in 0..<repeats {
            try comm.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations {
                try value.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .max) }
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(iterations))
        }
        return times.sorted()[times.count / 2]
    }

    func printMemcpy() {
        print("memcpy   MiB  1 thread GB/s  \(ComputeThreads.available) threads GB/s")
        for mib in sizes {
            let bytes = mib << 20
            let source = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            let target = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer {
                source.deallocate()
                target.deallocate()
            }
            source.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
            target.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            let iterations = max(1, 64 / mib)
            let single = medianSeconds(repeats: repeats) {
                for _ in 0..<iterations { target.copyMemory(from: source, byteCount: bytes) }
            } / Double(iterations)
            let all = medianSeconds(repeats: repeats) {
                for _ in 0..<iterations {
                    parallelChunks(bytes, grain: 1 << 16) { range in
                        (target + range.lowerBound).copyMemory(from: source + range.lowerBound, byteCount: range.count)
                    }
                }
            } / Double(iterations)
            print("       \(padded("\(mib)", 4))  \(padded(formatted(Double(bytes) / single / 1e9, 2), 13))  "
                  + padded(formatted(Double(bytes) / all / 1e9, 2), 14))
        }
    }

    func printAllReduce(_ seconds: [Double], latency: Double, engine: String, ranks n: Int) {
        print("allReduce \(engine), \(n) ranks: float32 sum; one float: \(formatted(latency * 1e6, 1)) µs")
        print("    MiB     time ms  algbw GB/s  busbw GB/s")
        for (mib, t) in zip(sizes, seconds) {
            let algbw = Double(mib << 20) / t / 1e9
            let busbw = algbw * 2 * Double(n - 1) / Double(n)
            print("   \(padded("\(mib)", 4))  \(padded(formatted(t * 1e3, 3), 10))  "
                  + "\(padded(formatted(algbw, 2), 10))  \(padded(formatted(busbw, 2), 10))")
        }
    }
}
