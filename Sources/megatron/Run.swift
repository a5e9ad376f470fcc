import ArgumentParser
import Experiments
import Foundation

/// `megatron run NAME`: the experiment in experiments/NAME.json, end to end, then the tables.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a named experiment (experiments/NAME.json): prepare, train, evaluate, record, tabulate.",
        discussion: """
            Results go to results/NAME/run.json and results/README.md. An interrupted run picks up
            where it stopped: finished runs are kept (results/NAME/runs/), unfinished ones resume
            from their newest checkpoint (checkpoints/NAME/). Delete those folders to start over.
            """)

    @Argument(help: "The experiment's name (a file in experiments/).")
    var name: String

    func run() throws {
        let path = "experiments/\(name).json"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: "experiments")) ?? [])
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
            throw ExperimentError.unknownExperiment(name: name, known: known)
        }
        let spec = try ExperimentSpec.load(path)
        let runner = ExperimentRunner(spec: spec, command: "megatron run \(name)", prepare: { args in
            var command = try Prepare.parseAsRoot(args)
            try command.run()
        }, log: { print($0) })
        try runner.run()
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
