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

        public init(name: String, correct: Int, total: Int) {
            self.name = name
            self.correct = correct
            self.total = total
        }

        public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

        /// The 95 % Wilson score interval of the accuracy (z = 1.96): what `total` questions can
        /// tell apart, e.g. chance (25 %) from a model at 28 % on 1,436 questions.
        public var wilsonInterval95: ClosedRange<Double> { Self.wilsonInterval95(accuracy: accuracy, questions: total) }

        /// The 95 % Wilson score interval of an accuracy measured on `questions` questions.
        public static func wilsonInterval95(accuracy p: Double, questions: Int) -> ClosedRange<Double> {
            guard questions > 0 else { return 0...1 }
            let z = 1.959964, n = Double(questions)
            let center = (p + z * z / (2 * n)) / (1 + z * z / n)
            let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
            return Swift.max(0, center - half)...Swift.min(1, center + half)
        }
    }

    public let files: [FileAccuracy]

    public init(files: [FileAccuracy]) {
        self.files = files
    }

    public var correct: Int { files.reduce(0) { $0 + $1.correct } }
    public var total: Int { files.reduce(0) { $0 + $1.total } }
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
}

/// One prepared RACE file (`megatron prepare race`), read whole so that rank threads can share it.
public struct RACEQuestions: Sendable {
    public let name: String
    public let vocabSize: Int
    /// One question per batch, in file order, on a single rank: every question, none dropped.
    let loader: RACELoader

    public var count: Int { loader.questionCount }

    /// `name` labels the file's accuracy ("dev/middle").
    public init(name: String, file: TokenFile) throws {
        self.name = name
        vocabSize = file.header.vocabSize
        loader = try RACELoader(file: file, microBatch: 1, dpRank: 0, dpSize: 1, seed: 0, shuffles: false)
    }
}

/// RACE accuracy of a `BERTMultipleChoiceModel`: a question is right when the argmax of its
/// choices' scores (the lowest choice on ties, as torch.argmax) is the label.
public enum RACEEvaluation {
    /// Evaluates each file on this data-parallel rank's block of its questions, `batch`
    /// questions per forward, dropout off; counts are summed over `dataParallel`, so every rank
    /// returns the whole result. Nothing is dropped at any dp.
    public static func evaluate<T: TensorScalar>(
        model: BERTMultipleChoiceModel<T>, files: [RACEQuestions], dataParallel: any Communicator,
        batch: Int = 4, progress: EvaluationProgressHandler? = nil
    ) throws -> RACEAccuracy {
        guard batch > 0 else {
            throw TaskError(what: "batch", problem: "\(batch) questions per forward", fix: "use a positive batch")
        }
        for questions in files {
            guard questions.vocabSize == model.config.vocabSize else {
                throw TaskError.vocabularyMismatch(questions.name, data: questions.vocabSize, model: model.config.vocabSize)
            }
            guard questions.loader.sequenceLength <= model.config.maxPositions else {
                throw TaskError(what: questions.name,
                                problem: "sequences of \(questions.loader.sequenceLength) tokens, the model has \(model.config.maxPositions) positions",
                                fix: "prepare RACE with --max-length at most the model's sequence length")
            }
        }
        let shards = files.map { DataParallelShard.range(count: $0.count, rank: dataParallel.rank, size: dataParallel.size) }
        var reporter = ProgressReporter(unit: "questions", total: shards.reduce(0) { $0 + $1.count }, handler: progress)
        var counts: [Double] = []
        for (questions, shard) in zip(files, shards) {
            // The loader reads in file order; passing over the questions before this rank's
            // block costs their padded rows, little beside one forward.
            var loader = questions.loader
            for _ in 0..<shard.lowerBound { _ = loader.next() }
            var correct = 0
            var remaining = shard.count
            while remaining > 0 {
                let batchQuestions = (0..<min(batch, remaining)).map { _ in loader.next() }
                remaining -= batchQuestions.count
                correct += try decide(model: model, questions: batchQuestions, sequence: loader.sequenceLength,
                                      choices: loader.choices)
                reporter.advance(by: batchQuestions.count)
            }
            counts += [Double(correct), Double(shard.count)]
        }
        let summed = try DataParallelShard.sum(counts, over: dataParallel)
        return RACEAccuracy(files: files.enumerated().map { f, questions in
            RACEAccuracy.FileAccuracy(name: questions.name, correct: Int(summed[2 * f]), total: Int(summed[2 * f + 1]))
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
