/// Megatron's `create_masked_lm_predictions`: whole-word n-gram masking (n ≤ 3, p(n) ∝ 1/n)
/// of `round(15 %)` of the tokens (at most `maxPredictions`), each chosen token replaced by
/// [MASK] 80 % of the time, kept 10 %, replaced by a random id 10 %. [CLS] and [SEP] are never
/// chosen. Returns the positions chosen and writes the replacements into `tokens`.
enum MaskedLanguageModel {
    static let maxNgram = 3

    static func mask(_ tokens: inout [Int32], wordStarts: [Bool], special: (cls: Int32, sep: Int32, mask: Int32),
                     vocabSize: Int, probability: Double, maxPredictions: Int,
                     generator: inout SplitMix64) -> [Int] {
        // A word is a run of positions [wordBegin[k], wordEnd[k]): flat arrays rather than an
        // array per word, which made masking the loader's bottleneck.
        var wordBegin: [Int] = [], wordEnd: [Int] = []
        wordBegin.reserveCapacity(tokens.count)
        wordEnd.reserveCapacity(tokens.count)
        for (index, token) in tokens.enumerated() where token != special.cls && token != special.sep {
            if !wordStarts[index], wordEnd.last == index {
                wordEnd[wordEnd.count - 1] = index + 1
            } else {
                wordBegin.append(index)
                wordEnd.append(index + 1)
            }
        }
        func positionCount(_ words: Range<Int>) -> Int {
            words.reduce(0) { $0 + wordEnd[$1] - wordBegin[$1] }
        }
        let toPredict = min(maxPredictions, max(1, Int((Double(tokens.count) * probability).rounded(.toNearestOrEven))))
        let weights = (1...maxNgram).map { 1.0 / Double($0) }

        var starts = Array(0..<wordBegin.count)
        var index = starts.count - 1
        while index > 0 {
            starts.swapAt(index, generator.below(index + 1))
            index -= 1
        }
        var covered = [Bool](repeating: false, count: tokens.count)
        var chosen: [Int] = []
        for start in starts {
            if chosen.count >= toPredict { break }
            let available = min(maxNgram, wordBegin.count - start)
            let total = weights[0..<available].reduce(0, +)
            var draw = generator.unit() * total
            var n = 1
            while n < available, draw >= weights[n - 1] {
                draw -= weights[n - 1]
                n += 1
            }
            while chosen.count + positionCount(start..<start + n) > toPredict && n > 1 { n -= 1 }
            let words = start..<start + n
            if chosen.count + positionCount(words) > toPredict { continue }
            if words.contains(where: { k in (wordBegin[k]..<wordEnd[k]).contains { covered[$0] } }) { continue }
            for k in words {
                for position in wordBegin[k]..<wordEnd[k] {
                    covered[position] = true
                    chosen.append(position)
                    if generator.unit() < 0.8 {
                        tokens[position] = special.mask
                    } else if generator.unit() >= 0.5 {
                        tokens[position] = Int32(generator.below(vocabSize))
                    }
                }
            }
        }
        return chosen.sorted()
    }
}
