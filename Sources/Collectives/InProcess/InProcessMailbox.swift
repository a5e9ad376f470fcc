import TensorCore

/// The point-to-point messages in flight inside one in-process group: a queue per (sender,
/// receiver) pair, each message a copy of the sender's buffer, so a send never waits and the
/// sender may reuse its buffer at once. A received message's storage goes back to its route and
/// carries the next message, so a pipeline's steady steps allocate nothing. Guarded by the
/// fabric's lock; a receiver waits on the group's condition, which a send, a failure and a
/// finishing rank all broadcast.
final class InProcessMailbox: @unchecked Sendable {
    struct Message {
        var call: CollectiveCall
        var bytes: [UInt8]
    }

    private struct Route: Hashable {
        var from: Int
        var to: Int
    }

    private var queues: [Route: [Message]] = [:]
    private var spares: [Route: [[UInt8]]] = [:]

    /// Queues a copy of `bytes` from group rank `from` to `to`, in a received message's storage
    /// when the route has one. Call with the fabric's lock held.
    func postLocked(call: CollectiveCall, bytes: UnsafeRawBufferPointer, from: Int, to: Int) {
        let route = Route(from: from, to: to)
        var storage = spares[route]?.popLast() ?? []
        storage.removeAll(keepingCapacity: true)
        storage.append(contentsOf: bytes)
        queues[route, default: []].append(Message(call: call, bytes: storage))
    }

    /// The oldest message from `from` to `to`, removed from its queue; nil when none waits.
    /// Call with the fabric's lock held.
    func takeLocked(from: Int, to: Int) -> Message? {
        let route = Route(from: from, to: to)
        guard queues[route]?.isEmpty == false else { return nil }
        return queues[route]!.removeFirst()
    }

    /// Keeps a received message's storage for the route's next message. Call with the lock held.
    func recycleLocked(_ storage: [UInt8], from: Int, to: Int) {
        spares[Route(from: from, to: to), default: []].append(storage)
    }
}

extension InProcessGroup {
    /// Queues a copy of `bytes` for group rank `to` and wakes its receiver.
    func send(from: Int, to: Int, call: CollectiveCall, bytes: UnsafeRawBufferPointer) throws {
        let lock = fabric.lock
        lock.lock()
        defer { lock.unlock() }
        if let failure = fabric.failure { throw failure }
        mailbox.postLocked(call: call, bytes: bytes, from: from, to: to)
        condition.broadcast()
    }

    /// Waits for the next message from group rank `from` to `to` and returns it. Throws the
    /// world's failure, `ranksFinished` when the sender returned without sending, or a timeout
    /// naming it.
    func receive(from: Int, to: Int, call: CollectiveCall, sequence: Int) throws -> InProcessMailbox.Message {
        let lock = fabric.lock
        lock.lock()
        defer { lock.unlock() }
        let deadline = monotonicDeadline(after: fabric.timeout)
        while true {
            if let message = mailbox.takeLocked(from: from, to: to) { return message }
            if let failure = fabric.failure { throw failure }
            if fabric.finished[label.worldRanks[from]] {
                let error = CollectiveError.ranksFinished(group: label, sequence: sequence, call: call, ranks: [from])
                fabric.poisonLocked(error)
                throw error
            }
            if !condition.wait(on: lock, until: deadline) {
                if let message = mailbox.takeLocked(from: from, to: to) { return message }
                let error = CollectiveError.timeout(group: label, sequence: sequence, call: call,
                                                    seconds: fabric.timeout, waiting: [to], missing: [from])
                fabric.poisonLocked(error)
                throw error
            }
        }
    }

    /// Hands a received message's storage back to its route.
    func recycle(_ message: InProcessMailbox.Message, from: Int, to: Int) {
        let lock = fabric.lock
        lock.lock()
        defer { lock.unlock() }
        mailbox.recycleLocked(message.bytes, from: from, to: to)
    }
}
