import ArgumentParser
import Experiments
import Foundation
import TensorCore

/// Training and evaluation beside busy processes against the fair-share prediction.
struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "A fixed small training and evaluation idle and beside 1 and 2 busy processes, against a fair share of the cores.",
        discussion: """
            Training: GPT 2 layers, hidden 64, tp 2 × dp 2 (4 rank threads), 400 steps of 8 × 32 \
            tokens on the tiny generated data. Evaluation: WikiText perplexity of an untrained GPT \
            (2 layers, hidden 256, windows of 128 at stride 32) over the tiny test stream, 4 passes, \
            at tp 1 on every core. Each runs idle, then beside 1 and 2 busy loops (/bin/sh) that the \
            bench starts and kills. Fair share: every runnable thread, ours and the loops', gets \
            cores ÷ (threads + loops) of a core, so the prediction is the idle time × the cores we \
            used idle ÷ the cores that leaves us. Medians of --repeats rounds; a round takes about \
            15 s on 2 free cores. Other work on the machine counts as load too: the load average \
            at each start is printed.
            """)

    @Option(help: "Rounds (idle, 1 busy, 2 busy each); the median is reported.") var repeats = 3
    @Flag(help: "Print one JSON record as the last line.") var json = false

    func validate() throws {
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let machine = MachineDescription.current()
        print("machine: \(machine.summary); \(LoadBench.cores) cores for us")
        let idleCPU = BLASIdleThreads.cpuSecondsAfterProduct()
        let exponent = BLASIdleThreads.timeoutExponent
        print("OpenBLAS idle threads: \(formatted(idleCPU * 1e3, 1)) ms of CPU in the 250 ms after a product "
            + "(OPENBLAS_THREAD_TIMEOUT read as \(exponent.map(String.init) ?? "unknown"); 0 is OpenBLAS's default, 2^28 cycles)")
        let rows = try LoadBench(repeats: repeats).run { print($0) }
        for row in rows {
            let against = row.fairSeconds.map { fair in
                ", fair share \(formatted(fair, 2)) s: \(formatted(row.ratio!, 2)) × the fair share"
            } ?? " (idle)"
            print("\(row.workload.rawValue) (\(row.threads) threads) beside \(row.busy) busy: \(formatted(row.seconds, 2)) s"
                + against)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let record = Record(machine: machine, repeats: repeats, blasIdleCPUms: idleCPU * 1e3,
                                openblasThreadTimeout: exponent, rows: rows)
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        }
    }

    struct Record: Encodable {
        let command = "bench load"
        let machine: MachineDescription
        let repeats: Int
        let blasIdleCPUms: Double
        let openblasThreadTimeout: Int?
        let rows: [LoadBench.Row]
    }
}
