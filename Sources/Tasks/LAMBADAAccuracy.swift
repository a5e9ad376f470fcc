import Collectives
import Datasets
import Foundation
import Models
import TensorCore
import TensorParallel

/// Cloze accuracy: how many examples had every target token predicted, and how likely the
/// model found the targets.
public struct ClozeResult: Sendable, Codable, Equatable {
    public let correct: Int
    public let total: Int
    /// Examples whose context was cut on the left to fit the sequence length.
    public let truncated: Int
    /// Whether each example, in file order, was right.
    public let correctByExample: [Bool]
    /// The cross-entropy of every target token, summed over all examples.
    public let targetLossSum: Double

    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
    /// exp(targetLossSum / total): the perplexity of the last word (all its tokens), GPT-2's
    /// LAMBADA perplexity: graded, so it can still tell models apart where strict accuracy is 0.
    public var lastWordPerplexity: Double { total > 0 ? exp(targetLossSum / Double(total)) : .nan }
}

/// LAMBADA in Megatron's strict mode (`tasks/zeroshot_gpt2/evaluate.py`, `--strict-lambada`):
/// the input is the context followed by the target, BPE(" " + last word); teacher-forced, an
/// example is right iff at every target position the argmax of the vocabulary's logits is the
/// target token (Megatron's gathered logits include the padded rows; here they never win). The
/// output layer runs on the target positions only.
///
/// Megatron pads every example to s + 1 tokens; here a batch is padded to its longest example,
/// which changes nothing a causal model computes for the real positions. A context longer than
/// s + 1 − len(target) tokens is cut on the left (Megatron would fail on it), and reported.
public struct LAMBADAAccuracy: Sendable {
    public struct Example: Sendable, Equatable {
        public var context: [Int32]
        public var target: [Int32]

        public init(context: [Int32], target: [Int32]) {
            self.context = context
            self.target = target
        }
    }

    public let examples: [Example]
    public let vocabSize: Int
    let source: String

    /// Reads a `lambada` file (`megatron prepare lambada`).
    public init(file: TokenFile) throws {
        let targets = try file.dataset(TokenFileSchema.Dataset.targetOffsets, as: Int64.self, count: file.documentCount)
        var examples: [Example] = []
        examples.reserveCapacity(file.documentCount)
        for (i, split) in targets.enumerated() {
            let (start, end) = (file.documentOffsets[i], file.documentOffsets[i + 1])
            guard start < split, split < end else {
                throw DataFileError(file: file.path, field: "/" + TokenFileSchema.Dataset.targetOffsets + "[\(i)]",
                                    problem: "example \(i) needs a non-empty context and target in tokens \(start)..<\(end), split at \(split)",
                                    fix: "re-run `megatron prepare lambada`")
            }
            examples.append(Example(context: Array(file.tokens[start..<Int(split)]), target: Array(file.tokens[Int(split)..<end])))
        }
        self.init(examples: examples, vocabSize: file.header.vocabSize, source: file.path)
    }

    /// Every example needs at least one context token to predict its first target token from.
    public init(examples: [Example], vocabSize: Int, source: String = "LAMBADA examples") {
        precondition(examples.allSatisfy { !$0.context.isEmpty && !$0.target.isEmpty }, "LAMBADA examples need a context and a target")
        self.examples = examples
        self.vocabSize = vocabSize
        self.source = source
    }

    /// Decides this data-parallel rank's block of examples, `batch` per forward, dropout off;
    /// the decisions are summed over `dataParallel`, so every rank returns the whole result.
    public func evaluate<Model: ScoringLanguageModel>(
        model: Model, dataParallel: any Communicator, sequence: Int? = nil, batch: Int = 8,
        progress: EvaluationProgressHandler? = nil
    ) throws -> ClozeResult {
        guard vocabSize == model.config.vocabSize else {
            throw TaskError.vocabularyMismatch(source, data: vocabSize, model: model.config.vocabSize)
        }
        let s = sequence ?? model.config.maxPositions
        guard s <= model.config.maxPositions, batch > 0 else {
            throw TaskError(what: "sequence length and batch", problem: "sequence \(s) (model: \(model.config.maxPositions)), batch \(batch)",
                            fix: "use a positive batch and at most the model's sequence length")
        }
        if let long = examples.firstIndex(where: { $0.target.count > s }) {
            throw TaskError(what: source, problem: "example \(long)'s target has \(examples[long].target.count) tokens, more than the sequence length \(s)",
                            fix: "evaluate with a longer sequence")
        }
        let group = model.tensorParallel
        let vocabStart = VocabUtility.range(paddedVocabSize: model.config.paddedVocabSize, rank: group.rank,
                                            worldSize: group.size).lowerBound
        let mine = DataParallelShard.range(count: examples.count, rank: dataParallel.rank, size: dataParallel.size)
        var reporter = ProgressReporter(unit: "examples", total: mine.count, handler: progress)
        var decisions = [Double](repeating: 0, count: 2 * examples.count)   // correct, then truncated
        var targetLossSum = 0.0
        for first in Swift.stride(from: mine.lowerBound, to: mine.upperBound, by: batch) {
            let indices = first..<min(first + batch, mine.upperBound)
            let sequences = indices.map { i -> [Int32] in
                let e = examples[i]
                let kept = min(e.context.count, s + 1 - e.target.count)
                if kept < e.context.count { decisions[examples.count + i] = 1 }
                return Array(e.context.suffix(kept)) + e.target
            }
            let length = sequences.map { $0.count - 1 }.max()!
            var inputs = [Int32](repeating: 0, count: indices.count * length)
            var labels = inputs
            for (row, tokens) in sequences.enumerated() {
                for p in 0..<(tokens.count - 1) {
                    inputs[row * length + p] = tokens[p]
                    labels[row * length + p] = tokens[p + 1]
                }
            }
            // The rows whose labels are target tokens: the last len(target) real positions.
            var rows: [Int] = []
            for (row, i) in indices.enumerated() {
                let end = sequences[row].count - 1
                rows += (end - examples[i].target.count..<end).map { row * length + $0 }
            }
            let output = try model.scoredForward(GPTInput(tokens: inputs, labels: labels), rows: rows,
                                                 context: .evaluation(batch: indices.count, sequence: length))
            for r in 0..<rows.count { targetLossSum += Double(output.losses.pointer[r]) }
            var predicted = try VocabParallelArgmax.argmax(output.logits, vocabStart: vocabStart,
                                                           vocabSize: model.config.vocabSize, group: group)[...]
            for i in indices {
                let target = examples[i].target
                let guesses = predicted.prefix(target.count)
                predicted = predicted.dropFirst(target.count)
                decisions[i] = zip(guesses, target).allSatisfy { $0 == Int($1) } ? 1 : 0
            }
            reporter.advance(by: indices.count)
        }
        let summed = try DataParallelShard.sum(decisions + [targetLossSum], over: dataParallel)
        let correctByExample = summed.prefix(examples.count).map { $0 > 0.5 }
        return ClozeResult(correct: correctByExample.filter { $0 }.count, total: examples.count,
                           truncated: summed[examples.count..<(2 * examples.count)].filter { $0 > 0.5 }.count,
                           correctByExample: correctByExample, targetLossSum: summed[2 * examples.count])
    }
}
