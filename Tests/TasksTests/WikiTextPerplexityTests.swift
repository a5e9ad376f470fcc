import Collectives
import Datasets
import Foundation
import Models
import Tasks
import Testing
import TensorCore
import TensorParallel

@Suite struct WikiTextPerplexityTests {
    static func stream() throws -> WikiTextPerplexity {
        try WikiTextPerplexity(file: TokenFile(path: TinyFixture.files().gptTest, kind: .evaluationStream, remedy: "test"))
    }

    /// Logits that are all equal make every target cost log V (V the vocabulary; the padded rows
    /// take no probability), so
    /// L = (T − 1)·log V whatever the windows: ppl V, adjusted exp((T − 1)·log V / (T_o − 1)).
    @Test(arguments: [(1, 1), (2, 2)])
    func uniformModelGivesHandComputedPerplexities(tp: Int, dp: Int) throws {
        let task = try Self.stream()
        let config = tinyGPT(vocabSize: task.vocabSize, positions: 16)
        let results = try onGrid(tp: tp, dp: dp) { grid in
            let model = GPTModel<Double>(config: config, seed: 3, group: TensorParallelGroup(grid.tensorParallel))
            model.parameters.named("final_layernorm.weight").value.fill(0)
            return try task.evaluate(model: model, dataParallel: grid.dataParallel, stride: 5, batch: 4)
        }
        let t = Double(task.tokens.count - 1), v = Double(config.vocabSize)
        let original = Double(task.originalTokenCount - 1)
        for result in results {
            #expect(result == results[0])
            #expect(result.targetCount == task.tokens.count - 1)
            #expect(abs(result.lossSum - t * log(v)) <= 1e-9 * t * log(v))
            #expect(abs(result.tokenPerplexity - v) <= 1e-9 * v)
            #expect(abs(result.adjustedPerplexity / exp(t * log(v) / original) - 1) <= 1e-9)
            #expect(result.tokenRatio == t / original)
        }
    }

    /// When s covers the whole text there is one window: L equals the summed cross-entropy of
    /// one plain forward over the unpadded text, and ppl = exp(mean CE).
    @Test func oneWindowEqualsOneLongForward() throws {
        let full = try Self.stream()
        let tokens = Array(full.tokens.prefix(40))
        let task = WikiTextPerplexity(tokens: tokens, originalTokenCount: 30, vocabSize: full.vocabSize)
        let config = tinyGPT(vocabSize: full.vocabSize, positions: 48)
        let (result, direct) = try onGrid(tp: 1, dp: 1) { grid in
            let model = GPTModel<Double>(config: config, seed: 4, group: TensorParallelGroup(grid.tensorParallel))
            let result = try task.evaluate(model: model, dataParallel: grid.dataParallel, stride: 8)
            let losses = try model.forward(GPTInput(tokens: Array(tokens.dropLast()), labels: Array(tokens.dropFirst())),
                                           context: StepContext(step: 0, batch: 1, sequence: 39, dropoutSeed: 0, training: false)).losses
            return (result, losses.array.reduce(0, +))
        }[0]
        #expect(result.windows == 1)
        #expect(abs(result.lossSum - direct) <= 1e-10 * direct)
        #expect(abs(result.tokenPerplexity - exp(direct / 39)) <= 1e-10 * result.tokenPerplexity)
        #expect(abs(result.adjustedPerplexity - exp(direct / 29)) <= 1e-10 * result.adjustedPerplexity)
    }

    /// Target t > s is scored by window ⌈(t − s)/stride⌉ (the one whose last `stride` targets
    /// hold it), so its context is tokens[⌈(t − s)/stride⌉·stride ..< t]; t ≤ s by window 0 with
    /// context tokens[0 ..< t]. One forward per target with exactly that context gives L.
    @Test func eachTargetSeesItsWindowsContext() throws {
        let full = try Self.stream()
        let tokens = Array(full.tokens.prefix(45))
        let (s, stride) = (12, 5)
        let task = WikiTextPerplexity(tokens: tokens, originalTokenCount: 30, vocabSize: full.vocabSize)
        let config = tinyGPT(vocabSize: full.vocabSize, positions: s)
        let (result, reference) = try onGrid(tp: 1, dp: 1) { grid in
            let model = GPTModel<Double>(config: config, seed: 5, group: TensorParallelGroup(grid.tensorParallel))
            let result = try task.evaluate(model: model, dataParallel: grid.dataParallel, stride: stride, batch: 3)
            var reference = 0.0
            for t in 1..<tokens.count {
                let start = t <= s ? 0 : (t - s + stride - 1) / stride * stride
                let n = t - start
                let losses = try model.forward(
                    GPTInput(tokens: Array(tokens[start..<t]), labels: Array(tokens[(start + 1)...t])),
                    context: StepContext(step: 0, batch: 1, sequence: n, dropoutSeed: 0, training: false)).losses
                reference += losses.pointer[n - 1]
            }
            return (result, reference)
        }[0]
        #expect(result.windows > 3)
        #expect(abs(result.lossSum - reference) <= 1e-10 * reference)
    }

    /// Any tp × dp grid gives the serial model's L and counts, dropout configured but off.
    @Test(arguments: [(2, 1), (1, 2), (2, 2)])
    func parallelEqualsSerial(tp: Int, dp: Int) throws {
        let task = try Self.stream()
        let config = tinyGPT(vocabSize: task.vocabSize, positions: 16)
        func run(_ tp: Int, _ dp: Int) throws -> [PerplexityResult] {
            try onGrid(tp: tp, dp: dp) { grid in
                let model = GPTModel<Double>(config: config, seed: 6, group: TensorParallelGroup(grid.tensorParallel))
                return try task.evaluate(model: model, dataParallel: grid.dataParallel, stride: 6, batch: 3)
            }
        }
        let serial = try run(1, 1)[0]
        for result in try run(tp, dp) {
            #expect(result.targetCount == serial.targetCount && result.windows == serial.windows)
            #expect(abs(result.lossSum - serial.lossSum) <= 1e-12 * serial.lossSum)
        }
    }

    @Test func progressCountsThisRanksWindows() throws {
        let task = try Self.stream()
        let config = tinyGPT(vocabSize: task.vocabSize, positions: 16)
        let reports = try onGrid(tp: 1, dp: 2) { grid in
            let model = GPTModel<Float>(config: config, seed: 6, group: TensorParallelGroup(grid.tensorParallel))
            let seen = ProgressLog()
            let result = try task.evaluate(model: model, dataParallel: grid.dataParallel, stride: 16, batch: 4,
                                           progress: { seen.append($0) })
            return (result.windows, seen.entries)
        }
        let windows = reports[0].0
        #expect(reports.map { $0.1.last!.total }.reduce(0, +) == windows)
        for (_, entries) in reports {
            #expect(entries.map(\.done) == Array(stride(from: 4, to: entries[0].total, by: 4)) + [entries[0].total])
        }
    }

    @Test func rejectsAModelOfAnotherVocabulary() throws {
        let task = try Self.stream()
        let config = tinyGPT(vocabSize: task.vocabSize + 1, positions: 16)
        #expect(throws: TaskError.self) {
            _ = try onGrid(tp: 1, dp: 1) { grid in
                try task.evaluate(model: GPTModel<Float>(config: config, seed: 1, group: TensorParallelGroup(grid.tensorParallel)),
                                  dataParallel: grid.dataParallel)
            }
        }
    }
}

/// Collects progress reports from one rank's thread.
final class ProgressLog: @unchecked Sendable {
    private(set) var entries: [EvaluationProgress] = []
    func append(_ p: EvaluationProgress) { entries.append(p) }
}
