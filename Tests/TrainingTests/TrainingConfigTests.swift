import Foundation
import Testing
import Training

@Suite struct TrainingConfigTests {
    static let valid = """
    {
      "model": {"family": "gpt", "layers": 2, "hidden": 64, "heads": 4, "sequence_length": 32,
                "vocab_size": 1000, "padded_vocab_size": 1024, "gelu": "tanh"},
      "training": {"steps": 20, "micro_batch": 2, "global_batch": 8, "lr": 1.5e-4, "min_lr": 1e-5,
                   "warmup_steps": 2, "decay_style": "cosine", "tp": 2, "dp": 2, "train_data": "data/tiny.h5"}
    }
    """

    @Test func aValidConfigDecodesWithItsDefaults() throws {
        let config = try TrainingConfig.decode(Data(Self.valid.utf8))
        #expect(config.model.family == .gpt && config.model.gelu == .tanh && config.model.ffnHidden == 256)
        #expect(config.model.maxPositions == 32 && config.model.paddedVocab(tensorParallel: 4) == 1024)
        #expect(config.training.decaySteps == 20 && config.training.weightDecay == 0.01 && config.training.clipGradient == 1)
        #expect(config.training.microBatches == 2 && !config.training.recomputeActivations)
        #expect(config.model.transformer.causal && !config.model.transformer.postLayerNorm)
        // What a checkpoint records decodes back to the same config.
        #expect(try TrainingConfig.decode(Data(try config.json().utf8)) == config)
    }

    @Test func anUnknownKeyIsRejected() throws {
        let text = Self.valid.replacingOccurrences(of: "\"lr\": 1.5e-4", with: "\"lr\": 1.5e-4, \"learning_rate\": 1")
        let error = #expect(throws: TrainingConfigError.self) { try TrainingConfig.decode(Data(text.utf8)) }
        #expect(error?.problems.map(\.keyPath) == ["training.learning_rate"])
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let text = """
        {
          "model": {"family": "gtp", "layers": 2, "heads": 3, "sequence_length": 32, "vocab_size": 1000,
                    "hidden_dropout": 1.5},
          "training": {"steps": "many", "micro_batch": 4, "global_batch": 6, "lr": -1, "tp": 2, "dp": 4,
                       "train_data": "x.h5", "warmup": 5}
        }
        """
        let error = #expect(throws: TrainingConfigError.self) { try TrainingConfig.decode(Data(text.utf8), source: "run.json") }
        let paths = Set(error?.problems.map(\.keyPath) ?? [])
        #expect(paths == ["model.family", "model.hidden", "model.hidden_dropout", "model.heads", "training.steps",
                          "training.lr", "training.warmup", "training.global_batch"])
        #expect(error?.source == "run.json")
        #expect(error?.description.contains("\"gtp\" is not one of \"gpt\", \"bert\"") == true)
        #expect(error?.problems.first { $0.keyPath == "model.hidden" }?.problem == "missing (required)")
    }

    /// `training.sequence_parallel`: off by default; at tp 1 or with a sequence tp does not split,
    /// each violation is reported at its key with the fix.
    @Test func sequenceParallelIsCheckedAgainstTheLayout() throws {
        let data = Data(Self.valid.utf8)
        #expect(!(try TrainingConfig.decode(data)).training.sequenceParallel)
        #expect(try TrainingConfig.decode(data, overrides: ["training.sequence_parallel=true"]).training.sequenceParallel)
        let error = #expect(throws: TrainingConfigError.self) {
            try TrainingConfig.decode(data, overrides: ["training.sequence_parallel=true", "training.tp=1",
                                                        "model.sequence_length=31", "model.max_positions=32"])
        }
        #expect(error?.problems.map(\.keyPath) == ["training.sequence_parallel"])
        #expect(error?.problems.first?.problem.contains("set tp ≥ 2 or turn sequence_parallel off") == true)
        let uneven = #expect(throws: TrainingConfigError.self) {
            try TrainingConfig.decode(data, overrides: ["training.sequence_parallel=true", "model.sequence_length=31",
                                                        "model.max_positions=32"])
        }
        #expect(uneven?.problems.map(\.keyPath) == ["model.sequence_length"])
        #expect(uneven?.problems.first?.problem.contains("not divisible by the tensor-parallel size 2") == true)
    }

    /// Pipeline stages are built for GPT and BERT pretraining; fine-tuning for multiple choice
    /// runs at pp = 1, and the check names that beside the run's other violations.
    @Test func bertPretrainsInPipelineStagesAndFineTunesAtPP1() throws {
        let data = Data(Self.valid.utf8)
        let bert = try TrainingConfig.decode(data, overrides: ["model.family=bert", "training.pp=2"])
        try TrainingRun(config: bert).validate()
        let gpt = try TrainingConfig.decode(data, overrides: ["training.pp=2"])
        let error = #expect(throws: TrainingConfigError.self) { try TrainingRun(config: gpt, finetuneFrom: "bert.h5").validate() }
        #expect(error?.problems.map(\.keyPath) == ["model.family", "training.pp"])
        #expect(error?.problems.last?.problem.contains("fine-tuning for multiple choice runs at pp = 1") == true)
    }

    @Test func overridesAreAppliedAndCheckedLikeTheFile() throws {
        let data = Data(Self.valid.utf8)
        let config = try TrainingConfig.decode(data, overrides: ["training.lr=3e-4", "model.post_layernorm=true",
                                                                 "training.checkpoint_dir=runs/a", "training.tp=1",
                                                                 "training.recompute_activations=true"])
        #expect(config.training.learningRate == 3e-4 && config.model.postLayerNorm)
        #expect(config.training.recomputeActivations)
        #expect(config.training.checkpointDirectory == "runs/a" && config.training.tensorParallel == 1)
        let error = #expect(throws: TrainingConfigError.self) {
            try TrainingConfig.decode(data, overrides: ["training.bogus=1", "model.heads=5"])
        }
        #expect(Set(error?.problems.map(\.keyPath) ?? []) == ["training.bogus", "model.hidden", "model.heads"])
        #expect(throws: TrainingConfigError.self) { try TrainingConfig.decode(data, overrides: ["training.lr"]) }
    }
}
