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
        let results = try onGrid(tp: tp, dp: dp) { grid in
            let model = BERTMultipleChoiceModel<Float>(config: config, seed: 1, group: TensorParallelGroup(grid.tensorParallel))
            model.parameters.named("multiple_choice_head.weight").value.fill(0)
            return try RACEEvaluation.evaluate(model: model, files: [(name: "middle", file: file)],
                                               dataParallel: grid.dataParallel, batch: 3)
        }
        for result in results {
            #expect(result.files.map(\.name) == ["middle"])
            #expect(result.correct == labels.filter { $0 == 0 }.count)
            #expect(result.total == labels.count)
        }
    }

    /// Counts per file and overall are the same at every grid; overall is Σcorrect / Σquestions.
    @Test func countsAreTheSameAtEveryGrid() throws {
        let file = try Self.file()
        let config = Self.config(file)
        func run(_ tp: Int, _ dp: Int) throws -> [RACEAccuracy] {
            try onGrid(tp: tp, dp: dp) { grid in
                let model = BERTMultipleChoiceModel<Double>(config: config, seed: 4, group: TensorParallelGroup(grid.tensorParallel))
                return try RACEEvaluation.evaluate(model: model, files: [(name: "dev", file: file), (name: "test", file: file)],
                                                   dataParallel: grid.dataParallel, batch: 5)
            }
        }
        let serial = try run(1, 1)[0]
        let questions = file.documentCount / 4
        #expect(serial.files.map(\.total) == [questions, questions])
        #expect(serial.files[0].correct == serial.files[1].correct)
        #expect(serial.correct == 2 * serial.files[0].correct && serial.total == 2 * questions)
        #expect(serial.correct > 0 && serial.correct < serial.total)
        for (tp, dp) in [(1, 2), (2, 2), (1, 3)] {
            for result in try run(tp, dp) { #expect(result == serial, "tp \(tp) dp \(dp)") }
        }
    }
}
