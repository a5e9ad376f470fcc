import Synchronization
import TensorCore

/// The shared state of one group of an in-process world: a rendezvous that every collective
/// passes through, where the ranks post their calls and buffers, the last to arrive checks that
/// all calls agree and publishes them, and the others wait (with a deadline) for that.
///
/// A waiting rank first watches the generation for a few microseconds, when every rank has a
/// core of its own, then sleeps on the condition until the last arrival's broadcast. It never
/// yields the processor in a loop: beside other work each `sched_yield` can hand a whole time
/// slice to another process, and with more ranks than cores a spinning rank only delays the
/// peer it waits for.
final class InProcessGroup: @unchecked Sendable {
    /// One rank's posting: its call and the buffers its peers read or write during the collective.
    struct Posting {
        var call: CollectiveCall
        var input: UnsafeRawPointer?
        var output: UnsafeMutableRawPointer?
        var color = 0
        var key = 0
        var name = ""
    }

    /// What the last rank to arrive publishes for everyone.
    struct Outcome {
        var postings: [Posting]
        var error: CollectiveError?
        /// For a split: the new group of each color.
        var groups: [Int: InProcessGroup]
    }

    let fabric: InProcessFabric
    let label: GroupLabel
    let condition = MonitorLock.Condition()
    /// Point-to-point messages between the group's ranks.
    let mailbox = InProcessMailbox()
    var size: Int { label.worldRanks.count }

    /// How long a waiting rank watches for the last arrival before it sleeps, when the ranks fit
    /// the cores: peers usually arrive within microseconds, and a wake-up costs tens of them.
    static let spinNanoseconds: UInt64 = 50_000

    /// Written under `fabric.lock`; read without it only by the spin before sleeping.
    private let generation = Atomic<Int>(0)
    /// Guarded by `fabric.lock`, as are the two below.
    private var pending: [Posting?]
    private var arrived = 0
    /// Valid from the end of one rendezvous until every rank has arrived at the next.
    private var published = Outcome(postings: [], error: nil, groups: [:])

    init(fabric: InProcessFabric, label: GroupLabel) {
        self.fabric = fabric
        self.label = label
        pending = Array(repeating: nil, count: label.worldRanks.count)
    }

    /// Posts `posting` as group rank `rank` and returns every rank's posting once all have
    /// arrived. Throws the mismatch if the calls disagree, a timeout naming the absent ranks,
    /// or the world's failure.
    ///
    /// `departing`: the rendezvous that ends a collective, after which the peers stop touching
    /// this rank's buffers. It ignores the world's failure, since every peer is already past
    /// the arrival and only copying, so it will come; leaving early would let the caller free
    /// a buffer a peer is still reading.
    func rendezvous(rank: Int, posting: Posting, sequence: Int, departing: Bool = false) throws -> Outcome {
        let lock = fabric.lock
        lock.lock()
        defer { lock.unlock() }
        if !departing, let failure = fabric.failure { throw failure }
        let deadline = monotonicDeadline(after: fabric.timeout)
        let entered = generation.load(ordering: .relaxed)
        pending[rank] = posting
        arrived += 1
        if arrived == size {
            publishLocked(sequence: sequence)
            condition.broadcast()
            return try publishedOutcome()
        }
        if fabric.ranksFitCores {
            lock.unlock()
            let until = StepProfiler.now() + Self.spinNanoseconds
            while generation.load(ordering: .acquiring) == entered && StepProfiler.now() < until {}
            lock.lock()
        }
        while generation.load(ordering: .relaxed) == entered {
            if !departing, let failure = fabric.failure { throw failure }
            if !departing, pending.indices.contains(where: { pending[$0] == nil && fabric.finished[label.worldRanks[$0]] }) {
                let gone = pending.indices.filter { pending[$0] == nil && fabric.finished[label.worldRanks[$0]] }
                let error = CollectiveError.ranksFinished(
                    group: label, sequence: sequence, call: posting.call, ranks: gone)
                fabric.poisonLocked(error)
                throw error
            }
            if !condition.wait(on: lock, until: deadline) && generation.load(ordering: .relaxed) == entered {
                let error = CollectiveError.timeout(
                    group: label, sequence: sequence, call: posting.call, seconds: fabric.timeout,
                    waiting: pending.indices.filter { pending[$0] != nil },
                    missing: pending.indices.filter { pending[$0] == nil })
                fabric.poisonLocked(error)
                throw error
            }
        }
        return try publishedOutcome()
    }

    /// The outcome the last arrival published, or its error. Call with `fabric.lock` held.
    private func publishedOutcome() throws -> Outcome {
        if let error = published.error { throw error }
        return published
    }

    /// Checks the calls, builds the split's groups, and opens the next generation.
    private func publishLocked(sequence: Int) {
        let postings = pending.map { $0! }
        var outcome = Outcome(postings: postings, error: nil, groups: [:])
        let calls = postings.map(\.call)
        if calls.contains(where: { $0 != calls[0] }) {
            outcome.error = .mismatch(group: label, sequence: sequence, calls: calls)
        } else if calls[0].op == .split {
            for color in Set(postings.map(\.color)).sorted() {
                let members = postings.indices.filter { postings[$0].color == color }
                    .sorted { (postings[$0].key, $0) < (postings[$1].key, $1) }
                let group = InProcessGroup(
                    fabric: fabric,
                    label: GroupLabel(name: postings[members[0]].name,
                                      worldRanks: members.map { label.worldRanks[$0] }))
                fabric.registerLocked(group)
                outcome.groups[color] = group
            }
        }
        published = outcome
        pending = Array(repeating: nil, count: size)
        arrived = 0
        generation.add(1, ordering: .releasing)
    }
}
