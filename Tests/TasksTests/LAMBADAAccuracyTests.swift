import Collectives
import Datasets
import Foundation
import Models
import Tasks
import Testing
import TensorCore
import TensorParallel

@Suite struct VocabParallelArgmaxTests {
    /// Rows with a tie across shards (ids 2 and 5), a tie inside one shard (5 and 7), a unique
    /// maximum in the last shard (6) and all-equal logits (0): the lowest id wins every tie.
    static let logits: [[Double]] = [
        [0, 1, 3, 0, 1, 3, 2, 0],
        [0, 1, 2, 0, 1, 4, 2, 4],
        [9, 1, 2, 0, 1, 4, 9.5, 4],
        [1, 1, 1, 1, 1, 1, 1, 1],
    ]
    static let expected = [2, 5, 6, 0]

    @Test(arguments: [1, 2, 4])
    func lowestIDWinsAcrossShards(tp: Int) throws {
        let results = try onGrid(tp: tp, dp: 1) { grid in
            let width = 8 / tp, rank = grid.tensorParallelRank
            let local = Self.logits.flatMap { $0[(rank * width)..<((rank + 1) * width)] }
            return try VocabParallelArgmax.argmax(Tensor<Double>(shape: [4, width], values: local), vocabStart: rank * width,
                                                  group: TensorParallelGroup(grid.tensorParallel))
        }
        for ids in results { #expect(ids == Self.expected) }
    }

    /// With a vocabulary of 5 (ids 5, 6, 7 padded, on the last shards), the padded ids never
    /// win, even where their logit is the largest (row 2's 9.5 at id 6).
    @Test(arguments: [1, 2, 4])
    func paddedIDsNeverWin(tp: Int) throws {
        let results = try onGrid(tp: tp, dp: 1) { grid in
            let width = 8 / tp, rank = grid.tensorParallelRank
            let local = Self.logits.flatMap { $0[(rank * width)..<((rank + 1) * width)] }
            return try VocabParallelArgmax.argmax(Tensor<Double>(shape: [4, width], values: local), vocabStart: rank * width,
                                                  vocabSize: 5, group: TensorParallelGroup(grid.tensorParallel))
        }
        for ids in results { #expect(ids == [2, 2, 0, 0]) }
    }
}

@Suite struct LAMBADAAccuracyTests {
    static func file() throws -> TokenFile {
        try TokenFile(path: TinyFixture.files().lambadaPrepared, kind: .lambada, remedy: "test")
    }

    /// A model that predicts token k at every position: an example is right iff every target
    /// token is k, whatever its context.
    @Test(arguments: [(1, 1), (2, 1), (2, 2)])
    func favouriteTokenModelDecidesAsExpected(tp: Int, dp: Int) throws {
        let vocab = try Self.file().header.vocabSize
        let (k, j) = (Int32(vocab - 3), Int32(5))
        let examples: [LAMBADAAccuracy.Example] = [
            .init(context: [1, 2, 3], target: [k]), .init(context: [4], target: [k, k]),
            .init(context: [7, 8], target: [k, j]), .init(context: [k, k], target: [j]),
            .init(context: [9, 9, 9, 9], target: [j, k]),
        ]
        let task = LAMBADAAccuracy(examples: examples, vocabSize: vocab)
        let config = tinyGPT(vocabSize: vocab, positions: 8)
        let results = try onGrid(tp: tp, dp: dp) { grid in
            let model = GPTModel<Float>(config: config, seed: 2, group: TensorParallelGroup(grid.tensorParallel))
            makeFavour(model, token: Int(k))
            return try task.evaluate(model: model, dataParallel: grid.dataParallel, batch: 2)
        }
        for result in results {
            #expect(result.correctByExample == [true, true, false, false, false])
            #expect(result.correct == 2 && result.total == 5 && result.truncated == 0)
        }
    }

    /// Logits that are all equal make every target token cost log V (V the vocabulary; the padded
    /// rows take no probability):
    /// the summed target loss is Σ len(target)·log V, the last-word perplexity V^(mean length).
    @Test(arguments: [(1, 1), (2, 1), (2, 2)])
    func uniformModelGivesHandComputedLastWordPerplexity(tp: Int, dp: Int) throws {
        let vocab = try Self.file().header.vocabSize
        let examples: [LAMBADAAccuracy.Example] = [
            .init(context: [1, 2, 3], target: [4]), .init(context: [4], target: [5, 6]),
            .init(context: [7, 8], target: [9, 10, 11]),
        ]
        let task = LAMBADAAccuracy(examples: examples, vocabSize: vocab)
        let config = tinyGPT(vocabSize: vocab, positions: 8)
        let results = try onGrid(tp: tp, dp: dp) { grid in
            let model = GPTModel<Double>(config: config, seed: 5, group: TensorParallelGroup(grid.tensorParallel))
            model.parameters.named("final_layernorm.weight").value.fill(0)
            return try task.evaluate(model: model, dataParallel: grid.dataParallel, batch: 2)
        }
        let logV = log(Double(config.vocabSize))
        for result in results {
            #expect(abs(result.targetLossSum - 6 * logV) <= 1e-12 * 6 * logV)
            #expect(abs(result.lastWordPerplexity / exp(2 * logV) - 1) <= 1e-12)
        }
    }

    /// The greedy continuation of each tiny-file context, computed with plain forwards and an
    /// argmax over the serial model's logits of the whole vocabulary: examples whose target is that continuation
    /// are right, the others right only where the file's target happens to equal it.
    @Test func greedyTargetsAreRightAtEveryGrid() throws {
        let file = try Self.file()
        let original = try LAMBADAAccuracy(file: file)
        let positions = original.examples.map { $0.context.count + $0.target.count }.max()!
        let vocab = file.header.vocabSize
        let config = tinyGPT(vocabSize: vocab, positions: positions)
        let greedy = try onGrid(tp: 1, dp: 1) { grid in
            let model = GPTModel<Double>(config: config, seed: 7, group: TensorParallelGroup(grid.tensorParallel))
            return try original.examples.map { e -> [Int32] in
                var tokens = e.context
                for _ in e.target {
                    let n = tokens.count
                    let logits = try model.forward(GPTInput(tokens: tokens, labels: tokens),
                                                   context: StepContext(step: 0, batch: 1, sequence: n, dropoutSeed: 0, training: false)).logits
                    let last = Array(logits.array[((n - 1) * config.paddedVocabSize)..<((n - 1) * config.paddedVocabSize + vocab)])
                    tokens.append(Int32(last.firstIndex(of: last.max()!)!))
                }
                return Array(tokens.suffix(e.target.count))
            }
        }[0]
        let mixed = original.examples.enumerated().map { i, e in
            i % 2 == 0 ? LAMBADAAccuracy.Example(context: e.context, target: greedy[i]) : e
        }
        let expected = mixed.enumerated().map { i, e in e.target == greedy[i] }
        #expect(expected.filter { $0 }.count >= mixed.count / 2)
        let task = LAMBADAAccuracy(examples: mixed, vocabSize: file.header.vocabSize)
        // The target loss is the cross-entropy at the target positions of one plain forward per example.
        let (serial, direct) = try onGrid(tp: 1, dp: 1) { grid in
            let model = GPTModel<Double>(config: config, seed: 7, group: TensorParallelGroup(grid.tensorParallel))
            let direct = try mixed.map { e -> Double in
                let tokens = e.context + e.target, n = tokens.count - 1
                let losses = try model.forward(GPTInput(tokens: Array(tokens.dropLast()), labels: Array(tokens.dropFirst())),
                                               context: StepContext(step: 0, batch: 1, sequence: n, dropoutSeed: 0, training: false)).losses
                return losses.array.suffix(e.target.count).reduce(0, +)
            }.reduce(0, +)
            return (try task.evaluate(model: model, dataParallel: grid.dataParallel, batch: 3), direct)
        }[0]
        #expect(abs(serial.targetLossSum - direct) <= 1e-10 * direct)
        for (tp, dp) in [(1, 1), (2, 1), (2, 2), (1, 3)] {
            let results = try onGrid(tp: tp, dp: dp) { grid in
                let model = GPTModel<Double>(config: config, seed: 7, group: TensorParallelGroup(grid.tensorParallel))
                return try task.evaluate(model: model, dataParallel: grid.dataParallel, batch: 5)
            }
            for result in results {
                #expect(result.correctByExample == expected, "tp \(tp) dp \(dp)")
                #expect(abs(result.targetLossSum - serial.targetLossSum) <= 1e-10 * serial.targetLossSum, "tp \(tp) dp \(dp)")
                #expect(result.total == mixed.count && result.truncated == 0)
            }
        }
    }

    /// A context too long for the sequence keeps its last s + 1 − len(target) tokens.
    @Test func longContextsAreCutOnTheLeft() throws {
        let file = try Self.file()
        let task = try LAMBADAAccuracy(file: file)
        let s = 12
        let cut = task.examples.map { e in
            LAMBADAAccuracy.Example(context: Array(e.context.suffix(s + 1 - e.target.count)), target: e.target)
        }
        let vocab = file.header.vocabSize
        let config = tinyGPT(vocabSize: vocab, positions: 64)
        let (short, manual) = try onGrid(tp: 1, dp: 1) { grid in
            let model = GPTModel<Double>(config: config, seed: 8, group: TensorParallelGroup(grid.tensorParallel))
            return (try task.evaluate(model: model, dataParallel: grid.dataParallel, sequence: s),
                    try LAMBADAAccuracy(examples: cut, vocabSize: vocab)
                        .evaluate(model: model, dataParallel: grid.dataParallel, sequence: s))
        }[0]
        #expect(short.truncated == task.examples.filter { $0.context.count + $0.target.count > s + 1 }.count)
        #expect(short.truncated > 0 && manual.truncated == 0)
        #expect(short.correctByExample == manual.correctByExample)
    }
}
