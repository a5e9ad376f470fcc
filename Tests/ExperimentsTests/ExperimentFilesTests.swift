import Experiments
import Foundation
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

@Suite struct ExperimentFilesTests {
    /// Every named experiment parses, its training configs pass the full config check, and it
    /// is named after its file, so `megatron run NAME` finds what it says.
    @Test func everyExperimentFileIsValid() throws {
        let folder = "\(repositoryRoot)/experiments"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files == ["bert-layernorm.json", "bert-race.json", "gpt2-sizes.json", "pretrained.json", "scaling-model.json",
                          "scaling.json", "smoke.json", "tp-parity.json"])
        for file in files where !ScalingModelExperiment.describes("\(folder)/\(file)") {
            let spec = try ExperimentSpec.load("\(folder)/\(file)")
            #expect(spec.name + ".json" == file)
            #expect(!spec.runs.isEmpty && !spec.shrunk.isEmpty)
        }
    }

    /// The performance model's experiment names its machine files and records, and they exist.
    @Test func scalingModelExperimentIsValid() throws {
        let spec = try ScalingModelExperiment.load("\(repositoryRoot)/experiments/scaling-model.json")
        #expect(spec.name == "scaling-model" && spec.paper.runs.count == 8)
        for path in [spec.paper.machine] + spec.measured.flatMap({ [$0.machine, $0.record] }) {
            #expect(FileManager.default.fileExists(atPath: "\(repositoryRoot)/\(path)"), "\(path)")
        }
    }

    @Test func aMistakeIsNamed() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("""
            {"name": "bad", "description": "", "runs": [{"id": "a", "train": {"model": {}, "training": {}},
             "finetune_from": "nowhere", "colour": 1}]}
            """.utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ExperimentSpec.load(path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("unknown key colour") && text.contains("model.layers") && text.contains(path)
        }
    }
}

@Suite struct ResultTablesTests {
    @Test func tablesPutOursBesidesThePapers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("results-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let record = RunRecord(
            experiment: "gpt2-sizes", command: "megatron run gpt2-sizes", gitCommit: "abc", machine: .current(),
            date: "2026-11-26T00:00:00Z", wallSeconds: 60,
            runs: [RunResult(id: "gpt-4x128", config: "{}", metrics: ["wikitext103.adjusted_ppl": 812.5, "paper.wikitext103.adjusted_ppl": 19.31],
                             lossCurve: [[1, 10], [2, 9]], wallSeconds: 60)],
            shrunk: ["sequence 256"])
        try record.save("\(folder)/gpt2-sizes/run.json")
        let written = try ResultTables(resultsDirectory: folder).write()
        #expect(written.count == 3)
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("| run | wikitext103.adjusted_ppl | paper.wikitext103.adjusted_ppl |"))
        #expect(page.contains("| gpt-4x128 | 812.5 | 19.31 |"))
        #expect(page.contains("- sequence 256"))
        let svg = try String(contentsOfFile: "\(folder)/gpt2-sizes/loss.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("class=\"series\" data-series=\"gpt-4x128\""))
    }
}

@Suite struct GEMMPeakColumnTests {
    /// A run's model FLOP/s read against the peak its machine measured at the run's start; a
    /// run recorded before records kept the peak shows a dash, not a number from another machine.
    @Test func modelFLOPsAreShownAsAPercentOfTheRunsOwnPeak() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peak-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var measured = RunResult(id: "new", config: "{}", metrics: ["train.model_tflops": 0.025], lossCurve: [], wallSeconds: 1)
        measured.machine = MachineDescription(cpu: "Test CPU", cores: 2, memoryGiB: 4, os: "Linux", openBLASCore: "Zen",
                                              gemmPeakGFLOPs: 125, gemmPeakMethod: "test")
        let old = RunResult(id: "old", config: "{}", metrics: ["train.model_tflops": 0.03], lossCurve: [], wallSeconds: 1)
        let untimed = RunResult(id: "eval-only", config: "{}", metrics: ["lambada.accuracy": 0.5], lossCurve: [], wallSeconds: 1)
        let record = RunRecord(experiment: "peaks", command: "megatron run peaks", gitCommit: "abc", machine: measured.machine!,
                               date: "2026-12-01T00:00:00Z", wallSeconds: 3, runs: [measured, old, untimed], shrunk: [])
        try record.save("\(folder)/peaks/run.json")
        try ResultTables(resultsDirectory: folder).write()
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("| run | lambada.accuracy | train.model_tflops | train.percent_of_gemm_peak |"))
        #expect(page.contains("| new |  | 0.02500 | 20 |"))
        #expect(page.contains("| old |  | 0.03000 | — |"))
        #expect(page.contains("| eval-only | 0.5000 |  |  |"))
        #expect(page.contains("OpenBLAS Zen kernels, GEMM peak 125 GFLOP/s at the run's start"))
        let csv = try String(contentsOfFile: "\(folder)/peaks/results.csv", encoding: .utf8)
        #expect(csv.contains("new,,0.025,20.0"))
        #expect(csv.contains("old,,0.03,\n"))
    }

    /// Records written before the machine carried its peak decode, and encode back unchanged.
    @Test func oldRecordsWithoutAPeakStillRead() throws {
        let json = #"{"cpu": "Old CPU", "cores": 2, "memoryGiB": 8, "os": "Linux"}"#
        let machine = try JSONDecoder().decode(MachineDescription.self, from: Data(json.utf8))
        #expect(machine.gemmPeakGFLOPs == nil && machine.openBLASCore == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(machine), as: UTF8.self)
                == #"{"cores":2,"cpu":"Old CPU","memoryGiB":8,"os":"Linux"}"#)
    }
}
