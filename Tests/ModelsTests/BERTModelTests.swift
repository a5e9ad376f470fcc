import Collectives
import Models
import Testing
import TensorCore
import TensorParallel

let tinyBERT = BERTConfig(layers: 2, hidden: 16, heads: 4, maxPositions: 8, vocabSize: 59, paddedVocabSize: 64)

/// Sequences with padding at the end of every other one, ~15 % masked positions, same counts per
/// sequence so data-parallel masked means average to the global one.
func bertInput(first: Int, count: Int, sequence: Int, vocab: Int) -> BERTInput {
    let rng = CounterRNG(seed: 23, stream: 2)
    var tokens: [Int32] = [], types: [Int32] = [], padding: [Float] = [], labels: [Int32] = [], lossMask: [Float] = []
    for b in first..<(first + count) {
        for i in 0..<sequence {
            let k = b * sequence + i
            tokens.append(Int32(rng.bits(at: k) % UInt64(vocab)))
            types.append(i < sequence / 2 ? 0 : 1)
            padding.append(b % 2 == 1 && i >= sequence - 2 ? 0 : 1)
            labels.append(Int32(rng.bits(at: 10_000 + k) % UInt64(vocab)))
            lossMask.append(i == 2 || i == 4 ? 1 : 0)
        }
    }
    let binary = (first..<(first + count)).map { Int32($0 % 2) }
    return BERTInput(tokens: tokens, tokenTypes: types, paddingMask: padding, maskedLabels: labels,
                     maskedLossMask: lossMask, binaryLabels: binary)
}

func choiceInput(first: Int, count: Int, sequence: Int, vocab: Int) -> MultipleChoiceInput {
    let questions = bertInput(first: first * 4, count: count * 4, sequence: sequence, vocab: vocab)
    let labels = (first..<(first + count)).map { Int32(($0 * 3 + 1) % 4) }
    return MultipleChoiceInput(tokens: questions.tokens, tokenTypes: questions.tokenTypes,
                               paddingMask: questions.paddingMask, labels: labels, choices: 4)
}

@Suite struct BERTModelTests {
    @Test(arguments: [(2, 1, false), (4, 1, true), (1, 2, false), (2, 2, true)])
    func pretrainingParallelEqualsSerial(tp: Int, dp: Int, postLayerNorm: Bool) throws {
        var config = tinyBERT
        config.postLayerNorm = postLayerNorm
        let model = config
        let result = try modelEquivalence(
            tp: tp, dp: dp, batch: 2 * dp, sequence: 8,
            build: { BERTModel<Double>(config: model, seed: 3, group: $0) },
            input: { bertInput(first: $0, count: $1, sequence: 8, vocab: model.vocabSize) })
        #expect(result.loss <= 1e-12)
        #expect(result.gradients <= 1e-12)
    }

    @Test(arguments: [(2, 1), (2, 2)])
    func multipleChoiceParallelEqualsSerial(tp: Int, dp: Int) throws {
        let result = try modelEquivalence(
            tp: tp, dp: dp, batch: 8 * dp, sequence: 8,
            build: { BERTMultipleChoiceModel<Double>(config: tinyBERT, seed: 3, group: $0) },
            input: { choiceInput(first: $0 / 4, count: $1 / 4, sequence: 8, vocab: tinyBERT.vocabSize) })
        #expect(result.loss <= 1e-12)
        #expect(result.gradients <= 1e-12)
    }

    @Test(arguments: [false, true])
    func pretrainingBackwardMatchesFiniteDifferences(postLayerNorm: Bool) throws {
        var config = tinyBERT
        config.postLayerNorm = postLayerNorm
        config.initStd = 0.3
        let model = config
        let errors = try InProcessWorld.run(worldSize: 1) { world in
            let bert = BERTModel<Double>(config: model, seed: 8, group: TensorParallelGroup(world))
            let context = StepContext(step: 1, batch: 2, sequence: 8, dropoutSeed: 4)
            let input = bertInput(first: 0, count: 2, sequence: 8, vocab: model.vocabSize)
            _ = try bert.forwardBackward(input, context: context, lossScale: 1)
            return try finiteDifferenceErrors(bert) { try bert.loss(input, context: context).total }
        }[0]
        #expect(errors.count == 3 + 12 * 2 + 2 + 2 + 2 + 2 + 1 + 2)
        for (name, error) in errors { #expect(error <= 1e-6, "\(name): \(error)") }
    }

    @Test func multipleChoiceBackwardMatchesFiniteDifferences() throws {
        var config = tinyBERT
        config.initStd = 0.3
        let model = config
        let errors = try InProcessWorld.run(worldSize: 1) { world in
            let bert = BERTMultipleChoiceModel<Double>(config: model, seed: 8, group: TensorParallelGroup(world))
            let context = StepContext(step: 1, batch: 8, sequence: 8, dropoutSeed: 4)
            let input = choiceInput(first: 0, count: 2, sequence: 8, vocab: model.vocabSize)
            _ = try bert.forwardBackward(input, context: context, lossScale: 1)
            return try finiteDifferenceErrors(bert) { try bert.loss(input, context: context).total }
        }[0]
        #expect(errors.count == 3 + 12 * 2 + 2 + 2 + 2)
        for (name, error) in errors { #expect(error <= 1e-6, "\(name): \(error)") }
    }

    /// The LM head runs on the scored rows only, so its row count changes from batch to batch: a
    /// model that has just run a batch with more scored rows must give a fresh model's loss and
    /// gradients, and a batch with none an MLM loss of 0 and no LM-head gradient.
    @Test func scoredRowCountVariesBetweenBatches() throws {
        let outcome = try InProcessWorld.run(worldSize: 1) { world in
            let group = TensorParallelGroup(world)
            let used = BERTModel<Double>(config: tinyBERT, seed: 5, group: group)
            let fresh = BERTModel<Double>(config: tinyBERT, seed: 5, group: group)
            let context = StepContext(step: 1, batch: 2, sequence: 8, dropoutSeed: 4)
            let many = bertInput(first: 0, count: 2, sequence: 8, vocab: tinyBERT.vocabSize)
            var one = many
            one.maskedLossMask = many.maskedLossMask.indices.map { $0 == 12 ? 1 : 0 }
            var none = many
            none.maskedLossMask = many.maskedLossMask.map { _ in 0 }

            _ = try used.forwardBackward(many, context: context, lossScale: 1)
            used.parameters.zeroGradients()
            let afterMany = try used.forwardBackward(one, context: context, lossScale: 1)
            let alone = try fresh.forwardBackward(one, context: context, lossScale: 1)
            let sameGradients = used.parameters.gradients.array == fresh.parameters.gradients.array

            used.parameters.zeroGradients()
            let empty = try used.forwardBackward(none, context: context, lossScale: 1)
            let headGradient = used.parameters.parameters.filter { $0.name.hasPrefix("lm_head") }
                .map { $0.gradient.array.map(abs).max() ?? 0 }.max() ?? .nan
            let binaryGradient = used.parameters.parameters.filter { $0.name.hasPrefix("binary_head") }
                .map { $0.gradient.array.map(abs).max() ?? 0 }.max() ?? 0
            return (afterMany, alone, sameGradients, empty, headGradient, binaryGradient)
        }[0]
        #expect(outcome.0 == outcome.1)
        #expect(outcome.0.parts["mlm"]! > 0)
        #expect(outcome.2)
        #expect(outcome.3.parts["mlm"] == 0)
        #expect(outcome.4 == 0)
        #expect(outcome.5 > 0)
    }
}
