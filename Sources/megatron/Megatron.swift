import ArgumentParser
@preconcurrency import Glibc
import TensorCore

@main
struct Megatron: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "megatron",
        abstract: "Megatron-LM (Shoeybi et al., 2019) at CPU scale: tensor × data parallel GPT-2 and BERT.",
        subcommands: [Run.self, Train.self, Eval.self, Finetune.self, Prepare.self, Tables.self, Verify.self, Bench.self,
                      Calibrate.self, Simulate.self,
                      Tokenize.self, Import.self, Export.self])

    /// Line-buffered stdout, so a long run's log lines reach a file or pipe as they are printed
    /// rather than in 4 KiB blocks (or not at all if the run is killed). (`stdout` is a mutable C
    /// global, which Swift 6 refuses without the `@preconcurrency` import.)
    ///
    /// OpenBLAS's idle threads are made to sleep before anything runs (`BLASIdleThreads`).
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        BLASIdleThreads.sleepWhenIdle()
        main(nil)
    }
}
