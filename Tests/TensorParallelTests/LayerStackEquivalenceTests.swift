import Collectives
import Testing
import TensorCore
import TensorParallel

/// Runs the equivalence check on an in-process world of tp × dp ranks.
func equivalenceReport<T: TensorScalar>(
    _: T.Type, tp: Int, dp: Int, check: LayerStackEquivalence
) throws -> LayerStackEquivalence.Report {
    let reports = try InProcessWorld.run(worldSize: tp * dp, timeout: 30) { world in
        let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
        return try check.run(T.self, grid: grid)
    }
    return reports[0]
}

/// Small, unaligned sizes (4 heads of 6, sequences of 5, 7 or 23) with dropout on.
let oddConfig = TransformerConfig(layers: 2, hidden: 24, heads: 4, attentionDropout: 0.1, hiddenDropout: 0.1)

@Suite struct LayerStackEquivalenceTests {
    @Test(arguments: [(1, 1), (2, 1), (4, 1), (1, 2), (2, 2)])
    func doubleMatchesSerialToRounding(tp: Int, dp: Int) throws {
        let check = LayerStackEquivalence(config: oddConfig, batch: 2 * dp, sequence: 7, steps: 2)
        let report = try equivalenceReport(Double.self, tp: tp, dp: dp, check: check)
        for d in report.differences { #expect(d.relative <= 1e-12, "\(d.name) differs by \(d.relative)") }
        #expect(report.differences.count > 30)
    }

    @Test(arguments: [(2, 1), (4, 1), (2, 2)])
    func floatMatchesSerial(tp: Int, dp: Int) throws {
        let check = LayerStackEquivalence(config: oddConfig, batch: 3 * dp, sequence: 23)
        let report = try equivalenceReport(Float.self, tp: tp, dp: dp, check: check)
        for d in report.differences { #expect(d.relative <= 1e-5, "\(d.name) differs by \(d.relative)") }
    }

    @Test func causalMaskAndBidirectionalBothHold() throws {
        var config = oddConfig
        config.causal = false
        let check = LayerStackEquivalence(config: config, batch: 2, sequence: 5)
        let report = try equivalenceReport(Double.self, tp: 2, dp: 1, check: check)
        #expect(report.worst <= 1e-12)
    }

    @Test func aLayerIssuesTwoAllReducesOfBSHEachWay() throws {
        let (b, s, h) = (2, 7, oddConfig.hidden)
        let check = LayerStackEquivalence(config: oddConfig, batch: b, sequence: s)
        let report = try equivalenceReport(Float.self, tp: 2, dp: 1, check: check)
        #expect(report.allReduces.count == 2 * oddConfig.layers)
        for entry in report.allReduces {
            #expect(entry.calls == 2, "\(entry.scope): \(entry.calls) all-reduces")
            #expect(entry.elements == 2 * b * s * h, "\(entry.scope): \(entry.elements) elements")
        }
    }
}

@Suite struct RelativeDifferenceTests {
    @Test func scalesByTheReferenceAndSeesOneBadEntry() {
        let b = Tensor<Double>(shape: [4], values: [1, -4, 2, 0])
        let a = Tensor<Double>(shape: [4], values: [1, -4, 2, 1e-3])
        #expect(abs(relativeDifference(a, b) - 2.5e-4) < 1e-15)
        #expect(relativeDifference(b, b) == 0)
    }
}
