import Collectives
import Foundation
import Models
import Testing
import TensorCore
import TensorParallel
import Training

@Suite struct FineTuningLoadTests {
    /// A BERT pretraining checkpoint written at tp = 2 starts a multiple-choice model at tp = 1:
    /// the body's weights arrive by name, the new head keeps its initialisation, the pretraining
    /// heads are skipped, and all three are said.
    @Test func multipleChoiceModelLoadsThePretrainedBody() throws {
        let config = BERTConfig(layers: 1, hidden: 16, heads: 4, maxPositions: 8, vocabSize: 30, paddedVocabSize: 32)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/pretrained.h5"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pretrained = try InProcessWorld.run(worldSize: 2) { world in
            let grid = try ProcessGrid(world: world, tensorParallel: 2, dataParallel: 1)
            let group = TensorParallelGroup(grid.tensorParallel)
            let model = BERTModel<Float>(config: config, seed: 77, group: group)
            let optimizer = Optimizer(parameters: model.parameters, schedule: LearningRateSchedule(maxRate: 1e-3, decaySteps: 1),
                                      hyperparameters: AdamWHyperparameters(learningRate: 1e-3), maxGradientNorm: nil)
            try Checkpoint.write(to: path, optimizer: optimizer, grid: grid,
                                 model: CheckpointModelInfo(configJSON: "{}", paddedVocabSize: 32),
                                 state: TrainingState(step: 0, dataPosition: .start, dropoutSeed: 77, lossCurve: []))
            var full: [String: [Float]] = [:]
            for p in model.parameters.parameters {
                full[p.name] = try ParameterSet.gathered(p.value, of: p, group: group).array
            }
            return full
        }[0]
        let (loaded, report) = try InProcessWorld.run(worldSize: 1) { world in
            let model = BERTMultipleChoiceModel<Float>(config: config, seed: 5, group: TensorParallelGroup(world))
            let report = try Checkpoint.readWeights(from: path, into: model.parameters, group: TensorParallelGroup(world))
            return (Dictionary(uniqueKeysWithValues: model.parameters.parameters.map { ($0.name, $0.value.array) }), report)
        }[0]
        #expect(report.initialized == ["multiple_choice_head.weight", "multiple_choice_head.bias"])
        #expect(report.skipped == ["binary_head.bias", "binary_head.weight", "lm_head.bias", "lm_head.dense.bias",
                                   "lm_head.dense.weight", "lm_head.layernorm.bias", "lm_head.layernorm.weight"])
        for (name, values) in loaded where !name.hasPrefix("multiple_choice_head") {
            #expect(values == pretrained[name], "\(name) differs from the pretrained weights")
        }
    }
}
