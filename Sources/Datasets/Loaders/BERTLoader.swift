/// One rank's BERT micro-batch, each array [microBatch, sequenceLength] row-major except
/// `sentenceOrderLabels` [microBatch]. `maskedLabels` holds the original id where a token was
/// chosen for prediction and -1 elsewhere; `lossMask` is 1 exactly there.
public struct BERTBatch: Sendable, Equatable {
    public let tokens: [Int32]
    public let tokenTypes: [Int32]
    public let paddingMask: [Float]
    public let maskedLabels: [Int32]
    public let lossMask: [Float]
    /// 1 when segments A and B were swapped (sentence-order prediction), else 0.
    public let sentenceOrderLabels: [Int32]
    public let sampleIndices: [Int]
}

/// BERT pretraining samples as Megatron builds them (`megatron/data/bert_dataset.py`,
/// `dataset_utils.py`): a sentence run split at a random point into A and B, swapped with
/// probability ½ (SOP), truncated to fit, `[CLS] A [SEP] B [SEP]`, masked, padded. Every random
/// choice is keyed by (seed, epoch, sample), so a sample is the same on every rank and after a
/// resume, and masks differ between epochs.
public struct BERTLoader: Sendable {
    public struct Options: Sendable {
        public var maskProbability = 0.15
        public var shortSequenceProbability = 0.1

        public init() {}
    }

    public let sequenceLength: Int
    public let spans: [BERTSampleSpan]
    private let tokens: [Int32]
    private let sentenceOffsets: [Int]
    private let wordStarts: [Bool]
    private let special: (cls: Int32, sep: Int32, mask: Int32, pad: Int32)
    private let vocabSize: Int
    private let options: Options
    private let seed: UInt64
    private var cursor: SampleCursor

    public var position: LoaderPosition { cursor.position }
    public var order: ShardedSampleOrder { cursor.order }

    public init(file: TokenFile, sequenceLength: Int, microBatch: Int, dpRank: Int, dpSize: Int, seed: UInt64,
                options: Options = Options(), position: LoaderPosition = .start) throws {
        precondition(sequenceLength > 3, "sequence length validated by the caller")
        precondition(file.header.kind == .bertSentences, "BERT pretraining reads bert-sentences files")
        typealias D = TokenFileSchema.Dataset
        typealias A = TokenFileSchema.Attribute
        let sentenceOffsets = try file.offsets(D.sentenceOffsets, total: file.tokens.count)
        let documentSentences = try file.offsets(D.documentSentenceOffsets, total: sentenceOffsets.count - 1)
        let wordStarts = try file.dataset(D.wordStarts, as: UInt8.self, count: file.tokens.count)
        let spans = BERTSampleMapping.build(sentenceOffsets: sentenceOffsets, documentSentenceOffsets: documentSentences,
                                            maxTokens: sequenceLength - 3,
                                            shortSequenceProbability: options.shortSequenceProbability, seed: seed)
        let order = try ShardedSampleOrder(sampleCount: spans.count, microBatch: microBatch, dpRank: dpRank,
                                           dpSize: dpSize, seed: seed, shuffles: true, what: file.path)
        self.sequenceLength = sequenceLength
        self.spans = spans
        self.tokens = file.tokens
        self.sentenceOffsets = sentenceOffsets
        self.wordStarts = wordStarts.map { $0 != 0 }
        self.special = (Int32(try file.integerAttribute(A.clsID)), Int32(try file.integerAttribute(A.sepID)),
                        Int32(try file.integerAttribute(A.maskID)), Int32(try file.integerAttribute(A.padID)))
        self.vocabSize = file.header.vocabSize
        self.options = options
        self.seed = seed
        self.cursor = try SampleCursor(order: order, position: position)
    }

    public mutating func next() -> BERTBatch {
        let (epoch, samples) = cursor.next()
        let s = sequenceLength
        var tokens = [Int32](repeating: special.pad, count: samples.count * s)
        var types = [Int32](repeating: special.pad, count: samples.count * s)
        var padding = [Float](repeating: 0, count: samples.count * s)
        var labels = [Int32](repeating: -1, count: samples.count * s)
        var lossMask = [Float](repeating: 0, count: samples.count * s)
        var order = [Int32](repeating: 0, count: samples.count)
        for (row, sample) in samples.enumerated() {
            let built = self.sample(sample, epoch: epoch)
            for (t, token) in built.tokens.enumerated() {
                tokens[row * s + t] = token
                types[row * s + t] = built.types[t]
                padding[row * s + t] = 1
            }
            for position in built.masked {
                labels[row * s + position] = built.original[position]
                lossMask[row * s + position] = 1
            }
            order[row] = built.swapped ? 1 : 0
        }
        return BERTBatch(tokens: tokens, tokenTypes: types, paddingMask: padding, maskedLabels: labels,
                         lossMask: lossMask, sentenceOrderLabels: order, sampleIndices: Array(samples))
    }

    /// `build_training_sample` for one span, unpadded.
    func sample(_ index: Int, epoch: Int) -> (tokens: [Int32], original: [Int32], types: [Int32], masked: [Int], swapped: Bool) {
        var generator = SplitMix64(key: seed, UInt64(epoch), UInt64(index), 0x4245_5254)
        let span = spans[index]
        let sentenceCount = span.endSentence - span.firstSentence
        let split = sentenceCount >= 3 ? 1 + generator.below(sentenceCount - 1) : 1
        let middle = sentenceOffsets[span.firstSentence + split]
        var a = sentenceOffsets[span.firstSentence]..<middle
        var b = middle..<sentenceOffsets[span.endSentence]
        let swapped = generator.unit() < 0.5
        if swapped { swap(&a, &b) }
        let maxTokens = sequenceLength - 3
        while a.count + b.count > maxTokens {
            let front = generator.unit() < 0.5
            if a.count > b.count {
                a = front ? a.dropFirst() : a.dropLast()
            } else {
                b = front ? b.dropFirst() : b.dropLast()
            }
        }
        var ids: [Int32] = [], starts: [Bool] = []
        ids.reserveCapacity(sequenceLength)
        starts.reserveCapacity(sequenceLength)
        ids.append(special.cls)
        starts.append(true)
        ids += tokens[a]
        starts += wordStarts[a]
        ids.append(special.sep)
        starts.append(true)
        let typeOneStart = ids.count
        ids += tokens[b]
        starts += wordStarts[b]
        ids.append(special.sep)
        starts.append(true)
        let types = (0..<ids.count).map { Int32($0 >= typeOneStart ? 1 : 0) }
        let original = ids
        let masked = MaskedLanguageModel.mask(
            &ids, wordStarts: starts, special: (special.cls, special.sep, special.mask), vocabSize: vocabSize,
            probability: options.maskProbability,
            maxPredictions: Int(options.maskProbability * Double(sequenceLength)), generator: &generator)
        return (ids, original, types, masked, swapped)
    }
}
