import PerformanceModel
import Training

extension TrainBenchSizes {
    /// The performance model's view of a timed step (`bench train`, the `scaling` runs): the
    /// benchmark loop, each data-parallel rank one micro-batch of batch/dp sequences, float32.
    public var stepTrace: StepTraceConfig {
        StepTraceConfig(model: model, tensorParallel: tp, dataParallel: dp, microBatch: batch / dp, sequence: seq,
                        loop: .benchmark, elementBytes: 4)
    }
}
