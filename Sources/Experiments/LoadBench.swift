import Collectives
import Datasets
import Foundation
import Models
import Tasks
import TensorCore
import TensorParallel
import Training

/// `megatron bench load`: how much slower a fixed training and a fixed evaluation run beside
/// busy processes, against what a fair share of the cores predicts. Each workload runs idle,
/// then beside 1 and 2 busy loops the bench starts and kills itself, in that order within each
/// repeat; the median over repeats is reported.
///
/// Fair share: with `n` threads of ours wanting a core each and `b` busy loops on `c` cores,
/// every runnable thread gets c / (n + b) of a core (at most one), so we have
/// min(n, c) · … = n · min(1, c / (n + b)) cores where we had min(n, c) idle, and the
/// prediction is the idle time × min(n, c) ÷ that.
public struct LoadBench: Sendable {
    /// The two workloads: the issue's small training and a tp = 1 perplexity evaluation.
    public enum Workload: String, Sendable, Codable, CaseIterable {
        case train
        case eval
    }

    public var repeats: Int
    public var busyCounts: [Int]

    public init(repeats: Int = 3, busyCounts: [Int] = [0, 1, 2]) {
        precondition(repeats > 0 && busyCounts.allSatisfy { $0 >= 0 },
                     "LoadBench: repeats \(repeats), busy counts \(busyCounts) validated by the caller")
        self.repeats = repeats
        self.busyCounts = busyCounts
    }

    /// One workload beside `busy` busy loops.
    public struct Row: Sendable, Codable, Equatable {
        public var workload: Workload
        public var busy: Int
        /// Our threads that want a core (rank threads × kernel threads).
        public var threads: Int
        /// Median wall seconds, and every repeat's.
        public var seconds: Double
        public var runs: [Double]
        /// The idle median × min(threads, cores) ÷ the cores a fair share leaves us (nil idle).
        public var fairSeconds: Double?
        public var ratio: Double?
        /// The 1-minute load average when the first repeat started (others' work included).
        public var loadAverage: Double
    }

    /// The fixed training: GPT, 2 layers, hidden 64, 4 heads, tp 2 × dp 2, 400 steps of 8
    /// sequences of 32 tokens on the tiny generated data.
    static let trainingSteps = 400

    /// The fixed evaluation: WikiText perplexity of a randomly initialised GPT (2 layers, hidden
    /// 256, 4 heads, windows of 128 at stride 32, 8 a forward) over the tiny test stream, at
    /// tp = 1 with every core, `evaluationPasses` times.
    static let evaluationPasses = 4

    /// Cores this process may use.
    public static var cores: Int { ComputeThreads.available }

    static func threads(_ workload: Workload) -> Int {
        switch workload {
        case .train: 4
        case .eval: cores
        }
    }

    /// What a fair share predicts beside `busy` loops for a workload of `threads` threads that
    /// took `idleSeconds` idle.
    public static func fairShare(idleSeconds: Double, threads: Int, busy: Int, cores: Int) -> Double {
        let idleCores = Double(Swift.min(threads, cores))
        let shared = Double(threads) * Swift.min(1, Double(cores) / Double(threads + busy))
        return idleSeconds * idleCores / Swift.min(idleCores, shared)
    }

