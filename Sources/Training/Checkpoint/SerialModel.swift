import Collectives
import Models
import TensorCore
import TensorParallel

/// The parameters of the model a config describes, built whole (tp = 1) on a one-rank world:
/// how the importers and exporters hold our full tensors by name.
enum SerialModel {
    static func withParameters<T: TensorScalar, R: Sendable>(
        _: T.Type, config: TrainingConfig, _ body: @escaping @Sendable (ParameterSet<T>, ProcessGrid) throws -> R
    ) throws -> R {
        let run = TrainingRun(config: config)
        return try InProcessWorld.run(worldSize: 1) { world -> R in
            let grid = try ProcessGrid(world: world, tensorParallel: 1, dataParallel: 1)
            let group = TensorParallelGroup(grid.tensorParallel)
            let parameters = config.model.family == .gpt
                ? GPTModel<T>(config: run.gptConfig, seed: config.training.seed, group: group).parameters
                : BERTModel<T>(config: run.bertConfig, seed: config.training.seed, group: group).parameters
            return try body(parameters, grid)
        }[0]
    }
}
