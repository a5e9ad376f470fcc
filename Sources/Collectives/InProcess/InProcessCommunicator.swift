import TensorCore

/// A rank of an in-process world: collectives run through shared memory between the rank
/// threads of one process.
///
/// Each collective is two rendezvous: at the first every rank posts its call and buffers and
/// the calls are checked against each other; then each rank does its share of the copying or
/// reducing straight from its peers' buffers; at the second every rank has finished, so no
/// buffer is reused while a peer still reads it. An all-reduce is a reduce-scatter and an
/// all-gather at once: rank r reduces block r of every buffer, in rank order, and writes the
/// result into block r of every buffer, so all ranks' cores share the work and every rank
/// ends with the same bits.
public final class InProcessCommunicator: Communicator, @unchecked Sendable {
    let group: InProcessGroup
    public let rank: Int
    public let counters: CommunicationCounters
    /// Collectives issued on this group so far, the number errors cite.
    private var sequence = 0
    private static let scratchBytes = 16 << 10
    private let scratch = UnsafeMutableRawPointer.allocate(
        byteCount: InProcessCommunicator.scratchBytes, alignment: 64)

    init(group: InProcessGroup, rank: Int, counters: CommunicationCounters) {
        self.group = group
        self.rank = rank
        self.counters = counters
    }

    deinit {
        scratch.deallocate()
    }

    public var size: Int { group.size }
    public var name: String { group.label.name }
    /// The world ranks of this group's members, by group rank.
    public var worldRanks: [Int] { group.label.worldRanks }

    /// Every rank's posting once all have posted `posting`.
    private func arrive(_ posting: InProcessGroup.Posting) throws -> [InProcessGroup.Posting] {
        try group.rendezvous(rank: rank, posting: posting, sequence: sequence).postings
    }

    /// Waits until every rank has finished its part of `call`.
    private func depart(_ call: CollectiveCall) throws {
        _ = try group.rendezvous(rank: rank, posting: .init(call: call), sequence: sequence, departing: true)
    }

    private func invalid(_ call: CollectiveCall, _ reason: String) -> CollectiveError {
        .invalidArguments(group: group.label, rank: rank, call: call, reason: reason)
    }

