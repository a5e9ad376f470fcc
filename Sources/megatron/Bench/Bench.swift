import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine and the harness: GEMM peak, kernels, communication, tokenizers, data loading, training, evaluation, fairness under load.",
        subcommands: [BenchGEMM.self, BenchKernels.self, BenchComm.self, BenchTokenize.self, BenchData.self,
                      BenchTrain.self, BenchEval.self, BenchLoad.self])
}
