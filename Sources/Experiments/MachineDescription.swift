import Foundation
import TensorCore
import Training

/// The machine a result came from, so a number is never read without its hardware.
public struct MachineDescription: Codable, Sendable, Equatable {
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var os: String
    /// The kernels OpenBLAS chose for this CPU (Haswell, Zen, SkylakeX; Prescott is its SSE3
    /// fallback), which OPENBLAS_CORETYPE overrides. Nil in records made before it was kept.
    public var openBLASCore: String?
    /// The sgemm rate measured when the run started (`GEMMPeak.atRunStart`), against which its
    /// model FLOP/s are read: machines differ by 2× in it. Nil in records made before it was kept.
    public var gemmPeakGFLOPs: Double?
    /// How `gemmPeakGFLOPs` was measured (shape, passes, threads).
    public var gemmPeakMethod: String?

    public init(cpu: String, cores: Int, memoryGiB: Double, os: String, openBLASCore: String? = nil,
                gemmPeakGFLOPs: Double? = nil, gemmPeakMethod: String? = nil) {
        self.cpu = cpu
        self.cores = cores
        self.memoryGiB = memoryGiB
        self.os = os
        self.openBLASCore = openBLASCore
        self.gemmPeakGFLOPs = gemmPeakGFLOPs
        self.gemmPeakMethod = gemmPeakMethod
    }

    /// This machine with its OpenBLAS kernels and a GEMM peak measured now (a quarter of a second).
    public static func measured() -> MachineDescription {
        var machine = current()
        let peak = GEMMPeak.atRunStart
        machine.openBLASCore = BLASThreads.coreName
        machine.gemmPeakGFLOPs = (peak.medianGFLOPs() * 10).rounded() / 10
        machine.gemmPeakMethod = peak.method
        return machine
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

    public var summary: String {
        let blas = openBLASCore.map { ", OpenBLAS \($0) kernels" } ?? ""
        let peak = gemmPeakGFLOPs.map { ", GEMM peak \(formatNumber($0)) GFLOP/s at the run's start" } ?? ""
        return "\(cpu), \(cores) cores, \(memoryGiB) GiB, \(os)\(blas)\(peak)"
    }
}
