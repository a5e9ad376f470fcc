import Collectives
import Testing
import TensorCore
import TensorParallel

@Suite struct ReplicatedParameterTests {
    /// Layer norms and row-parallel biases see replicated inputs, so their gradients, and after
    /// an optimizer step their values, must stay bit-identical on every tensor-parallel rank.
    @Test func replicasStayBitIdenticalThroughAdamW() throws {
        let config = TransformerConfig(layers: 2, hidden: 16, heads: 4)
        let results = try InProcessWorld.run(worldSize: 2, timeout: 30) { world in
            let group = TensorParallelGroup(world)
            let initializer = ParameterInitializer(seed: 11)
            let layers = (0..<2).map {
                ParallelTransformerLayer<Float>(name: "layers.\($0)", config: config, initializer: initializer, group: group)
            }
            let set = ParameterSet(layers.flatMap(\.parameters))
            let m = Tensor<Float>(zeros: set.values.shape), v = Tensor<Float>(zeros: set.values.shape)
            for step in 1...3 {
                let context = StepContext(step: step, batch: 2, sequence: 5, dropoutSeed: 1)
                var h: Tensor<Float> = initializer.normal("x\(step)", shape: [10, 16], std: 1)
                for layer in layers { h = try layer.forward(h, context: context) }
                var g: Tensor<Float> = initializer.normal("dy\(step)", shape: [10, 16], std: 1)
                set.zeroGradients()
                for layer in layers.reversed() { g = try layer.backward(g) }
                AdamW.update(parameters: set.values, gradients: set.gradients, firstMoments: m, secondMoments: v,
                             step: step, hyperparameters: AdamWHyperparameters(learningRate: 1e-2))
            }
            var mismatched: [String] = []
            var replicated = 0
            for p in set.parameters where p.isReplicated {
                replicated += 1
                let both = Tensor<Float>(zeros: [2, p.value.count])
                try world.allGather(p.value.reshaped([p.value.count]), into: both.reshaped([both.count]))
                if both[0].array.map(\.bitPattern) != both[1].array.map(\.bitPattern) { mismatched.append(p.name) }
            }
            return (mismatched, replicated)
        }
        for (mismatched, replicated) in results {
            #expect(mismatched.isEmpty, "replicas diverged: \(mismatched)")
            #expect(replicated == 2 * 6, "per layer: 2 layer norms × 2 + 2 row-parallel biases")
        }
    }
}
