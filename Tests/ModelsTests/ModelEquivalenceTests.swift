import Collectives
import Models
import Testing
import TensorCore
import TensorParallel

/// One forward + backward of a whole model at tp × dp against the same model at tp = dp = 1 on
/// every rank: the loss (dp-averaged) and every gradient shard must match the serial ones.
/// Returns the worst relative differences of the loss and of the gradients.
func modelEquivalence<M: TrainableModel & SendableMetatype>(
    tp: Int, dp: Int, batch: Int, sequence: Int,
    build: @escaping @Sendable (TensorParallelGroup) -> M,
    input: @escaping @Sendable (_ first: Int, _ count: Int) -> M.Batch
) throws -> (loss: Double, gradients: Double) {
    let results = try InProcessWorld.run(worldSize: tp * dp, timeout: 60) { world in
        let grid = try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp)
        let serial = build(TensorParallelGroup(try world.split(color: world.rank, key: 0, name: "serial")))
        let parallel = build(TensorParallelGroup(grid.tensorParallel))
        let local = batch / dp, offset = grid.dataParallelRank * local
        let serialLoss = try serial.forwardBackward(
            input(0, batch), context: StepContext(step: 3, batch: batch, sequence: sequence, dropoutSeed: 9),
            lossScale: 1).total
        let parallelLoss = try parallel.forwardBackward(
            input(offset, local),
            context: StepContext(step: 3, batch: local, sequence: sequence, batchOffset: offset, dropoutSeed: 9),
            lossScale: 1).total
        try parallel.parameters.averageGradients(over: grid.dataParallel)
        let losses = Tensor<Double>(shape: [1], values: [parallelLoss / Double(dp)])
        try grid.dataParallel.allReduce(losses)
        var worst = 0.0
        for (s, p) in zip(serial.parameters.parameters, parallel.parameters.parameters) {
            precondition(s.name == p.name, "parameter order differs: \(s.name) vs \(p.name)")
            let expected = p.partition.shard(s.gradient, rank: grid.tensorParallelRank, size: tp)
            worst = max(worst, relativeDifference(p.gradient, expected))
        }
        return (abs(losses.pointer[0] - serialLoss) / abs(serialLoss), worst)
    }
    return (results.map(\.0).max()!, results.map(\.1).max()!)
}

/// Central differences of `loss` for a sample of every parameter's entries; worst relative error per parameter.
func finiteDifferenceErrors<M: TrainableModel>(_ model: M, loss: () throws -> Double) rethrows -> [String: Double] {
    var worst: [String: Double] = [:]
    for p in model.parameters.parameters {
        // Scaled by the largest gradient entry seen; absolute where a parameter's sampled
        // entries all have (near) zero gradient, such as embedding rows of absent tokens.
        var diff = 0.0, scale = 1e-8
        for i in Swift.stride(from: 0, to: p.value.count, by: Swift.max(1, p.value.count / 10)) {
            let saved = p.value.pointer[i], h = M.Scalar(1e-6)
            p.value.pointer[i] = saved + h
            let plus = try loss()
            p.value.pointer[i] = saved - h
            let minus = try loss()
            p.value.pointer[i] = saved
            let numeric = (plus - minus) / 2e-6
            diff = Swift.max(diff, abs(numeric - Double(p.gradient.pointer[i])))
            scale = Swift.max(scale, abs(numeric), abs(Double(p.gradient.pointer[i])))
        }
        worst[p.name] = diff / scale
    }
    return worst
}

let tinyGPT = GPTConfig(layers: 2, hidden: 16, heads: 4, maxPositions: 9, vocabSize: 61, paddedVocabSize: 64,
                        attentionDropout: 0.1, hiddenDropout: 0.1)

func gptInput(first: Int, count: Int, sequence: Int, vocab: Int) -> GPTInput {
    let rng = CounterRNG(seed: 17, stream: 1)
    let tokens = (0..<(count * sequence)).map { Int32(rng.bits(at: first * sequence + $0) % UInt64(vocab)) }
    let labels = (0..<(count * sequence)).map { Int32(rng.bits(at: 1_000_000 + first * sequence + $0) % UInt64(vocab)) }
    // Every sequence masks the same positions, so each data-parallel rank's masked mean weighs
    // as many tokens and their average is the global masked mean.
    let mask = (0..<(count * sequence)).map { Float(($0 % sequence) % 4 == 3 ? 0 : 1) }
    return GPTInput(tokens: tokens, labels: labels, lossMask: mask)
}

@Suite struct GPTModelTests {
    @Test(arguments: [(2, 1), (4, 1), (1, 2), (2, 2)])
    func parallelEqualsSerialInDouble(tp: Int, dp: Int) throws {
        let (batch, sequence) = (2 * dp, 9)
        let result = try modelEquivalence(
            tp: tp, dp: dp, batch: batch, sequence: sequence,
            build: { GPTModel<Double>(config: tinyGPT, seed: 5, group: $0) },
            input: { gptInput(first: $0, count: $1, sequence: sequence, vocab: tinyGPT.vocabSize) })
        #expect(result.loss <= 1e-12)
        #expect(result.gradients <= 1e-12)
    }

    @Test func parallelEqualsSerialInFloat() throws {
        let result = try modelEquivalence(
            tp: 2, dp: 2, batch: 6, sequence: 9,
            build: { GPTModel<Float>(config: tinyGPT, seed: 5, group: $0) },
            input: { gptInput(first: $0, count: $1, sequence: 9, vocab: tinyGPT.vocabSize) })
        #expect(result.loss <= 1e-5)
        #expect(result.gradients <= 1e-5)
    }

    /// The whole model's backward against central differences of its loss, dropout on.
    @Test func backwardMatchesFiniteDifferences() throws {
        var wide = tinyGPT
        wide.initStd = 0.3
        let config = wide
        let errors = try InProcessWorld.run(worldSize: 1) { world in
            let model = GPTModel<Double>(config: config, seed: 8, group: TensorParallelGroup(world))
            let context = StepContext(step: 1, batch: 2, sequence: 5, dropoutSeed: 4)
            let input = gptInput(first: 0, count: 2, sequence: 5, vocab: config.vocabSize)
            _ = try model.forwardBackward(input, context: context, lossScale: 1)
            return try finiteDifferenceErrors(model) { try model.loss(input, context: context).total }
        }[0]
        #expect(errors.count == 2 + 12 * 2 + 2)
        for (name, error) in errors { #expect(error <= 1e-6, "\(name): \(error)") }
    }
}
