import ArgumentParser
import Experiments
import Foundation

/// `megatron run NAME`: the experiment in experiments/NAME.json, end to end, then the tables.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a named experiment (experiments/NAME.json): prepare, train, evaluate, record, tabulate.",
        discussion: """
            Results go to results/NAME/run.json and results/README.md. An interrupted run picks up \
            where it stopped: finished runs are kept (results/NAME/runs/), unfinished ones resume \
            from their newest checkpoint (checkpoints/NAME/). Delete those folders to start over. \
            --reevaluate TASK… trains nothing: it evaluates the finished runs again from their final \
            checkpoints on those tasks only and updates their records (for a new metric or a fix).
            """)

    @Argument(help: "The experiment's name (a file in experiments/).")
    var name: String

    @Option(parsing: .upToNextOption, help: "Evaluate the finished runs again on these tasks (wikitext103, lambada, race) instead of running.")
    var reevaluate: [EvaluationTask] = []

    func run() throws {
        let path = "experiments/\(name).json"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: "experiments")) ?? [])
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
            throw ExperimentError.unknownExperiment(name: name, known: known)
        }
        if ScalingModelExperiment.describes(path) {
            let record = try ScalingModelExperiment(spec: try ScalingModelExperiment.load(path), command: "megatron run \(name)").run()
            print("\(name): recorded results/\(name)/run.json (\(record.runs.count) rows)")
            let written = try ResultTables(resultsDirectory: "results").write()
            print("tables: \(written.joined(separator: ", "))")
            return
        }
        let spec = try ExperimentSpec.load(path)
        let runner = ExperimentRunner(spec: spec, command: "megatron run \(name)", prepare: { args in
            var command = try Prepare.parseAsRoot(args)
            try command.run()
        }, log: { print($0) })
        if reevaluate.isEmpty {
            try runner.run()
        } else {
            try runner.reevaluate(Set(reevaluate))
        }
        let written = try ResultTables(resultsDirectory: "results").write()
        print("tables: \(written.joined(separator: ", "))")
    }
}

/// `megatron tables`: regenerate results/README.md, the CSVs and figures from the run records.
struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regenerate results/README.md (and CSV, SVG) from every results/NAME/run.json.")

    func run() throws {
        let written = try ResultTables(resultsDirectory: "results").write()
        print(written.joined(separator: "\n"))
    }
}
