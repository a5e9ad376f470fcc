#if canImport(Glibc)
import Glibc
#endif

/// Calls and volume of one kind of collective.
public struct CollectiveTally: Sendable, Equatable {
    public var calls: Int
    /// Elements of the logical tensor the op moves: allReduce and broadcast the buffer,
    /// allGather the gathered output, reduceScatter the unreduced input.
    public var elements: Int
    /// `elements` × the element size.
    public var bytes: Int

    public init(calls: Int = 0, elements: Int = 0, bytes: Int = 0) {
        self.calls = calls
        self.elements = elements
        self.bytes = bytes
    }

    public static func + (a: CollectiveTally, b: CollectiveTally) -> CollectiveTally {
        CollectiveTally(calls: a.calls + b.calls, elements: a.elements + b.elements, bytes: a.bytes + b.bytes)
    }
}

/// A rank's collective counts, attributed to the scope the caller was in (`layer0/mlp`) and
/// the group that ran them (`tp`, `dp`), so tests can assert per-layer communication.
///
/// Scopes nest: `withScope("layer0") { withScope("mlp") { … } }` records under `layer0/mlp`.
/// One instance serves all communicators of a rank (a split shares its parent's).
public final class CommunicationCounters: @unchecked Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public let scope: String
        public let group: String
        public let op: CollectiveOp

        public static func < (a: Key, b: Key) -> Bool {
            (a.scope, a.group, a.op) < (b.scope, b.group, b.op)
        }
    }

    private var mutex = pthread_mutex_t()
    private var scopes: [String] = []
    private var table: [Key: CollectiveTally] = [:]

    public init() {
        pthread_mutex_init(&mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
    }

    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// The scopes entered so far, joined by "/" ("" at top level).
    public var currentScope: String {
        locked { scopes.joined(separator: "/") }
    }

    /// Runs `body` with `label` pushed on the scope stack.
    public func withScope<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
        locked { scopes.append(label) }
        defer { locked { _ = scopes.removeLast() } }
        return try body()
    }

    /// Adds one completed collective of `elements` × `elementSize` bytes under the current scope.
    public func record(_ op: CollectiveOp, group: String, elements: Int, elementSize: Int) {
        locked {
            let key = Key(scope: scopes.joined(separator: "/"), group: group, op: op)
            table[key, default: CollectiveTally()] =
                table[key, default: CollectiveTally()]
                + CollectiveTally(calls: 1, elements: elements, bytes: elements * elementSize)
        }
    }

    /// The total of `op` recorded in `scope` and (when `nested`) the scopes inside it, over
    /// `group` or every group. `scope` nil counts everything.
    public func tally(_ op: CollectiveOp, scope: String? = nil, nested: Bool = true,
                      group: String? = nil) -> CollectiveTally {
        locked {
            table.reduce(CollectiveTally()) { total, entry in
                let key = entry.key
                guard key.op == op, group == nil || key.group == group else { return total }
                if let scope {
                    let inside = key.scope == scope
                        || (nested && (scope.isEmpty || key.scope.hasPrefix(scope + "/")))
                    guard inside else { return total }
                }
                return total + entry.value
            }
        }
    }

    /// Every (scope, group, op) recorded, sorted.
    public var entries: [(key: Key, tally: CollectiveTally)] {
        locked { table.sorted { $0.key < $1.key }.map { (key: $0.key, tally: $0.value) } }
    }

    public func reset() {
        locked { table.removeAll() }
    }

    /// One line per (scope, group, op): calls, elements, MiB.
    public var report: String {
        var lines = ["scope                            group   op             calls       elements        MiB"]
        for (key, tally) in entries {
            let scope = key.scope.isEmpty ? "(top)" : key.scope
            let mib = Double(tally.bytes) / 1_048_576
            lines.append(
                pad(scope, 32, left: true) + " " + pad(key.group, 6, left: true) + "  "
                + pad(key.op.rawValue, 13, left: true) + " " + pad("\(tally.calls)", 6) + " "
                + pad("\(tally.elements)", 14) + " " + pad("\((mib * 100).rounded() / 100)", 10))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        guard s.count < width else { return s }
        let fill = String(repeating: " ", count: width - s.count)
        return left ? s + fill : fill + s
    }
}
