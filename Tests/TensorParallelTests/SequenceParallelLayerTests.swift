import Collectives
import Testing
import TensorCore
import TensorParallel

@Suite struct SequenceParallelLayerTests {
    /// A stack on sequence shards computes the serial stack's outputs and gradients at those
    /// positions: to rounding in Double, with dropout on, pre- and post-LN, over two steps.
    @Test(arguments: [(2, 1, false), (4, 1, false), (2, 2, false), (2, 1, true), (4, 2, true)])
    func doubleMatchesSerialToRounding(tp: Int, dp: Int, postLayerNorm: Bool) throws {
        var config = oddConfig
        config.postLayerNorm = postLayerNorm
        var check = LayerStackEquivalence(config: config, batch: 2 * dp, sequence: 8, steps: 2)
        check.sequenceParallel = true
        let report = try equivalenceReport(Double.self, tp: tp, dp: dp, check: check)
        for d in report.differences { #expect(d.relative <= 1e-12, "\(d.name) differs by \(d.relative)") }
        #expect(report.differences.count > 30)
    }

    /// Per layer, sequence parallelism's reduce-scatters and all-gathers move the bytes of the
    /// all-reduces they replace: a ring all-reduce of N elements sends 2(t − 1)/t·N per rank, a
    /// reduce-scatter or an all-gather (t − 1)/t·N, and each all-reduce of b·s·h becomes one of
    /// each. Backward gathers the two column-parallel inputs again (kept as shards), counted apart.
    @Test(arguments: [2, 4])
    func collectivesMoveTheBytesOfTheAllReducesTheyReplace(tp: Int) throws {
        var check = LayerStackEquivalence(config: oddConfig, batch: 2, sequence: 8)
        let tensorParallel = try equivalenceReport(Float.self, tp: tp, dp: 1, check: check).collectives
        check.sequenceParallel = true
        let sequenceParallel = try equivalenceReport(Float.self, tp: tp, dp: 1, check: check).collectives
        let tokens = check.batch * check.sequence, bytes = tokens * oddConfig.hidden * 4
        /// Bytes one rank sends in a ring, as nccl-tests' bus bandwidth counts them.
        func wire(_ ops: [CollectiveOp: CollectiveTally]?) -> Double {
            let ring = Double(tp - 1) / Double(tp)
            return 2 * ring * Double(ops?[.allReduce]?.bytes ?? 0)
                + ring * Double((ops?[.allGather]?.bytes ?? 0) + (ops?[.reduceScatter]?.bytes ?? 0))
        }
        for layer in 0..<oddConfig.layers {
            for pass in ["forward", "backward"] {
                let scope = "layer\(layer)/\(pass)"
                let (replaced, conjugates) = (tensorParallel[scope], sequenceParallel[scope])
                #expect(replaced?[.allReduce] == CollectiveTally(calls: 2, elements: 2 * bytes / 4, bytes: 2 * bytes))
                #expect(conjugates?[.allReduce]?.calls == 0)
                #expect(conjugates?[.reduceScatter] == CollectiveTally(calls: 2, elements: 2 * bytes / 4, bytes: 2 * bytes))
                #expect(conjugates?[.allGather] == CollectiveTally(calls: 2, elements: 2 * bytes / 4, bytes: 2 * bytes))
                #expect(wire(conjugates) == wire(replaced), "\(scope)")
            }
            let regather = sequenceParallel["layer\(layer)/backward/regather"]
            #expect(regather?[.allGather] == CollectiveTally(calls: 2, elements: 2 * bytes / 4, bytes: 2 * bytes))
            #expect(tensorParallel["layer\(layer)/backward/regather"]?[.allGather]?.calls == 0)
        }
    }
}
