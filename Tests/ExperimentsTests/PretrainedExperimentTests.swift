import Experiments
import Foundation
import Testing
import Training

/// The `pretrained` experiment: imported checkpoints evaluated where they are, and recorded as
/// not run, with the reason, where they are not.
@Suite struct PretrainedExperimentTests {
    @Test func theExperimentNamesItsCheckpointsAndProtocol() throws {
        let spec = try ExperimentSpec.load("\(repositoryRoot)/experiments/pretrained.json")
        let checkpoints = spec.runs.compactMap { run -> String? in
            if case .pretrained(let p) = run.work { return p.checkpoint }
            return nil
        }
        #expect(checkpoints == ["checkpoints/imported/gpt2-medium.h5", "checkpoints/imported/megatron-gpt2-345m.h5",
                                "checkpoints/imported/megatron-bert-345m-race"])
        #expect(spec.runs[0].evaluate.first { $0.task == .wikitext103 }?.stride == 32)
    }

    /// In a scratch folder (the runner writes results/ where it runs): one run's checkpoint is
    /// there, the other's is absent. The first is evaluated and kept, the second recorded as skipped with its path.
    @Test func presentCheckpointsAreEvaluatedAndAbsentOnesRecordedAsNotRun() throws {
        let f = try CheckpointFixtures.get()
        let directory = try CheckpointVocabularyTests.temporaryDirectory("pretrained")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        // The tiny trained GPT stands for imported weights: the tiny data's vocabulary is its own.
        try FileManager.default.copyItem(atPath: try CheckpointEvaluation.resolve(f.gpt), toPath: "imported.h5")
        try Data("""
            {"name": "pretrained-test", "description": "", "shrunk": ["tiny"], "runs": [
              {"id": "here", "pretrained": {"checkpoint": "imported.h5", "tp": 2},
               "evaluate": [{"task": "wikitext103", "data": ["\(f.data.gptTest)"], "stride": 16}], "paper": {"wikitext103.adjusted_ppl": 19.31}},
              {"id": "absent", "pretrained": {"checkpoint": "checkpoints/imported/none.h5"},
               "evaluate": [{"task": "lambada", "data": ["\(f.data.lambadaPrepared)"]}]}]}
            """.utf8).write(to: URL(fileURLWithPath: "spec.json"))
        let spec = try ExperimentSpec.load("spec.json")
        let record = try ExperimentRunner(spec: spec, command: "megatron run pretrained-test", prepare: { _ in }, log: { _ in }).run()
        #expect(record.runs.map(\.id) == ["here", "absent"])
        #expect(record.runs[0].skipped == nil && record.runs[0].metrics["wikitext103.adjusted_ppl"]!.isFinite)
        #expect(record.runs[0].metrics["paper.wikitext103.adjusted_ppl"] == 19.31)
        #expect(record.runs[1].skipped?.contains("no checkpoint at checkpoints/imported/none.h5") == true)
        #expect(FileManager.default.fileExists(atPath: "results/pretrained-test/runs/here.json"))
        #expect(!FileManager.default.fileExists(atPath: "results/pretrained-test/runs/absent.json"))
    }
}
