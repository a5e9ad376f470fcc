import Collectives
import Experiments
import PerformanceModel
import Testing
import Training

/// The trace the `scaling-model` experiment predicts a timed run from is the step `bench train`
/// and the `scaling` runs time: the same GEMM FLOPs and all-reduces on rank 0 of a real timed step.
@Suite struct ScalingTraceTests {
    @Test(arguments: [(1, 1), (2, 1), (1, 2), (4, 2)])
    func timedStepMatchesItsTrace(tp: Int, dp: Int) throws {
        var sizes = TrainBenchSizes()
        (sizes.layers, sizes.hidden, sizes.heads, sizes.seq, sizes.vocab, sizes.batch) = (2, 64, 8, 96, 1000, 4)
        (sizes.threads, sizes.tp, sizes.dp) = (1, tp, dp)
        let outcome = try TrainingStepBench(sizes: sizes, warmup: 0, steps: 1).run()
        let trace = GPTStepTrace.build(sizes.stepTrace)
        #expect(outcome.gemmFLOPsPerStep == trace.gemmFLOPs)
        #expect(outcome.allReducesPerStep["tp"] == trace.tally(.allReduce, group: .tensorParallel))
        #expect(outcome.allReducesPerStep["dp"] == trace.tally(.allReduce, group: .dataParallel))
        #expect(outcome.localParameters == trace.parametersPerRank)
    }
}
