/// One rank's RACE micro-batch: `tokens`, `tokenTypes` and `paddingMask` are
/// [microBatch, 4, sequenceLength] row-major (one row per option), `labels` [microBatch] the
/// index of the right option.
public struct RACEBatch: Sendable, Equatable {
    public let tokens: [Int32]
    public let tokenTypes: [Int32]
    public let paddingMask: [Float]
    public let labels: [Int32]
    public let questionIndices: [Int]
}

/// RACE questions from a prepared file, padded to the file's `max_seq_length` with the pad id
/// (token types too, as Megatron pads them). Shuffled for fine-tuning; in file order for
/// evaluation.
public struct RACELoader: Sendable {
    public let sequenceLength: Int
    public let choices: Int
    private let file: (tokens: [Int32], types: [UInt8], offsets: [Int], labels: [UInt8], pad: Int32)
    private var cursor: SampleCursor

    public var position: LoaderPosition { cursor.position }
    public var questionCount: Int { file.labels.count }

    public init(file: TokenFile, microBatch: Int, dpRank: Int, dpSize: Int, seed: UInt64, shuffles: Bool,
                position: LoaderPosition = .start) throws {
        precondition(file.header.kind == .race, "RACE reads race files")
        typealias A = TokenFileSchema.Attribute
        typealias D = TokenFileSchema.Dataset
        let choices = try file.integerAttribute(A.choices)
        let length = try file.integerAttribute(A.maxSequenceLength)
        let questions = file.documentCount / max(choices, 1)
        let lengthsFit = (0..<file.documentCount).allSatisfy { file.documentOffsets[$0 + 1] - file.documentOffsets[$0] <= length }
        guard choices > 0, questions * choices == file.documentCount, lengthsFit else {
            throw DataFileError(file: file.path, field: "/" + D.documentOffsets,
                                problem: "\(file.documentCount) sequences do not make \(choices)-option questions of at most \(length) tokens",
                                fix: file.remedy)
        }
        let labels = try file.dataset(D.labels, as: UInt8.self, count: questions)
        guard labels.allSatisfy({ Int($0) < choices }) else {
            throw DataFileError(file: file.path, field: "/" + D.labels, problem: "a label is not below \(choices)", fix: file.remedy)
        }
        let types = try file.dataset(D.tokenTypes, as: UInt8.self, count: file.tokens.count)
        let order = try ShardedSampleOrder(sampleCount: questions, microBatch: microBatch, dpRank: dpRank, dpSize: dpSize,
                                           seed: seed, shuffles: shuffles, what: file.path)
        self.sequenceLength = length
        self.choices = choices
        self.file = (file.tokens, types, file.documentOffsets, labels, Int32(try file.integerAttribute(A.padID)))
        self.cursor = try SampleCursor(order: order, position: position)
    }

    public mutating func next() -> RACEBatch {
        let (_, questions) = cursor.next()
        let s = sequenceLength
        let rows = questions.count * choices
        var tokens = [Int32](repeating: file.pad, count: rows * s)
        var types = [Int32](repeating: file.pad, count: rows * s)
        var padding = [Float](repeating: 0, count: rows * s)
        for (q, question) in questions.enumerated() {
            for choice in 0..<choices {
                let row = q * choices + choice
                let sequence = question * choices + choice
                let start = file.offsets[sequence]
                for t in 0..<(file.offsets[sequence + 1] - start) {
                    tokens[row * s + t] = file.tokens[start + t]
                    types[row * s + t] = Int32(file.types[start + t])
                    padding[row * s + t] = 1
                }
            }
        }
        return RACEBatch(tokens: tokens, tokenTypes: types, paddingMask: padding,
                         labels: questions.map { Int32(file.labels[$0]) }, questionIndices: Array(questions))
    }
}
