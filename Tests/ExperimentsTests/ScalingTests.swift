import Experiments
import Foundation
import Testing

@Suite struct ScalingTests {
    /// The scaling experiment keeps parameters per rank about constant as tp grows (Table 1).
    @Test func weakScalingRunsKeepParametersPerRankClose() throws {
        let spec = try ExperimentSpec.load("\(repositoryRoot)/experiments/scaling.json")
        let timings = spec.runs.compactMap { run -> ExperimentSpec.Timing? in
            if case .timing(let timing) = run.work { return timing }
            return nil
        }
        #expect(timings.count == spec.runs.count && timings.first?.sizes.ranks == 1)
        let perRank = timings.map { $0.sizes.parameters / Double($0.sizes.tp) }
        let base = perRank[0]
        #expect(perRank.allSatisfy { abs($0 / base - 1) < 0.15 })
        #expect(timings.allSatisfy { $0.sizes.hidden / $0.sizes.heads == 64 && $0.sizes.batch == 8 * $0.sizes.dp })
    }

    @Test func aTimingRunIsCheckedLikeBenchTrain() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-timing-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("""
            {"name": "bad", "description": "", "runs": [{"id": "a", "timing": {"hidden": 100, "heads": 8, "tp": 3, "steps": 0, "layer": 2},
             "evaluate": [{"task": "lambada", "data": ["x.h5"]}]}]}
            """.utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ExperimentSpec.load(path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("unknown key layer") && text.contains("a timing run has no train")
                && text.contains("hidden: 100 must be a multiple of heads (8)") && text.contains("heads: 8 must be a multiple of tp (3)")
        }
    }

    /// Efficiency against tp = 1, rows for runs the machine could not host, and the figure.
    @Test func tablesShowEfficiencyBesideThePapers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scaling-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func run(_ id: String, tp: Double, tflops: Double?, paper: Double, skipped: String? = nil) -> RunResult {
            var metrics = ["timing.tp": tp, "timing.dp": 1, "paper.timing.efficiency": paper]
            metrics["timing.model_tflops_per_rank"] = tflops
            metrics["timing.efficiency"] = tflops.map { $0 / 0.05 }
            return RunResult(id: id, config: "{}", metrics: metrics, lossCurve: [], wallSeconds: 1, skipped: skipped)
        }
        let record = RunRecord(
            experiment: "scaling", command: "megatron run scaling", gitCommit: "abc", machine: .current(),
            date: "2026-11-26T00:00:00Z", wallSeconds: 60,
            runs: [run("tp1", tp: 1, tflops: 0.05, paper: 1), run("tp2", tp: 2, tflops: 0.045, paper: 0.95),
                   run("tp4", tp: 4, tflops: nil, paper: 0.82, skipped: "needs 4 cores")],
            shrunk: ["2 cores"])
        try record.save("\(folder)/scaling/run.json")
        let written = try ResultTables(resultsDirectory: folder).write()
        #expect(written.contains("\(folder)/scaling/efficiency.svg"))
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("| run | timing.tp | timing.dp | timing.model_tflops_per_rank | timing.efficiency | paper.timing.efficiency |"))
        #expect(page.contains("| tp2 | 2 | 1 | 0.04500 | 0.9000 | 0.9500 |"))
        #expect(page.contains("| tp4 | 4 | 1 |  |  | 0.8200 |"))
        #expect(page.contains("Not runnable on this machine (the paper's figures kept): tp4 (needs 4 cores)."))
        let svg = try String(contentsOfFile: "\(folder)/scaling/efficiency.svg", encoding: .utf8)
        #expect(svg.contains(">ours (CPU cores)</text>") && svg.contains(">paper (V100 GPUs)</text>") && svg.contains(">not run here</text>"))
    }
}
