import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine: GEMM peak, kernel and communication bandwidth.",
        subcommands: [BenchGEMM.self, BenchKernels.self, BenchComm.self])
}
