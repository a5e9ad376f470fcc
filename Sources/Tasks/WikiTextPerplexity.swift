import Collectives
import Datasets
import Foundation
import Models
import TensorCore
import TensorParallel

/// Perplexity of a stream (`tasks/zeroshot_gpt2/evaluate.py`): L is the summed cross-entropy of
/// every target 1 ..< T, each scored once by the stride windows.
///
/// Megatron prints exp(min(20, ·)); these are uncapped (the cap only binds above ppl 4.85e8).
public struct PerplexityResult: Sendable, Codable, Equatable {
    /// L, summed over the data-parallel group.
    public let lossSum: Double
    /// T − 1, the scored targets.
    public let targetCount: Int
    /// T_o, the word-level tokens of the raw text before detokenizing and BPE.
    public let originalTokenCount: Int
    public let windows: Int

    public init(lossSum: Double, targetCount: Int, originalTokenCount: Int, windows: Int) {
        self.lossSum = lossSum
        self.targetCount = targetCount
        self.originalTokenCount = originalTokenCount
        self.windows = windows
    }

    /// exp(L / (T − 1)).
    public var tokenPerplexity: Double { exp(lossSum / Double(targetCount)) }
    /// exp(L / (T_o − 1)), the word-level figure the paper reports (its Eq. 4).
    public var adjustedPerplexity: Double { exp(lossSum / Double(originalTokenCount - 1)) }
    /// (T − 1) / (T_o − 1); about 1.10 for GPT-2 BPE on WikiText-103 test.
    public var tokenRatio: Double { Double(targetCount) / Double(originalTokenCount - 1) }
}

/// WikiText-103 perplexity: the whole detokenized test set as one stream with no
/// end-of-document ids, scored with overlapping windows of the model's sequence length.
public struct WikiTextPerplexity: Sendable {
    public let tokens: [Int32]
    public let originalTokenCount: Int
    public let vocabSize: Int
    let source: String

    /// Reads an `evaluation-stream` file (`megatron prepare wikitext --split eval`) and its T_o.
    public init(file: TokenFile) throws {
        let original = try file.integerAttribute(TokenFileSchema.Attribute.originalTokenCount)
        guard original >= 2 else {
            throw DataFileError(file: file.path, field: "/@" + TokenFileSchema.Attribute.originalTokenCount,
                                problem: "T_o = \(original) leaves no word-level target",
                                fix: "prepare the evaluation stream from a non-empty WikiText file")
        }
        self.init(tokens: file.tokens, originalTokenCount: original, vocabSize: file.header.vocabSize, source: file.path)
    }

    public init(tokens: [Int32], originalTokenCount: Int, vocabSize: Int, source: String = "evaluation stream") {
        precondition(originalTokenCount >= 2, "T_o must leave at least one target")
        self.tokens = tokens
        self.originalTokenCount = originalTokenCount
        self.vocabSize = vocabSize
        self.source = source
    }

    /// Scores the stream with `model` (its tensor-parallel group) on this data-parallel rank's
    /// block of windows, `batch` windows per forward, dropout off, the output layer on each
    /// window's scored targets only; L and the target count are
    /// summed over `dataParallel`, so every rank returns the same result. `sequence` defaults to
    /// the model's maximum.
    public func evaluate<Model: ScoringLanguageModel>(
        model: Model, dataParallel: any Communicator, sequence: Int? = nil, stride: Int = 32, batch: Int = 8,
        progress: EvaluationProgressHandler? = nil
    ) throws -> PerplexityResult {
        guard vocabSize == model.config.vocabSize else {
            throw TaskError.vocabularyMismatch(source, data: vocabSize, model: model.config.vocabSize)
        }
        let s = sequence ?? model.config.maxPositions
        guard s <= model.config.maxPositions else {
            throw TaskError(what: "sequence length", problem: "\(s) exceeds the model's \(model.config.maxPositions) positions",
                            fix: "evaluate at most at the model's sequence length")
        }
        guard batch > 0 else {
            throw TaskError(what: "batch", problem: "\(batch) windows per forward", fix: "use a positive batch")
        }
        let windows = try StrideWindows(tokenCount: tokens.count, sequence: s, stride: stride)
        let mine = DataParallelShard.range(count: windows.count, rank: dataParallel.rank, size: dataParallel.size)
        var reporter = ProgressReporter(unit: "windows", total: mine.count, handler: progress)
        var lossSum = 0.0, scored = 0
        var inputs = [Int32](), labels = [Int32](), rows = [Int]()
        for first in Swift.stride(from: mine.lowerBound, to: mine.upperBound, by: batch) {
            let group = first..<min(first + batch, mine.upperBound)
            inputs.removeAll(keepingCapacity: true)
            labels.removeAll(keepingCapacity: true)
            rows.removeAll(keepingCapacity: true)
            for (row, index) in group.enumerated() {
                let w = windows.window(index)
                inputs += tokens[w.start..<(w.start + w.length)]
                labels += tokens[(w.start + 1)..<(w.start + w.length + 1)]
                let pads = s - w.length
                inputs += repeatElement(0, count: pads)
                labels += repeatElement(0, count: pads)
                rows += w.scored.map { row * s + $0 }
            }
            let losses = try model.scoredForward(GPTInput(tokens: inputs, labels: labels), rows: rows,
                                                 context: .evaluation(batch: group.count, sequence: s)).losses
            for r in 0..<rows.count { lossSum += Double(losses.pointer[r]) }
            scored += rows.count
            reporter.advance(by: group.count)
        }
        let totals = try DataParallelShard.sum([lossSum, Double(scored)], over: dataParallel)
        precondition(Int(totals[1]) == windows.targetCount, "windows scored \(Int(totals[1])) of \(windows.targetCount) targets")
        return PerplexityResult(lossSum: totals[0], targetCount: windows.targetCount,
                                originalTokenCount: originalTokenCount, windows: windows.count)
    }
}
