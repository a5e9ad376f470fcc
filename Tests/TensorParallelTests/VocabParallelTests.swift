import Collectives
import Testing
import TensorCore
import TensorParallel

/// Vocabulary-parallel embedding and cross-entropy against the serial kernels on the full
/// vocabulary: an odd vocabulary (203) padded to 208, which splits over 1, 2, 4 and 8 ranks.
@Suite struct VocabParallelTests {
    static let (vocab, padded, hidden, tokens) = (203, 208, 12, 3 * 23)

    static func ids(_ stream: UInt64) -> [Int32] {
        let rng = CounterRNG(seed: 7, stream: stream)
        return (0..<tokens).map { Int32(rng.bits(at: $0) % UInt64(vocab)) }
    }

    @Test(arguments: [1, 2, 4, 8])
    func crossEntropyMatchesFullVocabulary(tp: Int) throws {
        let (n, v) = (Self.tokens, Self.padded)
        let initializer = ParameterInitializer(seed: 3)
        let logits: Tensor<Double> = initializer.normal("logits", shape: [n, v], std: 2)
        let targets = Self.ids(1)
        let ignore = (0..<n).map { $0 % 5 == 0 }
        let dLosses: Tensor<Double> = initializer.normal("dlosses", shape: [n], std: 1)

        let losses = Tensor<Double>(zeros: [n]), lse = Tensor<Double>(zeros: [n])
        CrossEntropy.forward(losses: losses, logSumExp: lse, logits: logits, targets: targets, ignore: ignore)
        let dFull = Tensor<Double>(zeros: [n, v])
        CrossEntropy.backward(dLogits: dFull, dLosses: dLosses, logits: logits, logSumExp: lse,
                              targets: targets, ignore: ignore)

        let results = try InProcessWorld.run(worldSize: tp, timeout: 30) { world in
            let group = TensorParallelGroup(world)
            let range = VocabUtility.range(paddedVocabSize: v, rank: group.rank, worldSize: tp)
            let shard = logits.narrowed(dimension: 1, start: range.lowerBound, length: range.count)
            let loss = VocabParallelCrossEntropy<Double>(vocabRange: range, group: group)
            let out = try loss.forward(logits: shard, targets: targets, ignore: ignore)
            let d = loss.backward(dLosses)
            let expected = dFull.narrowed(dimension: 1, start: range.lowerBound, length: range.count)
            let counted = world.counters.tally(.allReduce)
            return (relativeDifference(out, losses), relativeDifference(d, expected), counted.calls, counted.elements)
        }
        for (lossDiff, gradDiff, calls, elements) in results {
            #expect(lossDiff <= 1e-13)
            #expect(gradDiff <= 1e-13)
            // Three reductions of one scalar per token, never the b·s·v logits.
            #expect(calls == (tp > 1 ? 3 : 0))
            #expect(elements == (tp > 1 ? 3 * n : 0))
        }
    }

    /// The padded rows (ids 203 ..< 208, on the last shard) take no probability and get no
    /// gradient even where their logits are the largest: the loss is the 203-class one.
    @Test(arguments: [1, 2, 4, 8])
    func paddedRowsTakeNoProbability(tp: Int) throws {
        let (n, v, real) = (Self.tokens, Self.padded, Self.vocab)
        let initializer = ParameterInitializer(seed: 4)
        let logits: Tensor<Double> = initializer.normal("logits", shape: [n, v], std: 2)
        for r in 0..<n { for c in real..<v { logits.pointer[r * v + c] = 50 } }
        let targets = Self.ids(3)
        let dLosses: Tensor<Double> = initializer.normal("dlosses", shape: [n], std: 1)
        let realLogits = logits.narrowed(dimension: 1, start: 0, length: real)
        let losses = Tensor<Double>(zeros: [n]), lse = Tensor<Double>(zeros: [n])
        CrossEntropy.forward(losses: losses, logSumExp: lse, logits: realLogits, targets: targets)
        let dReal = Tensor<Double>(zeros: [n, real])
        CrossEntropy.backward(dLogits: dReal, dLosses: dLosses, logits: realLogits, logSumExp: lse, targets: targets)
        let dFull = Tensor<Double>(zeros: [n, v])
        dFull.place(dReal, dimension: 1, start: 0)

        let results = try InProcessWorld.run(worldSize: tp, timeout: 30) { world in
            let group = TensorParallelGroup(world)
            let range = VocabUtility.range(paddedVocabSize: v, rank: group.rank, worldSize: tp)
            let shard = logits.narrowed(dimension: 1, start: range.lowerBound, length: range.count)
            let loss = VocabParallelCrossEntropy<Double>(vocabRange: range, vocabSize: real, group: group)
            let out = try loss.forward(logits: shard, targets: targets)
            let d = loss.backward(dLosses)
            let expected = dFull.narrowed(dimension: 1, start: range.lowerBound, length: range.count)
            return (relativeDifference(out, losses), relativeDifference(d, expected))
        }
        for (lossDiff, gradDiff) in results {
            #expect(lossDiff <= 1e-13)
            #expect(gradDiff <= 1e-13)
        }
    }

    @Test(arguments: [1, 2, 4])
    func embeddingMatchesFullTable(tp: Int) throws {
        let (n, v, h) = (Self.tokens, Self.padded, Self.hidden)
        let ids = Self.ids(2)
        let initializer = ParameterInitializer(seed: 5)
        let dOut: Tensor<Float> = initializer.normal("dout", shape: [n, h], std: 1)
        let serial = try InProcessWorld.run(worldSize: 1) { world in
            let e = VocabParallelEmbedding<Float>(name: "word_embeddings", paddedVocabSize: v, hidden: h,
                                                  initStd: 0.02, initializer: initializer, group: TensorParallelGroup(world))
            let out = try e.forward(ids).copy()
            e.backward(dOut)
            return (out, e.weight.gradient.copy())
        }[0]
        let results = try InProcessWorld.run(worldSize: tp, timeout: 30) { world in
            let group = TensorParallelGroup(world)
            let e = VocabParallelEmbedding<Float>(name: "word_embeddings", paddedVocabSize: v, hidden: h,
                                                  initStd: 0.02, initializer: initializer, group: group)
            let out = try e.forward(ids)
            e.backward(dOut)
            let expected = e.weight.partition.shard(serial.1, rank: group.rank, size: tp)
            return (relativeDifference(out, serial.0), relativeDifference(e.weight.gradient, expected))
        }
        for (outDiff, gradDiff) in results {
            #expect(outDiff == 0, "exactly one rank contributes each row, so the sum is exact")
            #expect(gradDiff == 0)
        }
    }
}