    public func allReduce<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws {
        let call = CollectiveCall(op: .allReduce, reduce: op, dtype: T.dtypeName, count: buffer.count)
        sequence += 1
        if size > 1 {
            let postings = try arrive(.init(call: call, output: UnsafeMutableRawPointer(buffer.baseAddress)))
            let mine = balancedBlock(rank, of: buffer.count, parts: size)
            if !mine.isEmpty {
                let buffers = postings.map { $0.output!.assumingMemoryBound(to: T.self) + mine.lowerBound }
                reduceElementwise(buffers.map { UnsafePointer($0) }, count: mine.count, op: op,
                                  into: buffers, scratch: scratch, scratchBytes: Self.scratchBytes)
            }
            try depart(call)
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
        sequence += 1
        if size > 1 {
            let postings = try arrive(.init(call: call, input: UnsafeRawPointer(input.baseAddress)))
            for (r, posting) in postings.enumerated() where input.count > 0 {
                let source = posting.input!.assumingMemoryBound(to: T.self)
                let target = output.baseAddress! + r * input.count
                if UnsafePointer(target) != source { target.update(from: source, count: input.count) }
            }
            try depart(call)
        } else if input.count > 0 && UnsafePointer(output.baseAddress!) != input.baseAddress! {
            output.baseAddress!.update(from: input.baseAddress!, count: input.count)
        }
        counters.record(.allGather, group: name, elements: output.count, elementSize: MemoryLayout<T>.stride)
    }

    public func reduceScatter<T: TensorScalar>(
        _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>, op: ReduceOp
    ) throws {
        let call = CollectiveCall(op: .reduceScatter, reduce: op, dtype: T.dtypeName, count: output.count)
        guard input.count == size * output.count else {
            throw invalid(call, "input holds \(input.count) elements; it needs size × output = \(size) × \(output.count)")
        }
        sequence += 1
        if size > 1 {
            let postings = try arrive(.init(call: call, input: UnsafeRawPointer(input.baseAddress)))
            if output.count > 0 {
                let blocks = postings.map {
                    $0.input!.assumingMemoryBound(to: T.self) + rank * output.count
                }
                reduceElementwise(blocks, count: output.count, op: op, into: [output.baseAddress!],
                                  scratch: scratch, scratchBytes: Self.scratchBytes)
            }
            try depart(call)
        } else if output.count > 0 && UnsafePointer(output.baseAddress!) != input.baseAddress! {
            output.baseAddress!.update(from: input.baseAddress!, count: output.count)
        }
        counters.record(.reduceScatter, group: name, elements: input.count, elementSize: MemoryLayout<T>.stride)
    }

    public func broadcast<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        let call = CollectiveCall(op: .broadcast, dtype: T.dtypeName, count: buffer.count, root: root)
        guard (0..<size).contains(root) else {
            throw invalid(call, "root \(root) is not a rank of this group of \(size)")
        }
        sequence += 1
        if size > 1 {
            let postings = try arrive(.init(call: call, output: UnsafeMutableRawPointer(buffer.baseAddress)))
            if rank != root && buffer.count > 0 {
                let source = postings[root].output!.assumingMemoryBound(to: T.self)
                buffer.baseAddress!.update(from: source, count: buffer.count)
            }
            try depart(call)
        }
        counters.record(.broadcast, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    public func barrier() throws {
        sequence += 1
        if size > 1 { _ = try arrive(.init(call: CollectiveCall(op: .barrier))) }
        counters.record(.barrier, group: name, elements: 0, elementSize: 0)
    }

    public func send<T: TensorScalar>(_ buffer: UnsafeBufferPointer<T>, to peer: Int) throws {
        let call = CollectiveCall(op: .send, dtype: T.dtypeName, count: buffer.count, root: peer)
        guard (0..<size).contains(peer), peer != rank else {
            throw invalid(call, "peer \(peer) is not another rank of this group of \(size)")
        }
        try group.send(from: rank, to: peer, call: call, bytes: UnsafeRawBufferPointer(buffer))
        counters.record(.send, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    public func recv<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>, from peer: Int) throws {
        let call = CollectiveCall(op: .recv, dtype: T.dtypeName, count: buffer.count, root: peer)
        guard (0..<size).contains(peer), peer != rank else {
            throw invalid(call, "peer \(peer) is not another rank of this group of \(size)")
        }
        let message = try group.receive(from: peer, to: rank, call: call, sequence: sequence)
        guard message.call.dtype == call.dtype, message.call.count == call.count else {
            throw invalid(call, "the message rank \(peer) sent is \(message.call); a receive must match its send")
        }
        message.bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
        group.recycle(message, from: peer, to: rank)
        counters.record(.recv, group: name, elements: buffer.count, elementSize: MemoryLayout<T>.stride)
    }

    public func split(color: Int, key: Int, name: String) throws -> any Communicator {
        try splitGroup(color: color, key: key, name: name)
    }

    /// `split` with the concrete type, for callers that want to stay in-process.
    public func splitGroup(color: Int, key: Int, name: String) throws -> InProcessCommunicator {
        sequence += 1
        let posting = InProcessGroup.Posting(call: CollectiveCall(op: .split), color: color, key: key, name: name)
        let outcome = try group.rendezvous(rank: rank, posting: posting, sequence: sequence)
        let child = outcome.groups[color]!
        let myWorldRank = group.label.worldRanks[rank]
        counters.record(.split, group: self.name, elements: 0, elementSize: 0)
        return InProcessCommunicator(
            group: child, rank: child.label.worldRanks.firstIndex(of: myWorldRank)!, counters: counters)
    }
}
