import Foundation

/// The machine a result came from, so a number is never read without its hardware.
public struct MachineDescription: Codable, Sendable, Equatable {
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var os: String

    public init(cpu: String, cores: Int, memoryGiB: Double, os: String) {
        self.cpu = cpu
        self.cores = cores
        self.memoryGiB = memoryGiB
        self.os = os
    }

    /// This machine, from /proc/cpuinfo, /proc/meminfo and /etc/os-release.
    public static func current() -> MachineDescription {
        func field(_ file: String, _ key: String) -> String? {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix(key) {
                let value = line.drop(while: { $0 != ":" && $0 != "=" }).dropFirst()
                return value.trimmingCharacters(in: CharacterSet.whitespaces.union(["\""]))
            }
            return nil
        }
        let memoryKiB = field("/proc/meminfo", "MemTotal").flatMap { Double($0.split(separator: " ").first ?? "") } ?? 0
        return MachineDescription(
            cpu: field("/proc/cpuinfo", "model name") ?? "unknown",
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: (memoryKiB / 1_048_576 * 10).rounded() / 10,
            os: field("/etc/os-release", "PRETTY_NAME") ?? "unknown")
    }

    public var summary: String { "\(cpu), \(cores) cores, \(memoryGiB) GiB, \(os)" }
}
