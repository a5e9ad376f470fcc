import Experiments
import Foundation
import Tasks
import Testing

@Suite struct SweepAndSelectTests {
    static let tinyRACE = tinyBERTTraining(sequence: 128, trainData: "data/smoke/tiny-race.h5")

    /// One fine-tuning run per combination, each evaluated on dev only; the selected run names
    /// the candidates, the test evaluation, and carries the paper's figure.
    @Test func aSweepTrainsEveryCombinationAndSelectsOnDev() throws {
        let spec = try loadSpec("""
            {"name": "tiny-race", "description": "", "shrunk": ["tiny"],
             "runs": [{"id": "pretrain", "train": \(Self.tinyRACE)},
                      {"id": "race", "finetune_from": "pretrain", "train": \(Self.tinyRACE),
                       "sweep": {"training.steps": [4, 8], "training.lr": [1e-4, 1e-3]},
                       "evaluate": [{"task": "race", "data": ["dev.h5"]}],
                       "select": {"metric": "race.dev.accuracy", "evaluate": [{"task": "race", "data": ["test.h5"]}]},
                       "paper": {"race.test.accuracy": 0.869}}]}
            """)
        let ids = ["race-lr0.0001-steps4", "race-lr0.0001-steps8", "race-lr0.001-steps4", "race-lr0.001-steps8"]
        #expect(spec.runs.map(\.id) == ["pretrain"] + ids + ["race-selected"])
        let swept = spec.runs.filter { ids.contains($0.id) }
        #expect(swept.map { $0.train!.training.learningRate } == [1e-4, 1e-4, 1e-3, 1e-3])
        #expect(swept.map { $0.train!.training.steps } == [4, 8, 4, 8])
        #expect(swept.map { $0.train!.training.checkpointDirectory! } == ids.map { "checkpoints/tiny-race/\($0)" })
        #expect(swept.allSatisfy { $0.finetuneFrom == "pretrain" && $0.evaluate.flatMap(\.data) == ["dev.h5"] && $0.paper.isEmpty })
        #expect(swept[3].settings == ["training.lr": 1e-3, "training.steps": 8])
        let selected = spec.runs.last!
        guard case .select(let selection) = selected.work else {
            Issue.record("race-selected is not a selection")
            return
        }
        #expect(selection == ExperimentSpec.Selection(candidates: ids, metric: "race.dev.accuracy",
                                                      evaluate: [.init(task: .race, data: ["test.h5"])]))
        #expect(selected.paper == ["race.test.accuracy": 0.869])
    }

    @Test func aMistakenSweepOrASweepWithSeedsIsNamed() throws {
        #expect {
            _ = try loadSpec(#"{"name": "x", "description": "", "runs": [{"id": "a", "train": \#(Self.tinyRACE), "sweep": {"lr": [1]}}]}"#)
        } throws: { "\($0)".contains("runs[0].sweep: lr must be training.FIELD") }
        #expect {
            _ = try loadSpec(#"""
                {"name": "x", "description": "", "seeds": [1, 2], "runs": [{"id": "a", "train": \#(Self.tinyRACE),
                 "sweep": {"training.lr": [1e-3]}, "evaluate": [{"task": "race", "data": ["d.h5"]}],
                 "select": {"metric": "race.d.accuracy", "evaluate": [{"task": "race", "data": ["t.h5"]}]}}]}
                """#)
        } throws: { "\($0)".contains("seeds and a run's select do not combine") }
    }

    /// The highest dev accuracy wins, the first on a tie; a candidate without the metric stops the choice.
    @Test func theChoiceIsTheHighestDevMetric() throws {
        let selection = ExperimentSpec.Selection(candidates: ["a", "b", "c"], metric: "race.dev.accuracy", evaluate: [])
        func result(_ id: String, _ accuracy: Double?) -> RunResult {
            RunResult(id: id, config: "{}", metrics: accuracy.map { ["race.dev.accuracy": $0] } ?? [:], lossCurve: [], wallSeconds: 1)
        }
        let best = try ExperimentRunner.choose(selection, among: [result("a", 0.26), result("b", 0.31), result("c", 0.31)], for: "s")
        #expect(best.id == "b" && best.value == 0.31)
        #expect(throws: ExperimentError.nothingToSelect(run: "s", candidate: "c", metric: "race.dev.accuracy")) {
            _ = try ExperimentRunner.choose(selection, among: [result("a", 0.26), result("b", 0.31), result("c", nil)], for: "s")
        }
    }

    /// The Wilson interval against values computed by hand: 50 of 100 gives [0.4038, 0.5962];
    /// chance on RACE-M test (359 of 1,436) is ±2.3 points.
    @Test func raceAccuracyCarriesItsWilsonInterval() {
        let half = RACEAccuracy.FileAccuracy(name: "x", correct: 50, total: 100).wilsonInterval95
        #expect(abs(half.lowerBound - 0.40383) < 1e-4 && abs(half.upperBound - 0.59617) < 1e-4)
        let chance = RACEAccuracy.FileAccuracy(name: "test", correct: 359, total: 1436).wilsonInterval95
        #expect(abs(chance.lowerBound - 0.2283) < 1e-3 && abs(chance.upperBound - 0.2731) < 1e-3)
        #expect(RACEAccuracy.FileAccuracy(name: "none", correct: 0, total: 0).wilsonInterval95 == 0...1)
    }
}
