import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine: GEMM peak, kernel bandwidth.",
        subcommands: [BenchGEMM.self, BenchTokenize.self])
}
