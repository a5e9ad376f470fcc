/// Megatron's `create_masked_lm_predictions`: whole-word n-gram masking (n ≤ 3, p(n) ∝ 1/n)
/// of `round(15 %)` of the tokens (at most `maxPredictions`), each chosen token replaced by
/// [MASK] 80 % of the time, kept 10 %, replaced by a random id 10 %. [CLS] and [SEP] are never
/// chosen. Returns the positions chosen and writes the replacements into `tokens`.
enum MaskedLanguageModel {
    static let maxNgram = 3

    static func mask(_ tokens: inout [Int32], wordStarts: [Bool], special: (cls: Int32, sep: Int32, mask: Int32),
                     vocabSize: Int, probability: Double, maxPredictions: Int,
                     generator: inout SplitMix64) -> [Int] {
        var words: [[Int]] = []
        for (index, token) in tokens.enumerated() where token != special.cls && token != special.sep {
            if !wordStarts[index], !words.isEmpty, words[words.count - 1].last == index - 1 {
                words[words.count - 1].append(index)
            } else {
                words.append([index])
            }
        }
        let toPredict = min(maxPredictions, max(1, Int((Double(tokens.count) * probability).rounded(.toNearestOrEven))))
        let weights = (1...maxNgram).map { 1.0 / Double($0) }

        var starts = Array(0..<words.count)
        var index = starts.count - 1
        while index > 0 {
            starts.swapAt(index, generator.below(index + 1))
            index -= 1
        }
        var covered = Set<Int>()
        var chosen: [Int] = []
        for start in starts {
            if chosen.count >= toPredict { break }
            let available = min(maxNgram, words.count - start)
            let total = weights[0..<available].reduce(0, +)
            var draw = generator.unit() * total
            var n = 1
            while n < available, draw >= weights[n - 1] {
                draw -= weights[n - 1]
                n += 1
            }
            var positions = words[start..<start + n].flatMap { $0 }
            while chosen.count + positions.count > toPredict && n > 1 {
                n -= 1
                positions = words[start..<start + n].flatMap { $0 }
            }
            if chosen.count + positions.count > toPredict { continue }
            if positions.contains(where: covered.contains) { continue }
            for position in positions {
                covered.insert(position)
                chosen.append(position)
                if generator.unit() < 0.8 {
                    tokens[position] = special.mask
                } else if generator.unit() >= 0.5 {
                    tokens[position] = Int32(generator.below(vocabSize))
                }
            }
        }
        return chosen.sorted()
    }
}