    /// Runs every workload beside every busy count `repeats` times; `log` gets a line per run.
    public func run(log: (String) -> Void) throws -> [Row] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-load-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = try TinyData.write(to: directory)
        let training = try Self.training(data: data)
        let evaluation = try Self.evaluation(data: data)
        var times: [Workload: [Int: [Double]]] = [:]
        var loads: [Workload: [Int: Double]] = [:]
        for round in 1...repeats {
            for busy in busyCounts {
                for workload in Workload.allCases {
                    let load = Self.loadAverage()
                    if loads[workload, default: [:]][busy] == nil { loads[workload, default: [:]][busy] = load }
                    let seconds = try Self.withBusyProcesses(busy) { _ in
                        switch workload {
                        case .train: try Self.time { _ = try InProcessWorld.run(worldSize: 4, timeout: 600) { world in
                                try training.run(world: world) { _ in }
                            } }
                        case .eval: try Self.time { try evaluation() }
                        }
                    }
                    times[workload, default: [:]][busy, default: []].append(seconds)
                    log("\(workload.rawValue) beside \(busy) busy: \(String(format: "%.2f", seconds)) s "
                        + "(round \(round)/\(repeats), load average \(String(format: "%.2f", load)))")
                }
            }
        }
        return Workload.allCases.flatMap { workload in
            let idle = times[workload]?[0].map(Self.median)
            return busyCounts.map { busy in
                let runs = times[workload]![busy]!
                let seconds = Self.median(runs)
                let fair = idle.flatMap { busy == 0 ? nil : Self.fairShare(idleSeconds: $0, threads: Self.threads(workload),
                                                                              busy: busy, cores: Self.cores) }
                return Row(workload: workload, busy: busy, threads: Self.threads(workload), seconds: seconds, runs: runs,
                           fairSeconds: fair, ratio: fair.map { seconds / $0 }, loadAverage: loads[workload]![busy]!)
            }
        }
    }

    static func training(data: TinyData.Files) throws -> TrainingRun {
        let vocab = try TokenFile(path: data.gptTrain, kind: .gptDocuments, remedy: "regenerate the tiny data").header.vocabSize
        let config = try TrainingConfig.decode(Data("""
            {"model": {"family": "gpt", "layers": 2, "hidden": 64, "heads": 4, "sequence_length": 32, "max_positions": 32,
                       "vocab_size": \(vocab), "gelu": "tanh"},
             "training": {"steps": \(trainingSteps), "micro_batch": 4, "global_batch": 8, "lr": 1e-3,
                          "log_interval": \(trainingSteps), "tp": 2, "dp": 2, "train_data": "\(data.gptTrain)"}}
            """.utf8), source: "bench load")
        let run = TrainingRun(config: config)
        try run.validate()
        return run
    }

    static func evaluation(data: TinyData.Files) throws -> @Sendable () throws -> Void {
        let task = try WikiTextPerplexity(file: try TokenFile(path: data.gptTest, kind: .evaluationStream,
                                                              remedy: "regenerate the tiny data"))
        let vocab = task.vocabSize
        let config = GPTConfig(layers: 2, hidden: 256, heads: 4, maxPositions: 128, vocabSize: vocab,
                               paddedVocabSize: try VocabPadding.megatron.paddedSize(vocabSize: vocab, tensorParallel: 1))
        return {
            _ = try InProcessWorld.run(worldSize: 1, timeout: 600) { world in
                let model = GPTModel<Float>(config: config, seed: 1234, group: TensorParallelGroup(world))
                for _ in 0..<evaluationPasses {
                    _ = try task.evaluate(model: model, dataParallel: world, stride: 32, batch: 8)
                }
            }
        }
    }

    /// Runs `body` with `count` busy loops running (given 0.2 s to start), passing their process
    /// ids; they are killed and reaped when it returns or throws.
    public static func withBusyProcesses<R>(_ count: Int, _ body: ([pid_t]) throws -> R) throws -> R {
        let loops = try BusyProcesses(count: count)
        defer { loops.stop() }
        if count > 0 { usleep(200_000) }
        return try body(loops.pids)
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The 1-minute load average, or 0 where the system does not say.
    static func loadAverage() -> Double {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) > 0 ? loads[0] : 0
    }
}

/// Why `bench load` could not run.
public enum LoadBenchError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotStartBusyProcess(errno: Int32)

    public var description: String {
        switch self {
        case let .cannotStartBusyProcess(code):
            return "bench load: cannot start /bin/sh for a busy loop (posix_spawn: \(String(cString: strerror(code)))); "
                + "it needs /bin/sh"
        }
    }
}
