import Datasets

/// What a reader that does not read gets right on a RACE file: the choice with the longest
/// option, and the choice whose option's tokens occur most in the passage (as a share of the
/// option's tokens). A fine-tuned model above chance but not above these has learned the
/// answers' surface, not the passage.
///
/// Each choice's sequence is, as Megatron's RACE builds it, [CLS] question and option [SEP]
/// (token type 0), then the passage [SEP] (type 1). The option is the part of the type-0 segment
/// where the choices differ: the choices' common prefix and suffix are dropped, so a
/// fill-in-the-blank question's words after the blank are not counted. Ties go to the lowest
/// choice, as the model's argmax does. `scripts/reference/race_surface_cues.py` counts the same
/// independently.
public struct RACESurfaceCues: Sendable, Equatable {
    public let questions: Int
    /// Questions the longest option gets right.
    public let longestOption: Int
    /// Questions the option with the largest share of its tokens in the passage gets right.
    public let passageOverlap: Int

    public init(questions: Int, longestOption: Int, passageOverlap: Int) {
        self.questions = questions
        self.longestOption = longestOption
        self.passageOverlap = passageOverlap
    }

    /// Counts every question of `file`, in file order.
    public init(_ file: RACEQuestions) {
        var loader = file.loader
        var longest = 0, overlap = 0
        for _ in 0..<file.count {
            let question = loader.next()
            let picks = Self.picks(tokens: question.tokens, types: question.tokenTypes, mask: question.paddingMask,
                                   sequence: loader.sequenceLength, choices: loader.choices)
            longest += picks.longest == Int(question.labels[0]) ? 1 : 0
            overlap += picks.overlap == Int(question.labels[0]) ? 1 : 0
        }
        self.init(questions: file.count, longestOption: longest, passageOverlap: overlap)
    }

    public var longestOptionAccuracy: Double { questions > 0 ? Double(longestOption) / Double(questions) : 0 }
    public var passageOverlapAccuracy: Double { questions > 0 ? Double(passageOverlap) / Double(questions) : 0 }

    /// The two cues' choices for one question: `choices` rows of `sequence` tokens, their types
    /// and padding mask (1 on tokens).
    static func picks(tokens: [Int32], types: [Int32], mask: [Float], sequence: Int, choices: Int) -> (longest: Int, overlap: Int) {
        var segments: [[Int32]] = [], passages: [Set<Int32>] = []
        for choice in 0..<choices {
            var segment: [Int32] = [], passage = Set<Int32>()
            for t in choice * sequence..<(choice + 1) * sequence where mask[t] != 0 {
                if types[t] == 0 { segment.append(tokens[t]) } else { passage.insert(tokens[t]) }
            }
            segments.append(segment)
            passages.append(passage)
        }
        let options = differingParts(segments)
        let lengths = options.map(\.count)
        let shares = zip(options, passages).map { option, passage in
            option.isEmpty ? 0 : Double(option.filter(passage.contains).count) / Double(option.count)
        }
        return (firstMaximum(lengths.map(Double.init)), firstMaximum(shares))
    }

    /// Each sequence without the prefix and suffix every one of them shares.
    static func differingParts(_ sequences: [[Int32]]) -> [ArraySlice<Int32>] {
        let shortest = sequences.map(\.count).min() ?? 0
        var prefix = 0
        while prefix < shortest, sequences.allSatisfy({ $0[prefix] == sequences[0][prefix] }) { prefix += 1 }
        var suffix = 0
        while prefix + suffix < shortest,
              sequences.allSatisfy({ $0[$0.count - 1 - suffix] == sequences[0][sequences[0].count - 1 - suffix] }) {
            suffix += 1
        }
        return sequences.map { $0[prefix..<($0.count - suffix)] }
    }

    static func firstMaximum(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
