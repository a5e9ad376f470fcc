/// One rank's GPT micro-batch: `tokens` are the inputs and `labels` the same windows shifted by
/// one, both [microBatch, sequenceLength] row-major.
public struct GPTBatch: Sendable, Equatable {
    public let tokens: [Int32]
    public let labels: [Int32]
    public let sampleIndices: [Int]
}

/// GPT training samples: windows of `sequenceLength + 1` tokens over the concatenated
/// documents (each ending with its end-of-document id), consecutive windows sharing one token.
public struct GPTLoader: Sendable {
    public let sequenceLength: Int
    private let stream: [Int32]
    private var cursor: SampleCursor

    public var position: LoaderPosition { cursor.position }
    public var order: ShardedSampleOrder { cursor.order }

    public init(file: TokenFile, sequenceLength: Int, microBatch: Int, dpRank: Int, dpSize: Int, seed: UInt64,
                position: LoaderPosition = .start) throws {
        precondition(sequenceLength > 0, "sequence length validated by the caller")
        precondition(file.header.kind == .gptDocuments, "GPT training reads gpt-documents files")
        let order = try ShardedSampleOrder(sampleCount: max(0, file.tokens.count - 1) / sequenceLength,
                                           microBatch: microBatch, dpRank: dpRank, dpSize: dpSize, seed: seed,
                                           shuffles: true, what: file.path)
        self.sequenceLength = sequenceLength
        self.stream = file.tokens
        self.cursor = try SampleCursor(order: order, position: position)
    }

    public mutating func next() -> GPTBatch {
        let (_, samples) = cursor.next()
        let s = sequenceLength
        var tokens = [Int32](repeating: 0, count: samples.count * s)
        var labels = [Int32](repeating: 0, count: samples.count * s)
        stream.withUnsafeBufferPointer { source in
            for (row, sample) in samples.enumerated() {
                let start = sample * s
                for t in 0..<s {
                    tokens[row * s + t] = source[start + t]
                    labels[row * s + t] = source[start + t + 1]
                }
            }
        }
        return GPTBatch(tokens: tokens, labels: labels, sampleIndices: Array(samples))
    }
}
