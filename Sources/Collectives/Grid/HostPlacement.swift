#if canImport(Glibc)
import Glibc
#endif

/// Which host each rank of the grid runs on. Megatron keeps a tensor-parallel group within one
/// host: its two all-reduces per layer, forward and backward, are on the critical path and need
/// the host's fast links, while data parallelism's one gradient all-reduce per step can cross
/// hosts. With contiguous tensor-parallel ranks that holds when each host's slots are a multiple
/// of tp and ranks fill a host before the next (`mpirun --map-by slot`, the default).
public struct HostPlacement: Sendable, Equatable {
    public let layout: GridLayout
    /// The host of each world rank.
    public let hosts: [String]

    public init(layout: GridLayout, hosts: [String]) {
        precondition(hosts.count == layout.worldSize, "HostPlacement: one host per rank")
        self.layout = layout
        self.hosts = hosts
    }

    /// This machine's name as the operating system gives it (`gethostname`), no DNS lookup.
    public static func localHostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "unknown-host" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The distinct hosts, in order of their first rank.
    public var distinctHosts: [String] {
        var seen: Set<String> = []
        return hosts.filter { seen.insert($0).inserted }
    }

    /// The tensor-parallel groups whose ranks sit on more than one host.
    public var tensorParallelGroupsAcrossHosts: [[Int]] {
        layout.tensorParallelGroups.filter { group in Set(group.map { hosts[$0] }).count > 1 }
    }

    /// A warning naming each tensor-parallel group that crosses hosts and what would fix it; nil
    /// when every group sits within one host.
    public var warning: String? {
        let split = tensorParallelGroupsAcrossHosts
        guard !split.isEmpty else { return nil }
        let groups = split.map { group in
            "ranks \(group.map(String.init).joined(separator: ", ")) on "
                + group.map { hosts[$0] }.joined(separator: ", ")
        }
        return "warning: \(split.count) of \(layout.dataParallel) tensor-parallel groups span hosts ("
            + groups.joined(separator: "; ") + "): their per-layer all-reduces then cross the network. "
            + "Give each host a multiple of tp = \(layout.tensorParallel) slots and place ranks by slot "
            + "(mpirun --map-by slot, the default; Slurm --distribution=block)."
    }

    /// One line for the log: how many hosts and ranks per host.
    public var summary: String {
        let perHost = distinctHosts.map { host in "\(host): \(hosts.filter { $0 == host }.count)" }
        return "\(layout.worldSize) ranks on \(distinctHosts.count) host\(distinctHosts.count == 1 ? "" : "s") ("
            + perHost.joined(separator: ", ") + ")"
    }
}
