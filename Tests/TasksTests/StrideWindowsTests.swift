import Tasks
import Testing

/// Megatron's `_LMDataset` transcribed: its window count and, per window, which positions'
/// labels are scored real tokens (pad mask, then all but the last `stride` zeroed after window 0).
func megatronScoredTargets(tokenCount: Int, sequence s: Int, stride: Int) -> [Int] {
    let totalTargets = tokenCount - 1
    let targets = max(totalTargets - stride, 0)
    let windows = max((targets + stride - 1) / stride + 1, 1)
    var scored: [Int] = []
    for index in 0..<windows {
        let start = index * stride
        let real = max(0, min(s + 1, tokenCount - start))
        var mask = [Int](repeating: 1, count: real) + [Int](repeating: 0, count: s + 1 - real)
        mask.removeFirst()
        if stride != s && index != 0 { for j in 0..<(s - stride) { mask[j] = 0 } }
        scored += (0..<s).filter { mask[$0] == 1 }.map { start + $0 + 1 }
    }
    return scored
}

@Suite struct StrideWindowsTests {
    static let cases = [(2, 4, 1), (5, 8, 4), (9, 8, 4), (10, 8, 4), (50, 8, 3), (50, 8, 8), (50, 8, 1),
                        (33, 16, 5), (17, 16, 16), (1000, 128, 32)]

    @Test(arguments: cases)
    func everyTargetScoredOnceAsMegatron(tokenCount: Int, sequence: Int, stride: Int) throws {
        let windows = try StrideWindows(tokenCount: tokenCount, sequence: sequence, stride: stride)
        var ours: [Int] = []
        for i in 0..<windows.count {
            let w = windows.window(i)
            #expect(w.start == i * stride)
            #expect(w.length <= sequence && w.start + w.length <= tokenCount - 1)
            #expect(!w.scored.isEmpty, "window \(i) scores nothing")
            // Past window 0, each scored target keeps at least s − stride tokens of context.
            if i > 0 { #expect(w.scored.lowerBound >= sequence - stride) }
            ours += w.scored.map { w.start + $0 + 1 }
        }
        #expect(ours == Array(1..<tokenCount))
        #expect(ours == megatronScoredTargets(tokenCount: tokenCount, sequence: sequence, stride: stride))
    }

    @Test func rejectsSettingsThatWouldSkipTargets() {
        #expect(throws: TaskError.self) { try StrideWindows(tokenCount: 100, sequence: 8, stride: 9) }
        #expect(throws: TaskError.self) { try StrideWindows(tokenCount: 100, sequence: 8, stride: 0) }
        #expect(throws: TaskError.self) { try StrideWindows(tokenCount: 1, sequence: 8, stride: 4) }
        #expect(throws: TaskError.self) { try StrideWindows(tokenCount: 100, sequence: 0, stride: 1) }
    }
}

@Suite struct EvaluationProgressTests {
    @Test func lineShowsCountsRateAndETA() {
        #expect(EvaluationProgress(unit: "windows", done: 120, total: 480, elapsedSeconds: 10).line
                == "windows 120/480  12.0/s  ETA 0:30")
        #expect(EvaluationProgress(unit: "examples", done: 1, total: 3701, elapsedSeconds: 1).line
                == "examples 1/3701  1.0/s  ETA 1:01:40")
        #expect(EvaluationProgress(unit: "questions", done: 0, total: 5, elapsedSeconds: 0).line
                == "questions 0/5  0.0/s  ETA ?")
    }
}
