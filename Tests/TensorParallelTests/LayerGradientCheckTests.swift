import Collectives
import Testing
import TensorCore
import TensorParallel

/// The layers' backward passes against central finite differences of the forward, in Double:
/// the tp × dp tests show the parallel layers equal the serial ones, these show the serial ones
/// compute the true gradient. Dropout stays on: its masks are fixed by (seed, step, index).
@Suite struct LayerGradientCheckTests {
    @Test(arguments: [false, true])
    func transformerLayerBackwardMatchesFiniteDifferences(postLayerNorm: Bool) throws {
        let config = TransformerConfig(layers: 1, hidden: 8, heads: 2, attentionDropout: 0.2,
                                       hiddenDropout: 0.2, postLayerNorm: postLayerNorm)
        let errors = try InProcessWorld.run(worldSize: 1) { world in
            let initializer = ParameterInitializer(seed: 21)
            let layer = ParallelTransformerLayer<Double>(name: "layer", config: config, initializer: initializer,
                                                         group: TensorParallelGroup(world))
            // Larger weights than the 0.02 init, so every path carries a visible gradient.
            for p in layer.parameters where p.weightDecay {
                for i in 0..<p.value.count { p.value.pointer[i] *= 20 }
            }
            let context = StepContext(step: 0, batch: 2, sequence: 3, dropoutSeed: 5)
            let x: Tensor<Double> = initializer.normal("x", shape: [6, 8], std: 1)
            let r: Tensor<Double> = initializer.normal("r", shape: [6, 8], std: 1)
            func loss() throws -> Double {
                let y = try layer.forward(x, context: context)
                return (0..<y.count).reduce(0) { $0 + y.pointer[$1] * r.pointer[$1] }
            }
            _ = try loss()
            let dx = try layer.backward(r).copy()
            var worst: [String: Double] = [:]
            let h = 1e-6
            func numeric(_ t: Tensor<Double>, _ i: Int) throws -> Double {
                let saved = t.pointer[i]
                t.pointer[i] = saved + h
                let plus = try loss()
                t.pointer[i] = saved - h
                let minus = try loss()
                t.pointer[i] = saved
                return (plus - minus) / (2 * h)
            }
            func check(_ name: String, _ t: Tensor<Double>, _ analytic: Tensor<Double>) throws {
                var diff = 0.0, scale = 1e-300
                for i in Swift.stride(from: 0, to: t.count, by: Swift.max(1, t.count / 24)) {
                    let n = try numeric(t, i)
                    diff = Swift.max(diff, abs(n - analytic.pointer[i]))
                    scale = Swift.max(scale, abs(n))
                }
                worst[name] = diff / scale
            }
            try check("input", x, dx)
            for p in layer.parameters { try check(p.name, p.value, p.gradient) }
            return worst
        }[0]
        #expect(errors.count == 13, "the input and 12 parameters")
        for (name, error) in errors { #expect(error <= 1e-6, "\(name): finite-difference error \(error)") }
    }
}
