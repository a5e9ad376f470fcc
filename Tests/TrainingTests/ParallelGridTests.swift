import Testing
import Training

/// Issue 16's whole grid: every (tp, pp, dp, sequence parallel) in {1, 2, 4} × {1, 2, 4} × {1, 2}
/// × {off, on} that the model divides trains the serial model's loss curve, 20 AdamW steps with
/// dropout on (sequence parallelism needs tp > 1).
@Suite struct ParallelGridTests {
    @Test(arguments: [1, 2, 4])
    func everyLayoutOfTheGridGivesTheSerialCurve(pp: Int) throws {
        var check = PipelineParallelTests.check
        let reference = try check.losses(tp: 1, dp: 1)
        for tp in [1, 2, 4] {
            for dp in [1, 2] {
                for sequenceParallel in tp > 1 ? [false, true] : [false] where (tp, pp, dp) != (1, 1, 1) {
                    check.sequenceParallel = sequenceParallel
                    let curve = try check.losses(tp: tp, dp: dp, pp: pp)
                    let worst = zip(curve, reference).map { abs($0 - $1) / abs($1) }.max()!
                    #expect(curve.count == reference.count)
                    #expect(worst <= 1e-5, "tp \(tp) × pp \(pp) × dp \(dp), sp \(sequenceParallel): a loss differs by \(worst)")
                }
            }
        }
    }
}
