import Collectives
import Datasets
import Models
import TensorCore
import TensorParallel

/// Multiple-choice accuracy per data file and overall, Σcorrect / Σquestions (question-weighted,
/// as Megatron's `tasks/eval_utils.py` prints it).
public struct RACEAccuracy: Sendable, Codable, Equatable {
    public struct FileAccuracy: Sendable, Codable, Equatable {
        public let name: String
        public let correct: Int
        public let total: Int

        public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
    }

    public let files: [FileAccuracy]

    public var correct: Int { files.reduce(0) { $0 + $1.correct } }
    public var total: Int { files.reduce(0) { $0 + $1.total } }
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
}

/// RACE accuracy of a `BERTMultipleChoiceModel`: a question is right when the argmax of its
/// choices' scores (the lowest choice on ties, as torch.argmax) is the label.
public enum RACEEvaluation {
    /// Evaluates each named `race` file (`megatron prepare race`) on this data-parallel rank's
    /// block of questions, `batch` questions per forward, dropout off; counts are summed over
    /// `dataParallel`, so every rank returns the whole result. Nothing is dropped at any dp.
    public static func evaluate<T: TensorScalar>(
        model: BERTMultipleChoiceModel<T>, files: [(name: String, file: TokenFile)], dataParallel: any Communicator,
        batch: Int = 4, progress: EvaluationProgressHandler? = nil
    ) throws -> RACEAccuracy {
        guard batch > 0 else {
            throw TaskError(what: "batch", problem: "\(batch) questions per forward", fix: "use a positive batch")
        }
        var loaders: [RACELoader] = []
        var shards: [Range<Int>] = []
        for (_, file) in files {
            guard file.header.vocabSize == model.config.vocabSize else {
                throw TaskError.vocabularyMismatch(file.path, data: file.header.vocabSize, model: model.config.vocabSize)
            }
            // One question per loader batch, in file order, on one rank: every question, none dropped.
            let all = try RACELoader(file: file, microBatch: 1, dpRank: 0, dpSize: 1, seed: 0, shuffles: false)
            guard all.sequenceLength <= model.config.maxPositions else {
                throw TaskError(what: file.path, problem: "sequences of \(all.sequenceLength) tokens, the model has \(model.config.maxPositions) positions",
                                fix: "prepare RACE with --max-length at most the model's sequence length")
            }
            let shard = DataParallelShard.range(count: all.questionCount, rank: dataParallel.rank, size: dataParallel.size)
            shards.append(shard)
            loaders.append(shard.isEmpty ? all : try RACELoader(
                file: file, microBatch: 1, dpRank: 0, dpSize: 1, seed: 0, shuffles: false,
                position: LoaderPosition(epoch: 0, batch: shard.lowerBound)))
        }
        var reporter = ProgressReporter(unit: "questions", total: shards.reduce(0) { $0 + $1.count }, handler: progress)
        var counts: [Double] = []
        for (f, shard) in shards.enumerated() {
            var correct = 0
            var remaining = shard.count
            while remaining > 0 {
                let questions = (0..<min(batch, remaining)).map { _ in loaders[f].next() }
                remaining -= questions.count
                correct += try decide(model: model, questions: questions, sequence: loaders[f].sequenceLength,
                                      choices: loaders[f].choices)
                reporter.advance(by: questions.count)
            }
            counts += [Double(correct), Double(shard.count)]
        }
        let summed = try DataParallelShard.sum(counts, over: dataParallel)
        return RACEAccuracy(files: files.enumerated().map { f, named in
            RACEAccuracy.FileAccuracy(name: named.name, correct: Int(summed[2 * f]), total: Int(summed[2 * f + 1]))
        })
    }

    /// How many of `questions` (one-question loader batches) the model gets right.
    static func decide<T: TensorScalar>(model: BERTMultipleChoiceModel<T>, questions: [RACEBatch], sequence: Int,
                                        choices: Int) throws -> Int {
        let input = MultipleChoiceInput(tokens: questions.flatMap(\.tokens), tokenTypes: questions.flatMap(\.tokenTypes),
                                        paddingMask: questions.flatMap(\.paddingMask), labels: questions.flatMap(\.labels),
                                        choices: choices)
        let scores = try model.forward(input, context: .evaluation(batch: questions.count * choices, sequence: sequence))
        return input.labels.enumerated().filter { q, label in
            let row = scores.pointer + q * choices
            var best = 0
            for c in 1..<choices where row[c] > row[best] { best = c }
            return best == Int(label)
        }.count
    }
}
