import CMPI
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// A group of ranks that are processes of an MPI job (`mpirun -np N megatron … --backend mpi`).
///
/// Before each collective the ranks exchange what they are about to call (a small
/// non-blocking all-gather, polled against the timeout), so a mismatched call or a rank that
/// never arrives throws the same errors the in-process engine does instead of hanging inside
/// MPI. A rank that dies ends the job: mpirun stops the other processes.
///
/// Reductions do not use MPI's own (whose summation order is the library's choice, and differs
/// between transports and rank counts): each rank receives its block of every rank's buffer
/// (all-to-all), sums them in rank order with the in-process engine's kernel, and the blocks
/// are gathered back (small buffers are gathered whole and reduced by every rank). The traffic is
/// a ring all-reduce's, 2(n−1)/n of the buffer per rank, and both engines give bit-identical
/// results, so a run trains to the same checkpoint under either.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    let handle: MPI_Comm
    let label: GroupLabel
    public let rank: Int
    public let size: Int
    public let counters: CommunicationCounters
    /// Seconds a rank waits in the call exchange for its peers; splits inherit it.
    public var timeout: Double
    private var sequence = 0
    /// Every rank's block of the buffer being reduced, grown to the largest reduction so far.
    private var received = UnsafeMutableRawPointer.allocate(byteCount: 0, alignment: 64)
    private var receivedBytes = 0
    private static let chunkBytes = 16 << 10
    /// All-reduces of up to this many elements gather whole buffers: a loss, a norm, a flag,
    /// where a round's latency outweighs the n-fold traffic.
    private static let gatheredReductionLimit = 1024
    /// `poll`'s waiting: busy while peers usually arrive, then sleeps of growing length.
    private static let spinNanoseconds: UInt64 = 50_000
    private static let firstNapNanoseconds = 10_000
    private static let longestNapNanoseconds = 250_000
    private let chunk = UnsafeMutableRawPointer.allocate(byteCount: MPICommunicator.chunkBytes, alignment: 64)
    /// A send's own copy of the buffer it reads, kept for later sends once MPI is done with it.
    private struct SendCopy {
        var pointer: UnsafeMutableRawPointer
        var capacity: Int
    }
    /// Sends not yet known to be complete, each with its copy.
    private var pendingSends: [(request: MPI_Request?, copy: SendCopy)] = []
    /// Copies of completed sends: a pipeline sends the same sizes every step, so after the first
    /// step a send allocates nothing.
    private var spareCopies: [SendCopy] = []

    init(handle: MPI_Comm, label: GroupLabel, timeout: Double, counters: CommunicationCounters) throws {
        self.handle = handle
        self.label = label
        self.timeout = timeout
        self.counters = counters
        var rank: Int32 = 0
        try MPIRuntime.check(MPI_Comm_rank(handle, &rank), "MPI_Comm_rank")
        self.rank = Int(rank)
        size = label.worldRanks.count
    }

    deinit {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        var comm: MPI_Comm? = handle
        if finalized == 0 {
            for i in pendingSends.indices { MPI_Wait(&pendingSends[i].request, cmpi_status_ignore()) }
            MPI_Comm_free(&comm)
        }
        for copy in pendingSends.map(\.copy) + spareCopies { copy.pointer.deallocate() }
        received.deallocate()
        chunk.deallocate()
    }

    public var name: String { label.name }
    /// The world ranks of this group's members, by group rank.
    public var worldRanks: [Int] { label.worldRanks }

    public func allReduce<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws {
        let call = CollectiveCall(op: .allReduce, reduce: op, dtype: T.dtypeName, count: buffer.count)
        let type = try datatype(T.self, call)
        let count = try int32(buffer.count, call)
        try agree(on: call)
        if size > 1 && buffer.count > 0 && buffer.count <= Self.gatheredReductionLimit {
            // Small: one round instead of two; every rank reduces the whole buffer, in rank order.
            let incoming = receiveBuffer(T.self, count: size * buffer.count)
            try MPIRuntime.check(
                MPI_Allgather(buffer.baseAddress, count, type, incoming, count, type, handle), "MPI_Allgather")
            reduceInRankOrder(incoming, count: buffer.count, op: op, into: buffer.baseAddress!)
        } else if size > 1 && buffer.count > 0 {
            let blocks = (0..<size).map { balancedBlock($0, of: buffer.count, parts: size) }
            let mine = blocks[rank]
            let counts = blocks.map { Int32($0.count) }, offsets = blocks.map { Int32($0.lowerBound) }
            let blocksOfMine = (0..<size).map { Int32($0 * mine.count) }
            let incoming = receiveBuffer(T.self, count: size * mine.count)
            try MPIRuntime.check(
                MPI_Alltoallv(buffer.baseAddress, counts, offsets, type, incoming,
                              Array(repeating: Int32(mine.count), count: size), blocksOfMine, type, handle),
                "MPI_Alltoallv")
            reduceInRankOrder(incoming, count: mine.count, op: op, into: buffer.baseAddress! + mine.lowerBound)
            try MPIRuntime.check(
                MPI_Allgatherv(UnsafeRawPointer(cmpi_in_place()), 0, type, buffer.baseAddress, counts, offsets,
                               type, handle),
                "MPI_Allgatherv")
        }
        counters.record(.allReduce, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    public func allGather<T: TensorScalar>(
        _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>
    ) throws {
        let call = CollectiveCall(op: .allGather, dtype: T.dtypeName, count: input.count)
        guard output.count == size * input.count else {
            throw invalid(call, "output holds \(output.count) elements; it needs size × input = \(size) × \(input.count)")
        }
        let type = try datatype(T.self, call)
        let count = try int32(input.count, call)
        try agree(on: call)
        // MPI forbids overlapping buffers; an input that is this rank's own block is MPI_IN_PLACE.
        let own = output.baseAddress.map { UnsafePointer($0 + rank * input.count) }
        let send = input.count > 0 && own == input.baseAddress
            ? UnsafeRawPointer(cmpi_in_place()) : UnsafeRawPointer(input.baseAddress)
        try MPIRuntime.check(
            MPI_Allgather(send, count, type, output.baseAddress, count, type, handle), "MPI_Allgather")
        counters.record(.allGather, group: name, elements: output.count, elementSize: MemoryLayout<T>.stride)
    }

    public func reduceScatter<T: TensorScalar>(
        _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>, op: ReduceOp
    ) throws {
        let call = CollectiveCall(op: .reduceScatter, reduce: op, dtype: T.dtypeName, count: output.count)
        guard input.count == size * output.count else {
            throw invalid(call, "input holds \(input.count) elements; it needs size × output = \(size) × \(output.count)")
        }
        let type = try datatype(T.self, call)
        let count = try int32(output.count, call)
        try agree(on: call)
        if size > 1 && output.count > 0 {
            let incoming = receiveBuffer(T.self, count: input.count)
            try MPIRuntime.check(
                MPI_Alltoall(input.baseAddress, count, type, incoming, count, type, handle), "MPI_Alltoall")
            reduceInRankOrder(incoming, count: output.count, op: op, into: output.baseAddress!)
        } else if size == 1 && output.count > 0 && UnsafePointer(output.baseAddress!) != input.baseAddress! {
            output.baseAddress!.update(from: input.baseAddress!, count: output.count)
        }
        counters.record(.reduceScatter, group: name, elements: input.count, elementSize: MemoryLayout<T>.stride)
    }

    public func broadcast<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        let call = CollectiveCall(op: .broadcast, dtype: T.dtypeName, count: buffer.count, root: root)
        guard (0..<size).contains(root) else {
            throw invalid(call, "root \(root) is not a rank of this group of \(size)")
        }
        let type = try datatype(T.self, call)
        let count = try int32(buffer.count, call)
        try agree(on: call)
        try MPIRuntime.check(MPI_Bcast(buffer.baseAddress, count, type, Int32(root), handle), "MPI_Bcast")
        counters.record(.broadcast, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    /// A non-blocking send of a copy of `buffer`, so the caller may reuse it at once and a
    /// pipeline schedule cannot deadlock on large messages; completed sends are reaped here.
    public func send<T: TensorScalar>(_ buffer: UnsafeBufferPointer<T>, to peer: Int) throws {
        let (_, type, count) = try pointToPoint(.send, T.self, count: buffer.count, peer: peer)
        try reapCompletedSends()
        let bytes = buffer.count * MemoryLayout<T>.stride
        let copy = sendCopy(bytes: bytes)
        if bytes > 0 { copy.pointer.copyMemory(from: buffer.baseAddress!, byteCount: bytes) }
        var request: MPI_Request?
        let status = MPI_Isend(copy.pointer, count, type, Int32(peer), 0, handle, &request)
        guard status == cmpi_success() else {
            spareCopies.append(copy)
            try MPIRuntime.check(status, "MPI_Isend")
            return
        }
        pendingSends.append((request, copy))
        counters.record(.send, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    /// Polls a non-blocking receive against the timeout, like the call exchange, so a peer that
    /// never sends ends in a timeout rather than a hang.
    public func recv<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, from peer: Int) throws {
        let (call, type, count) = try pointToPoint(.recv, T.self, count: buffer.count, peer: peer)
        var request: MPI_Request?
        try MPIRuntime.check(MPI_Irecv(buffer.baseAddress, count, type, Int32(peer), 0, handle, &request), "MPI_Irecv")
        var status = MPI_Status()
        try poll(&request, status: &status, call: call, missing: [peer])
        var received: Int32 = 0
        try MPIRuntime.check(MPI_Get_count(&status, type, &received), "MPI_Get_count")
        guard received == count else {
            throw invalid(call, "rank \(peer) sent \(received) elements; a receive must match its send")
        }
        counters.record(.recv, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    /// The call a send or receive of `count` elements with `peer` makes, its MPI type and count;
    /// throws unless `peer` is another rank of the group and the count fits MPI's.
    private func pointToPoint<T: TensorScalar>(_ op: CollectiveOp, _: T.Type, count: Int, peer: Int) throws
        -> (CollectiveCall, MPI_Datatype, Int32) {
        let call = CollectiveCall(op: op, dtype: T.dtypeName, count: count, root: peer)
        guard (0..<size).contains(peer), peer != rank else {
            throw invalid(call, "peer \(peer) is not another rank of this group of \(size)")
        }
        return (call, try datatype(T.self, call), try int32(count, call))
    }

    /// Moves the copies of completed sends to the spares.
    private func reapCompletedSends() throws {
        var i = 0
        while i < pendingSends.count {
            var done: Int32 = 0
            try MPIRuntime.check(MPI_Test(&pendingSends[i].request, &done, cmpi_status_ignore()), "MPI_Test")
            if done != 0 {
                spareCopies.append(pendingSends.remove(at: i).copy)
            } else {
                i += 1
            }
        }
    }

    /// A spare copy of at least `bytes`, or a new one.
    private func sendCopy(bytes: Int) -> SendCopy {
        if let i = spareCopies.firstIndex(where: { $0.capacity >= bytes }) { return spareCopies.remove(at: i) }
        let capacity = max(bytes, 1)
        return SendCopy(pointer: UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64), capacity: capacity)
    }

    public func barrier() throws {
        try agree(on: CollectiveCall(op: .barrier))
        counters.record(.barrier, group: name, elements: 0, elementSize: 0)
    }

    public func split(color: Int, key: Int, name: String) throws -> any Communicator {
        try splitGroup(color: color, key: key, name: name)
    }

    /// `split` with the concrete type.
    public func splitGroup(color: Int, key: Int, name: String) throws -> MPICommunicator {
        try agree(on: CollectiveCall(op: .split))
        var child = cmpi_comm_null()
        try MPIRuntime.check(MPI_Comm_split(handle, Int32(color), Int32(key), &child), "MPI_Comm_split")
        var childSize: Int32 = 0
        try MPIRuntime.check(MPI_Comm_size(child, &childSize), "MPI_Comm_size")
        var myWorldRank = Int64(label.worldRanks[rank])
        var worldRanks = [Int64](repeating: 0, count: Int(childSize))
        try MPIRuntime.check(
            MPI_Allgather(&myWorldRank, 1, cmpi_int64(), &worldRanks, 1, cmpi_int64(), child), "MPI_Allgather")
        counters.record(.split, group: self.name, elements: 0, elementSize: 0)
        return try MPICommunicator(
            handle: child!, label: GroupLabel(name: name, worldRanks: worldRanks.map { Int($0) }),
            timeout: timeout, counters: counters)
    }

    /// Exchanges every rank's call and throws unless all agree. Polls a non-blocking all-gather
    /// so that a rank that never arrives ends in a timeout rather than a hang.
    private func agree(on call: CollectiveCall) throws {
        sequence += 1
        var mine = CallCode(call).fields
        var all = [Int64](repeating: 0, count: CallCode.width * size)
        var request: MPI_Request?
        try MPIRuntime.check(
            MPI_Iallgather(&mine, Int32(CallCode.width), cmpi_int64(), &all, Int32(CallCode.width),
                           cmpi_int64(), handle, &request),
            "MPI_Iallgather")
        try poll(&request, call: call, missing: [])
        let calls = (0..<size).map { r in
            CallCode(fields: Array(all[(r * CallCode.width)..<((r + 1) * CallCode.width)])).call
        }
        if calls.contains(where: { $0 != calls[0] }) {
            throw CollectiveError.mismatch(group: label, sequence: sequence, calls: calls)
        }
    }

    /// Tests `request` until it completes: busy for a few microseconds, then between sleeps that
    /// double up to a quarter millisecond, because a `sched_yield` loop hands whole time slices
    /// to whatever else shares the cores. Throws a timeout naming `missing` (group ranks) once
    /// the communicator's timeout passes.
    private func poll(_ request: inout MPI_Request?, call: CollectiveCall, missing: [Int]) throws {
        var status = MPI_Status()
        try poll(&request, status: &status, call: call, missing: missing)
    }

    private func poll(_ request: inout MPI_Request?, status: inout MPI_Status, call: CollectiveCall,
                      missing: [Int]) throws {
        let deadline = monotonicDeadline(after: timeout)
        let spinUntil = StepProfiler.now() + Self.spinNanoseconds
        var nap = Self.firstNapNanoseconds
        while true {
            var done: Int32 = 0
            try MPIRuntime.check(MPI_Test(&request, &done, &status), "MPI_Test")
            if done != 0 { return }
            if StepProfiler.now() < spinUntil { continue }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if (now.tv_sec, now.tv_nsec) >= (deadline.tv_sec, deadline.tv_nsec) {
                throw CollectiveError.timeout(group: label, sequence: sequence, call: call,
                                              seconds: timeout, waiting: [rank], missing: missing)
            }
            var pause = timespec(tv_sec: 0, tv_nsec: Int(nap))
            nanosleep(&pause, nil)
            nap = min(nap * 2, Self.longestNapNanoseconds)
        }
    }

    /// Room for `count` elements received from the peers, kept for the next reduction.
    private func receiveBuffer<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = count * MemoryLayout<T>.stride
        if bytes > receivedBytes {
            received.deallocate()
            received = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            receivedBytes = bytes
        }
        return received.bindMemory(to: T.self, capacity: count)
    }

    /// Sums (or maxes) the `size` consecutive blocks of `count` elements in `incoming`, rank 0's
    /// first, into `target`: the in-process engine's order and kernel.
    private func reduceInRankOrder<T: TensorScalar>(
        _ incoming: UnsafeMutablePointer<T>, count: Int, op: ReduceOp, into target: UnsafeMutablePointer<T>
    ) {
        guard count > 0 else { return }
        reduceElementwise((0..<size).map { UnsafePointer(incoming + $0 * count) }, count: count, op: op,
                          into: [target], scratch: chunk, scratchBytes: Self.chunkBytes)
    }

    private func invalid(_ call: CollectiveCall, _ reason: String) -> CollectiveError {
        .invalidArguments(group: label, rank: rank, call: call, reason: reason)
    }

    private func datatype<T: TensorScalar>(_: T.Type, _ call: CollectiveCall) throws -> MPI_Datatype {
        if T.self == Float.self { return cmpi_float() }
        if T.self == Double.self { return cmpi_double() }
        throw CollectiveError.unsupportedType(dtype: T.dtypeName, engine: "MPI")
    }

    private func int32(_ count: Int, _ call: CollectiveCall) throws -> Int32 {
        guard let value = Int32(exactly: count) else {
            throw invalid(call, "\(count) elements exceed MPI's Int32 count; split the buffer")
        }
        return value
    }
}

/// A `CollectiveCall` as the integers the MPI engine's call exchange sends.
private struct CallCode {
    static let width = 5
    let fields: [Int64]

    init(fields: [Int64]) { self.fields = fields }

    init(_ call: CollectiveCall) {
        fields = [
            Int64(CollectiveOp.allCases.firstIndex(of: call.op)!),
            call.reduce.map { Int64(ReduceOp.allCases.firstIndex(of: $0)!) } ?? -1,
            Int64(["", Float.dtypeName, Double.dtypeName].firstIndex(of: call.dtype) ?? 3),
            Int64(call.count),
            call.root.map(Int64.init) ?? -1,
        ]
    }

    var call: CollectiveCall {
        let dtypes = ["", Float.dtypeName, Double.dtypeName, "other"]
        return CollectiveCall(
            op: CollectiveOp.allCases[Int(fields[0])],
            reduce: fields[1] < 0 ? nil : ReduceOp.allCases[Int(fields[1])],
            dtype: dtypes[Int(fields[2])],
            count: Int(fields[3]),
            root: fields[4] < 0 ? nil : Int(fields[4]))
    }
}
