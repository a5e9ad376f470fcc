import ArgumentParser
import Experiments
import Foundation
import PerformanceModel

/// `megatron simulate`: the performance model's step time for a config or an experiment's timed runs.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict a GPT training step's time on a machine description (machines/NAME.json).",
        discussion: """
            --config FILE: a JSON object with layers, hidden, heads, seq, vocab (padded) and optionally \
            micro_batch, micro_batches, tp, dp, element_bytes, recompute, loop (trainer | benchmark); \
            efficiency is against the same model on one rank. --experiment NAME: every timed run of \
            experiments/NAME.json; efficiency is against its tp = dp = 1 run (weak scaling, as the paper's Figure 5).
            """)

    @Option(help: "The machine description (JSON).")
    var machine: String

    @Option(help: "A simulation config (JSON).")
    var config: String?

    @Option(help: "An experiment with timed runs (experiments/NAME.json), e.g. scaling.")
    var experiment: String?

    @Option(help: "Override the config's tensor-parallel size.")
    var tp: Int?

    @Option(help: "Override the config's data-parallel size.")
    var dp: Int?

    func validate() throws {
        if (config == nil) == (experiment == nil) { throw ValidationError("give exactly one of --config and --experiment") }
        for (name, value) in [("--tp", tp), ("--dp", dp)] {
            if let value, value <= 0 { throw ValidationError("\(name) must be positive, got \(value)") }
        }
    }

    func run() throws {
        let description = try MachineModel.load(machine)
        let simulator = try StepSimulator(machine: description)
        print("machine: \(description.name) (\(machine))")
        if let rate = simulator.uniformGEMMRate {
            print(String(format: "GEMM rate from the calibration point: %.4g TFLOP/s for every product", rate / 1e12))
        }
        if let config {
            var step = try StepTraceConfig.load(config)
            if let tp { step.tensorParallel = tp }
            if let dp { step.dataParallel = dp }
            var one = step
            (one.tensorParallel, one.dataParallel) = (1, 1)
            let started = Date()
            let prediction = try simulator.simulate(step)
            let baseline = try simulator.simulate(one)
            let elapsed = Date().timeIntervalSince(started)
            print(prediction.report(baseline: baseline).joined(separator: "\n"))
            print(String(format: "(simulated in %.3f s)", elapsed))
        } else if let experiment {
            let spec = try ExperimentSpec.load("experiments/\(experiment).json")
            let timed = spec.runs.compactMap { run -> (String, StepTraceConfig)? in
                guard case .timing(let timing) = run.work else { return nil }
                return (run.id, timing.sizes.stepTrace)
            }
            var predictions: [(String, StepPrediction)] = []
            for (id, step) in timed {
                do {
                    predictions.append((id, try simulator.simulate(step)))
                } catch let error as PerformanceModelError {
                    print("\(id): skipped: \(error)")
                }
            }
            let baseline = predictions.first { $0.1.config.ranks == 1 }?.1
            for (id, prediction) in predictions {
                print("\(id): " + prediction.report(baseline: baseline).joined(separator: "\n"))
            }
        }
    }
}
