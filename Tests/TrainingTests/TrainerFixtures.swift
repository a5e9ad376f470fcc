import Collectives
import Foundation
import TensorCore
import TensorParallel
import Training

enum Fixtures {
    static func trainer(grid: ProcessGrid, seed: UInt64 = 3, microBatch: Int = 1, microBatches: Int = 2,
                        steps: Int = 6) -> Trainer<TinyLanguageModel> {
        let model = TinyLanguageModel(seed: seed, group: TensorParallelGroup(grid.tensorParallel))
        let optimizer = Optimizer(parameters: model.parameters,
                                  schedule: LearningRateSchedule(maxRate: 1e-2, minRate: 1e-3, warmupSteps: 2, decaySteps: steps),
                                  hyperparameters: AdamWHyperparameters(learningRate: 1e-2), maxGradientNorm: 1)
        return Trainer(model: model, optimizer: optimizer, grid: grid,
                       options: TrainerOptions(microBatchSize: microBatch, microBatches: microBatches, sequenceLength: 8,
                                               dropoutSeed: 77, logInterval: 2, totalSteps: steps))
    }

    static func source(_ grid: ProcessGrid, microBatch: Int = 1) -> TinySource {
        TinySource(microBatch: microBatch, dpRank: grid.dataParallelRank, dpSize: grid.dataParallel.size)
    }

    /// Every parameter and both moments as full (tp = 1) tensors; collective over the TP group.
    static func fullState(_ trainer: Trainer<TinyLanguageModel>) throws -> [String: [UInt32]] {
        let group = trainer.model.tensorParallel
        var state: [String: [UInt32]] = [:]
        for p in trainer.model.parameters.parameters {
            let m = trainer.optimizer.moments(of: p)
            for (kind, t) in [("value", p.value), ("m", m.first), ("v", m.second)] {
                state["\(p.name).\(kind)"] = try ParameterSet.gathered(t, of: p, group: group).array.map(\.bitPattern)
            }
        }
        return state
    }

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("training-tests-\(UUID().uuidString)").path
    }

    static let modelInfo = CheckpointModelInfo(configJSON: "{\"tiny\": true}", paddedVocabSize: TinyLanguageModel.vocab)
}
