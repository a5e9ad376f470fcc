import Foundation
import TensorCore

/// OpenBLAS picks its kernels by CPU model and falls back to its SSE3 ("Prescott") ones on a model
/// it does not know — 0.3.21 does so on recent Xeons, at a quarter of the GEMM speed the CPU has.
/// Timings taken so would mislead, so the benchmarks say it, and how to override the choice.
enum BLASKernelCheck {
    static var warning: String? {
        guard BLASThreads.coreName.lowercased() == "prescott",
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })?.split(separator: " ")
        else { return nil }
        let (coreType, isa) = flags.contains("avx512f") ? ("SkylakeX", "AVX-512")
            : flags.contains("avx2") ? ("Haswell", "AVX2") : ("", "")
        guard !coreType.isEmpty else { return nil }
        return "warning: OpenBLAS chose its SSE3 (Prescott) kernels on a CPU with \(isa); "
            + "set OPENBLAS_CORETYPE=\(coreType) for its \(isa) kernels"
    }
}
