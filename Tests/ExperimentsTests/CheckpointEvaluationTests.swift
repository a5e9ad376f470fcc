import Datasets
import Experiments
import Foundation
import Tasks
import Testing
import Training

/// `megatron eval` and `megatron finetune race` evaluate through `CheckpointEvaluation`; these
/// call it exactly as the commands do.
@Suite struct CheckpointEvaluationTests {
    func metrics(_ checkpoint: String, tp: Int, dp: Int,
                 _ evaluations: [ExperimentSpec.Evaluation]) throws -> [String: Double] {
        try CheckpointEvaluation(checkpoint: checkpoint, tensorParallel: tp, dataParallel: dp).evaluate(evaluations) { _ in }
    }

    /// The paper's language-model metrics of one GPT checkpoint are the same at every layout.
    @Test func gptMetricsAgreeAcrossLayouts() throws {
        let f = try CheckpointFixtures.get()
        let tasks = [ExperimentSpec.Evaluation(task: .wikitext103, data: [f.data.gptTest], stride: 16),
                     ExperimentSpec.Evaluation(task: .lambada, data: [f.data.lambadaPrepared])]
        let serial = try metrics(f.gpt, tp: 1, dp: 1, tasks)
        #expect(Set(serial.keys) == ["wikitext103.adjusted_ppl", "wikitext103.token_ppl", "wikitext103.token_ratio",
                                     "lambada.accuracy", "lambada.last_word_ppl"])
        for (tp, dp) in [(2, 1), (1, 2)] {
            let parallel = try metrics(f.gpt, tp: tp, dp: dp, tasks)
            #expect(Set(parallel.keys) == Set(serial.keys))
            for (key, value) in serial {
                #expect(abs(parallel[key]! - value) <= 1e-5 * abs(value), "\(key) at tp \(tp) × dp \(dp)")
            }
            #expect(parallel["lambada.accuracy"] == serial["lambada.accuracy"])
        }
    }

    /// GPT's tasks through pipeline stages: at pp 2 the forward passes the same tensors stage to
    /// stage, so the metrics are pp 1's bit for bit, although pp 1 runs its products on two threads
    /// and each stage on one (a product's bits depend on its shape alone, `GEMM.product`), and
    /// whatever the tests running beside do; beside tp 2 and dp 2 within float rounding.
    /// BERT's multiple-choice model has no stages and is refused at pp 2.
    @Test func gptMetricsThroughPipelineStagesEqualPP1() throws {
        let f = try CheckpointFixtures.get()
        let tasks = [ExperimentSpec.Evaluation(task: .wikitext103, data: [f.data.gptTest], stride: 16),
                     ExperimentSpec.Evaluation(task: .lambada, data: [f.data.lambadaPrepared])]
        let serial = try metrics(f.gpt, tp: 1, dp: 1, tasks)
        let staged = try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 1, dataParallel: 1, pipelineParallel: 2)
            .evaluate(tasks) { _ in }
        #expect(staged == serial)
        let grid = try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 2, dataParallel: 2, pipelineParallel: 2)
            .evaluate(tasks) { _ in }
        #expect(Set(grid.keys) == Set(serial.keys))
        for (key, value) in serial {
            #expect(abs(grid[key]! - value) <= 1e-5 * abs(value), "\(key) at tp 2 × pp 2 × dp 2")
        }
        #expect(grid["lambada.accuracy"] == serial["lambada.accuracy"])
        #expect {
            try CheckpointEvaluation(checkpoint: f.race, tensorParallel: 1, dataParallel: 1, pipelineParallel: 2)
        } throws: { error in
            guard case EvaluationError.layout(_, 1, 1, let problems) = error else { return false }
            return problems.contains { $0.contains("training.pp") }
        }
        #expect {
            try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 1, dataParallel: 1, pipelineParallel: 4)
        } throws: { error in
            guard case EvaluationError.layout(_, 1, 1, let problems) = error else { return false }
            return problems.contains { $0.contains("layers") }
        }
    }

    /// Fine-tuned at tp = 2, evaluated at tp = 1 and 2: the same accuracy per file and overall,
    /// and the same as the fine-tuning reported.
    @Test func raceAccuracyAgreesAcrossLayouts() throws {
        let f = try CheckpointFixtures.get()
        let tasks = [ExperimentSpec.Evaluation(task: .race, data: [f.data.racePrepared, f.data.racePrepared])]
        let serial = try metrics(f.race, tp: 1, dp: 1, tasks)
        #expect(serial == (try metrics(f.race, tp: 2, dp: 1, tasks)))
        #expect(serial["race.accuracy"] == serial["race.tiny-race.accuracy"])
        #expect(f.fineTuningMetrics["race.accuracy"] == serial["race.accuracy"])
    }

    @Test func aMissingCheckpointIsNamed() throws {
        let f = try CheckpointFixtures.get()
        let nowhere = "\(f.directory)/nowhere"
        #expect(throws: EvaluationError.noCheckpoint(path: nowhere, reason: "no such file or directory")) {
            try CheckpointEvaluation(checkpoint: nowhere, tensorParallel: 1, dataParallel: 1)
        }
        #expect(throws: EvaluationError.noCheckpoint(path: f.data.directory,
                                                     reason: "the directory holds no checkpoint-NNNNNNNN.h5 file")) {
            try CheckpointEvaluation(checkpoint: f.data.directory, tensorParallel: 1, dataParallel: 1)
        }
    }

    @Test func aTaskForAnotherFamilyIsRefused() throws {
        let f = try CheckpointFixtures.get()
        let bert = try CheckpointEvaluation.resolve(f.bert)
        #expect(throws: EvaluationError.wrongFamily(task: .lambada, checkpoint: bert, family: "bert")) {
            try metrics(f.bert, tp: 1, dp: 1, [.init(task: .lambada, data: [f.data.lambadaPrepared])])
        }
        let gpt = try CheckpointEvaluation.resolve(f.gpt)
        #expect(throws: EvaluationError.wrongFamily(task: .race, checkpoint: gpt, family: "gpt")) {
            try RACEFineTuning(checkpoint: f.gpt, trainData: f.data.racePrepared, options: .init(out: "\(f.directory)/unused"))
        }
    }

    /// RACE on a BERT that was never fine-tuned: its multiple-choice head is not in the checkpoint.
    @Test func raceNeedsAFineTunedCheckpoint() throws {
        let f = try CheckpointFixtures.get()
        #expect {
            try metrics(f.bert, tp: 1, dp: 1, [.init(task: .race, data: [f.data.racePrepared])])
        } throws: { error in
            guard case EvaluationError.missingWeights(.race, _, let names) = error else { return false }
            return names.allSatisfy { $0.hasPrefix("multiple_choice_head") } && "\(error)".contains("megatron finetune race")
        }
    }

    @Test func dataOfTheWrongKindOrVocabularyIsRefused() throws {
        let f = try CheckpointFixtures.get()
        #expect {
            try metrics(f.gpt, tp: 1, dp: 1, [.init(task: .wikitext103, data: [f.data.gptTrain])])
        } throws: { error in
            (error as? DataFileError).map { $0.file == f.data.gptTrain && $0.problem.contains("expected evaluation-stream") } ?? false
        }
        let wordPieceStream = "\(f.directory)/stream-wordpiece.h5"
        try WikiTextPreparation.prepareEvaluation(raw: f.data.testTokens, out: wordPieceStream,
                                                  tokenizer: try BERTWordPieceTokenizer(vocabDirectory: f.data.bertVocabDirectory))
        #expect(throws: TaskError.vocabularyMismatch(wordPieceStream, data: 229, model: 657)) {
            try metrics(f.gpt, tp: 1, dp: 1, [.init(task: .wikitext103, data: [wordPieceStream])])
        }
        #expect(throws: EvaluationError.dataFiles(task: .lambada, count: 2)) {
            try metrics(f.gpt, tp: 1, dp: 1, [.init(task: .lambada, data: [f.data.lambadaPrepared, f.data.lambadaPrepared])])
        }
    }

    @Test func aLayoutTheModelCannotTakeIsNamed() throws {
        let f = try CheckpointFixtures.get()
        #expect {
            try CheckpointEvaluation(checkpoint: f.gpt, tensorParallel: 3, dataParallel: 1)
        } throws: { error in
            guard case EvaluationError.layout(_, 3, 1, let problems) = error else { return false }
            return problems.contains { $0.contains("model.heads") }
        }
    }
}
