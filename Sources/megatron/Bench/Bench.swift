import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine: GEMM peak, kernel and communication bandwidth, tokenizer speed.",
        subcommands: [BenchGEMM.self, BenchKernels.self, BenchComm.self, BenchTokenize.self, BenchTrain.self])
}
