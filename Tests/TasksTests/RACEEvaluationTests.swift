import Collectives
import Datasets
import Models
import Tasks
import Testing
import TensorCore
import TensorParallel

@Suite struct RACEEvaluationTests {
    static func file() throws -> TokenFile {
        try TokenFile(path: TinyFixture.files().racePrepared, kind: .race, remedy: "test")
    }

    static func config(_ file: TokenFile) -> BERTConfig {
        tinyBERT(vocabSize: file.header.vocabSize, positions: TinyData.Files.raceSequenceLength)
    }

    /// A zeroed head scores every choice 0: the tie goes to choice 0, so exactly the questions
    /// labelled 0 are right.
    @Test(arguments: [(1, 1), (2, 2)])
    func tiedScoresPickTheFirstChoice(tp: Int, dp: Int) throws {
        let file = try Self.file()
        let labels = try file.dataset(TokenFileSchema.Dataset.labels, as: UInt8.self, count: file.documentCount / 4)
        let config = Self.config(file)
        let middle = try RACEQuestions(name: "middle", file: file)
        let results = try onGrid(tp: tp, dp: dp) { grid in
            let model = BERTMultipleChoiceModel<Float>(config: config, seed: 1, group: TensorParallelGroup(grid.tensorParallel))
            model.parameters.named("multiple_choice_head.weight").value.fill(0)
            return try RACEEvaluation.evaluate(model: model, files: [middle],
                                               dataParallel: grid.dataParallel, batch: 3)
        }
        for result in results {
            #expect(result.files.map(\.name) == ["middle"])
            #expect(result.correct == labels.filter { $0 == 0 }.count)
            #expect(result.total == labels.count)
        }
    }

    /// The same counts at every grid: each question is decided by exactly one rank.
    @Test func countsAreTheSameAtEveryGrid() throws {
        let file = try Self.file()
        let config = Self.config(file)
        let middle = try RACEQuestions(name: "middle", file: file)
        func run(_ tp: Int, _ dp: Int) throws -> [RACEAccuracy] {
            try onGrid(tp: tp, dp: dp) { grid in
                let model = BERTMultipleChoiceModel<Float>(config: config, seed: 4, group: TensorParallelGroup(grid.tensorParallel))
                return try RACEEvaluation.evaluate(model: model, files: [middle], dataParallel: grid.dataParallel, batch: 5)
            }
        }
        let serial = try run(1, 1)[0]
        #expect(serial.total == middle.count && middle.count == file.documentCount / 4)
        #expect(serial.correct > 0 && serial.correct < serial.total)
        for (tp, dp) in [(1, 2), (2, 2)] {
            for result in try run(tp, dp) { #expect(result == serial, "tp \(tp) dp \(dp)") }
        }
    }

    /// Overall accuracy weighs questions, not files (Megatron prints Σcorrect / Σquestions).
    @Test func overallIsQuestionWeighted() {
        let result = RACEAccuracy(files: [.init(name: "dev/middle", correct: 3, total: 4),
                                          .init(name: "dev/high", correct: 1, total: 12)])
        #expect(result.correct == 4 && result.total == 16)
        #expect(result.accuracy == 0.25)
        #expect(result.files.map(\.accuracy) == [0.75, 1.0 / 12])
    }
}
