import TensorParallel

extension StepContext {
    /// A forward pass of evaluation: every dropout off.
    static func evaluation(batch: Int, sequence: Int) -> StepContext {
        StepContext(step: 0, batch: batch, sequence: sequence, dropoutSeed: 0, training: false)
    }
}
