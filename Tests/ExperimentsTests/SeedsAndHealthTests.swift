import Collectives
import Datasets
@testable import Experiments
import Foundation
import TensorCore
import Testing
import Training

@Suite struct SeedsAndHealthTests {
    static let tinyTraining = tinyBERTTraining(sequence: 32, trainData: "data/smoke/tiny-bert-train.h5")

    /// Every training run once per seed, with its own seed, id and checkpoints; a fine-tuning run
    /// starts from the same seed's pretraining.
    @Test func seedsExpandEachTrainingRun() throws {
        let spec = try loadSpec("""
            {"name": "tiny", "description": "", "shrunk": ["tiny"], "seeds": [7, 8],
             "runs": [{"id": "post-ln-2", "train": \(Self.tinyTraining)},
                      {"id": "race", "finetune_from": "post-ln-2", "train": \(Self.tinyTraining)}]}
            """)
        #expect(spec.runs.map(\.id) == ["post-ln-2-seed7", "post-ln-2-seed8", "race-seed7", "race-seed8"])
        #expect(spec.runs.map(\.seed) == [7, 8, 7, 8])
        #expect(spec.runs.map { $0.train!.training.seed } == [7, 8, 7, 8])
        #expect(spec.runs.map { $0.train!.training.checkpointDirectory! }
                == ["checkpoints/tiny/post-ln-2-seed7", "checkpoints/tiny/post-ln-2-seed8",
                    "checkpoints/tiny/race-seed7", "checkpoints/tiny/race-seed8"])
        #expect(spec.runs.map(\.finetuneFrom) == [nil, nil, "post-ln-2-seed7", "post-ln-2-seed8"])
        #expect {
            _ = try loadSpec(#"{"name": "tiny", "description": "", "seeds": [3, 3], "runs": [{"id": "a", "train": \#(Self.tinyTraining)}]}"#)
        } throws: { "\($0)".contains("seeds repeats a seed") }
    }

    @Test func aCurveThatRisesOrTurnsNaNDivergedOneThatFlattensStalled() {
        let falling = (0..<40).map { 8.0 - 0.1 * Double($0) }
        let trained = LossCurveHealth(losses: falling)
        #expect(!trained.diverged && !trained.stalled && abs(trained.secondHalfDrop! - (6.05 - 4.25) / 6.05) < 1e-12)
        #expect(LossCurveHealth(losses: falling + [.nan]).diverged)
        #expect(LossCurveHealth(losses: falling.reversed()).diverged)
        let plateau = (0..<40).map { $0 < 15 ? 8.0 - 0.1 * Double($0) : 6.5 }
        let health = LossCurveHealth(losses: plateau)
        #expect(!health.diverged && health.stalled && health.metrics["train.stalled"] == 1)
        #expect(LossCurveHealth(losses: [5, 4, 3]).metrics == ["train.diverged": 0, "train.stalled": 0])
    }

    /// bert-layernorm's pre-LN runs: a falling curve of 3000 noisy small-batch losses whose first
    /// tenth holds one lucky batch below where the run ends is not diverged; a rising one is.
    @Test func oneLowBatchEarlyDoesNotMakeAFallingCurveDiverged() {
        let rng = CounterRNG(seed: 5, stream: 1)
        let noisy = (0..<3000).map { i -> Double in
            8.0 - 0.8 * Double(i) / 3000 + 0.3 * (Double(rng.bits(at: i) % 1000) / 500 - 1)
        }
        var lucky = noisy
        lucky[273] = 6.9
        let health = LossCurveHealth(losses: lucky)
        #expect(!health.diverged, "a falling curve read as diverged")
        #expect(LossCurveHealth(losses: lucky.reversed()).diverged)
    }

    /// A fine-tuning whose loss never left ln 4 (180 steps of 8 questions, batch noise ±0.01) has
    /// stalled; the same scatter around a loss that climbed to 2 has diverged.
    @Test func aFlatNoisyCurveStallsAndARisingOneDiverges() {
        // Steps of the golden angle scatter sin's values over [-1, 1] without a pattern in step order.
        let noise = (0..<180).map { 0.01 * sin(Double($0) * 2.399963) }
        let flat = LossCurveHealth(losses: noise.map { log(4) + $0 })
        #expect(!flat.diverged && flat.stalled)
        let rising = LossCurveHealth(losses: noise.enumerated().map { i, e in log(4) + 0.6 * Double(i) / 179 + e })
        #expect(rising.diverged)
    }

    /// A kept run whose flags an older definition wrote is read again from its stored curve; a
    /// run recorded without flags, or without a curve, is left as it is.
    @Test func aKeptRunsHealthIsReadAgainFromItsCurve() {
        let falling = (0..<300).map { i -> [Double] in
            let loss: Double = 8 - Double(i) / 100 - (i == 5 ? 2 : 0)
            return [Double(i + 1), loss]
        }
        let stale = RunResult(id: "pre-ln-4-seed1234", config: "{}",
                              metrics: ["train.diverged": 1, "train.stalled": 0, "train.final_loss": 5.01],
                              lossCurve: falling, wallSeconds: 1)
        let current = stale.withCurrentHealth()
        #expect(current.metrics["train.diverged"] == 0 && current.metrics["train.stalled"] == 0)
        #expect(current.metrics["train.second_half_drop"]! > 0.1)
        #expect(current.metrics["train.final_loss"] == 5.01 && current.lossCurve == falling)
        #expect(current.withCurrentHealth() == current)
        let unflagged = RunResult(id: "old", config: "{}", metrics: ["train.final_loss": 5.01], lossCurve: falling, wallSeconds: 1)
        #expect(unflagged.withCurrentHealth() == unflagged)
        let timing = RunResult(id: "timing", config: "{}", metrics: ["train.diverged": 1], lossCurve: [], wallSeconds: 1)
        #expect(timing.withCurrentHealth() == timing)
    }

    /// Real training on the tiny corpus: a sane learning rate trains, an absurd one is caught.
    @Test func trainingAtAnAbsurdLearningRateIsRecordedAsDiverged() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = try TinyData.write(to: "\(directory)/data")
        func health(lr: Double) throws -> LossCurveHealth {
            let config = try TrainingConfig.decode(Data("""
                {"model": {"family": "gpt", "layers": 2, "hidden": 32, "heads": 4, "sequence_length": 32, "max_positions": 32,
                           "vocab_size": 657, "gelu": "tanh"},
                 "training": {"steps": 30, "micro_batch": 2, "global_batch": 2, "lr": \(lr), "warmup_steps": 0,
                              "clip_grad": 0, "train_data": "\(data.gptTrain)"}}
                """.utf8))
            let run = TrainingRun(config: config)
            try run.validate()
            let outcome = try InProcessWorld.run(worldSize: 1) { world in try run.run(world: world) { _ in } }[0]
            return LossCurveHealth(losses: outcome.lossCurve.map(\.loss))
        }
        #expect(try !health(lr: 3e-3).diverged)
        #expect(try health(lr: 300).diverged)
    }
}

