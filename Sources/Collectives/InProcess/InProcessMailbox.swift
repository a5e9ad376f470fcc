import TensorCore

/// The point-to-point messages in flight inside one in-process group: a queue per (sender,
/// receiver) pair, each message a copy of the sender's buffer, so a send never waits and the
/// sender may reuse its buffer at once. Guarded by the fabric's lock; a receiver waits on the
/// group's condition, which a send, a failure and a finishing rank all broadcast.
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

    /// Queues `message` from group rank `from` to `to`. Call with the fabric's lock held.
    func postLocked(_ message: Message, from: Int, to: Int) {
        queues[Route(from: from, to: to), default: []].append(message)
    }

    /// The oldest message from `from` to `to`, removed from its queue; nil when none waits.
    /// Call with the fabric's lock held.
    func takeLocked(from: Int, to: Int) -> Message? {
        let route = Route(from: from, to: to)
        guard var queue = queues[route], !queue.isEmpty else { return nil }
        let message = queue.removeFirst()
        queues[route] = queue
        return message
    }
}

extension InProcessGroup {
    /// Queues a copy of `bytes` for group rank `to` and wakes its receiver.
    func send(from: Int, to: Int, call: CollectiveCall, bytes: UnsafeRawBufferPointer) throws {
        let lock = fabric.lock
        lock.lock()
        defer { lock.unlock() }
        if let failure = fabric.failure { throw failure }
        mailbox.postLocked(.init(call: call, bytes: Array(bytes)), from: from, to: to)
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
}
