import Collectives
import Testing
import TensorCore
import TensorParallel
import Training

@Suite struct OptimizerTests {
    /// With zero gradients Adam's step is exactly zero, so what remains is the decoupled decay:
    /// decayed parameters shrink by (1 − lr·λ), biases and layer norms stay as they were.
    @Test func weightDecayOnlyOnTheDecayedRange() throws {
        let results = try InProcessWorld.run(worldSize: 1) { world in
            let group = TensorParallelGroup(world)
            let weight = Parameter<Float>(name: "dense.weight", full: Tensor(shape: [2, 3], values: [1, -2, 3, 0.5, 4, -1]),
                                          partition: .replicated, weightDecay: true, group: group)
            let bias = Parameter<Float>(name: "dense.bias", full: Tensor(shape: [3], values: [0.25, -0.75, 2]),
                                        partition: .replicated, weightDecay: false, group: group)
            let set = ParameterSet([bias, weight])
            let before = (weight.value.array, bias.value.array)
            let optimizer = Optimizer(parameters: set,
                                      schedule: LearningRateSchedule(maxRate: 0.1, decaySteps: 10, style: .constant),
                                      hyperparameters: AdamWHyperparameters(learningRate: 0.1, weightDecay: 0.5),
                                      maxGradientNorm: nil)
            try optimizer.step(group: group)
            let afterDecay = (weight.value.array, bias.value.array)
            bias.gradient.fill(2)
            try optimizer.step(group: group)
            return (before, afterDecay, optimizer.moments(of: bias).first.array, optimizer.moments(of: weight).first.array)
        }
        let (before, after, biasMoment, weightMoment) = results[0]
        #expect(after.0 == before.0.map { $0 * Float(1 - 0.1 * 0.5) })
        #expect(after.1 == before.1)
        // m = (1 − β₁)·g after one step with a gradient, and stays 0 where there was none.
        #expect(biasMoment.allSatisfy { abs($0 - 0.2) < 1e-6 })
        #expect(weightMoment.allSatisfy { $0 == 0 })
    }

    /// At tp = 2 the global norm must equal the serial model's: split shards add up, replicated
    /// parameters count once. Counting them on both ranks must give a visibly different number.
    @Test func clippingNormAtTwoRanksEqualsTheSerialNorm() throws {
        let results = try InProcessWorld.run(worldSize: 2, timeout: 60) { world in
            let serialGroup = TensorParallelGroup(try world.split(color: world.rank, key: 0, name: "serial"))
            let parallelGroup = TensorParallelGroup(world)
            let serial = TinyLanguageModel(seed: 5, group: serialGroup)
            let parallel = TinyLanguageModel(seed: 5, group: parallelGroup)
            var source = TinySource(microBatch: 2, dpRank: 0, dpSize: 1)
            let batch = source.next()
            let context = StepContext(step: 0, batch: 2, sequence: 8, dropoutSeed: 1)
            _ = try serial.forwardBackward(batch, context: context, lossScale: 1)
            _ = try parallel.forwardBackward(batch, context: context, lossScale: 1)

            let serialNorm = serial.parameters.parameters
                .map { $0.gradient.array.reduce(0.0) { $0 + Double($1) * Double($1) } }.reduce(0, +).squareRoot()
            let norm = try GradientClipping.globalNorm(parallel.parameters, group: parallelGroup)
            let everything = Tensor<Double>(shape: [1], values: [parallel.parameters.parameters
                    .map { $0.gradient.array.reduce(0.0) { $0 + Double($1) * Double($1) } }.reduce(0, +)])
            try world.allReduce(everything)
            let doubleCounted = everything.pointer[0].squareRoot()

            try GradientClipping.clip(parallel.parameters, maxNorm: serialNorm / 2, group: parallelGroup)
            let clipped = try GradientClipping.globalNorm(parallel.parameters, group: parallelGroup)
            return (serialNorm, norm, doubleCounted, clipped)
        }
        for (serialNorm, norm, doubleCounted, clipped) in results {
            #expect(abs(norm - serialNorm) / serialNorm < 1e-5)
            #expect(abs(doubleCounted - serialNorm) / serialNorm > 1e-3)
            #expect(abs(clipped - serialNorm / 2) / serialNorm < 1e-5)
        }
        #expect(results[0].1 == results[1].1)
    }
}