@Suite struct SeedSpreadTableTests {
    @Test func tablesGiveEachRunsFinalLossOverItsSeeds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spread-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func run(_ id: String, seed: Double, loss: Double, diverged: Double = 0) -> RunResult {
            RunResult(id: id, config: "{}", metrics: ["train.seed": seed, "train.final_loss": loss, "train.diverged": diverged,
                                                      "train.stalled": 0], lossCurve: [], wallSeconds: 1)
        }
        let record = RunRecord(experiment: "layers", command: "megatron run layers", gitCommit: "abc", machine: .current(),
                               date: "2026-12-01T00:00:00Z", wallSeconds: 4,
                               runs: [run("post-ln-16-seed1", seed: 1, loss: 7.5), run("post-ln-16-seed2", seed: 2, loss: 7.7),
                                      run("pre-ln-16-seed1", seed: 1, loss: 7.25), run("pre-ln-16-seed2", seed: 2, loss: .nan, diverged: 1)],
                               shrunk: [])
        try record.save("\(folder)/layers/run.json")
        try ResultTables(resultsDirectory: folder).write()
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("| post-ln-16 | 1, 2 | 7.600 | 7.500 | 7.700 | 0 | 0 |"))
        #expect(page.contains("| pre-ln-16 | 1, 2 | 7.250 | 7.250 | 7.250 | 1 | 0 |"))
        #expect(page.contains("| pre-ln-16-seed2 | 1 | nan | 2 | 0 |"))
    }
}

/// A kept run stands for the config it was trained with: once the experiment is redesigned, the
/// runner names the stale file and what changed instead of tabulating the old run as the new one.
@Suite struct KeptRunDesignTests {
    @Test func aKeptRunOfAnotherDesignIsNamedWithWhatChanged() throws {
        let spec = try ExperimentSpec.load("\(repositoryRoot)/experiments/smoke.json")
        let runner = ExperimentRunner(spec: spec, command: "megatron run smoke", prepare: { _ in }, log: { _ in })
        guard case .train(let config) = spec.runs[0].work else { Issue.record("smoke's first run trains"); return }
        func kept(_ json: String) -> RunResult {
            RunResult(id: spec.runs[0].id, config: json, metrics: [:], lossCurve: [], wallSeconds: 1)
        }
        try runner.checkDesign(of: kept(try config.json()), against: config)
        // The same config written another way (compact, keys unsorted) is the same design.
        let compact = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try runner.checkDesign(of: kept(compact), against: config)
        var redesigned = config
        redesigned.training.learningRate *= 2
        redesigned.model.layers += 1
        #expect(throws: ExperimentError.keptRunOfAnotherDesign(
            path: "results/smoke/runs/\(spec.runs[0].id).json", checkpoints: config.training.checkpointDirectory!,
            differences: ["model.layers: \(config.model.layers) → \(config.model.layers + 1)",
                          "training.lr: \(config.training.learningRate) → \(config.training.learningRate * 2)"])) {
            try runner.checkDesign(of: kept(try config.json()), against: redesigned)
        }
        #expect(throws: ExperimentError.self) { try runner.checkDesign(of: kept("not json"), against: config) }
    }
}
