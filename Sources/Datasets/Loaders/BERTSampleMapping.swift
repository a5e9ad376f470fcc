/// Megatron's BERT sample map (`build_mapping` in `megatron/data/helpers.cpp`): runs of whole
/// sentences from one document, each run long enough for its target length (usually
/// `maxSequenceLength - 3`, with probability `shortSequenceProbability` a random shorter one)
/// and at least two sentences long so it can be cut into segments A and B.
public struct BERTSampleSpan: Sendable, Equatable {
    public let firstSentence: Int
    public let endSentence: Int
    public let targetLength: Int
}

enum BERTSampleMapping {
    static let longSentence = 512

    static func build(sentenceOffsets: [Int], documentSentenceOffsets: [Int], maxTokens: Int,
                      shortSequenceProbability: Double, seed: UInt64) -> [BERTSampleSpan] {
        var generator = SplitMix64(key: seed, 0x4D41_5050)
        let shortRatio = shortSequenceProbability > 0 ? Int((1 / shortSequenceProbability).rounded()) : 0
        func targetLength() -> Int {
            let draw = Int(truncatingIfNeeded: generator.next() >> 1)
            return shortRatio > 0 && draw % shortRatio == 0 ? 2 + draw % (maxTokens - 1) : maxTokens
        }
        var spans: [BERTSampleSpan] = []
        for document in 0..<(documentSentenceOffsets.count - 1) {
            let first = documentSentenceOffsets[document]
            let last = documentSentenceOffsets[document + 1]
            guard last - first >= 2 else { continue }
            let hasLongSentence = (first..<last).contains {
                sentenceOffsets[$0 + 1] - sentenceOffsets[$0] > longSentence
            }
            guard !hasLongSentence else { continue }
            var start = first
            var length = 0
            var sentences = 0
            var target = targetLength()
            for sentence in first..<last {
                length += sentenceOffsets[sentence + 1] - sentenceOffsets[sentence]
                sentences += 1
                let remaining = last - sentence - 1
                if (length >= target && remaining > 1 && sentences >= 2) || remaining == 0 {
                    if sentences > 1 {
                        spans.append(BERTSampleSpan(firstSentence: start, endSentence: sentence + 1, targetLength: target))
                    }
                    start = sentence + 1
                    target = targetLength()
                    length = 0
                    sentences = 0
                }
            }
        }
        return spans
    }
}
