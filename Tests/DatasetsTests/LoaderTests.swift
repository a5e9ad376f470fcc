import Datasets
import Foundation
import Testing

@Suite("Loaders")
struct LoaderTests {
    @Test func dataParallelRanksSplitEveryGlobalBatchDisjointly() throws {
        let tiny = try TinyFixture.files()
        let file = try TokenFile(path: tiny.gptTrain, kind: .gptDocuments, remedy: "regenerate")
        let dpSize = 3
        var loaders = try (0..<dpSize).map {
            try GPTLoader(file: file, sequenceLength: 16, microBatch: 2, dpRank: $0, dpSize: dpSize, seed: 7)
        }
        let order = loaders[0].order
        #expect(order.sampleCount == (file.tokens.count - 1) / 16)
        var seen: [Int] = []
        for _ in 0..<order.batchesPerEpoch {
            let batches = loaders.indices.map { loaders[$0].next() }
            let indices = batches.flatMap(\.sampleIndices)
            #expect(Set(indices).count == order.globalBatch)
            seen += indices
        }
        #expect(Set(seen).count == order.batchesPerEpoch * order.globalBatch)
        #expect(seen.allSatisfy { (0..<order.sampleCount).contains($0) })
        #expect(loaders[0].position == LoaderPosition(epoch: 1, batch: 0))
    }

    @Test func gptSamplesAreShiftedWindowsOfTheStream() throws {
        let tiny = try TinyFixture.files()
        let file = try TokenFile(path: tiny.gptTrain, kind: .gptDocuments, remedy: "regenerate")
        var loader = try GPTLoader(file: file, sequenceLength: 8, microBatch: 4, dpRank: 0, dpSize: 1, seed: 1)
        let batch = loader.next()
        for (row, sample) in batch.sampleIndices.enumerated() {
            #expect(Array(batch.tokens[row * 8..<row * 8 + 8]) == Array(file.tokens[sample * 8..<sample * 8 + 8]))
            #expect(Array(batch.labels[row * 8..<row * 8 + 8]) == Array(file.tokens[sample * 8 + 1..<sample * 8 + 9]))
        }
    }

    @Test func sameDataParallelRankSeesTheSameSamples() throws {
        let tiny = try TinyFixture.files()
        let file = try TokenFile(path: tiny.bertTrain, kind: .bertSentences, remedy: "regenerate")
        var tensorRank0 = try BERTLoader(file: file, sequenceLength: 32, microBatch: 2, dpRank: 1, dpSize: 2, seed: 3)
        var tensorRank1 = try BERTLoader(file: file, sequenceLength: 32, microBatch: 2, dpRank: 1, dpSize: 2, seed: 3)
        var otherRank = try BERTLoader(file: file, sequenceLength: 32, microBatch: 2, dpRank: 0, dpSize: 2, seed: 3)
        for _ in 0..<5 {
            let batch = tensorRank0.next()
            #expect(batch == tensorRank1.next())
            #expect(batch.sampleIndices != otherRank.next().sampleIndices)
        }
    }

    @Test(arguments: [3, 11])
    func resumedLoaderContinuesWithTheExactNextBatch(consumed: Int) throws {
        let tiny = try TinyFixture.files()
        let gptFile = try TokenFile(path: tiny.gptTrain, kind: .gptDocuments, remedy: "regenerate")
        var gpt = try GPTLoader(file: gptFile, sequenceLength: 32, microBatch: 4, dpRank: 1, dpSize: 2, seed: 5)
        for _ in 0..<consumed { _ = gpt.next() }
        let saved = try JSONDecoder().decode(LoaderPosition.self, from: JSONEncoder().encode(gpt.position))
        var resumedGPT = try GPTLoader(file: gptFile, sequenceLength: 32, microBatch: 4, dpRank: 1, dpSize: 2, seed: 5,
                                       position: saved)
        #expect(gpt.next() == resumedGPT.next())
        #expect(gpt.next() == resumedGPT.next())

        let bertFile = try TokenFile(path: tiny.bertTrain, kind: .bertSentences, remedy: "regenerate")
        var bert = try BERTLoader(file: bertFile, sequenceLength: 32, microBatch: 2, dpRank: 0, dpSize: 1, seed: 5)
        for _ in 0..<consumed { _ = bert.next() }
        var resumedBERT = try BERTLoader(file: bertFile, sequenceLength: 32, microBatch: 2, dpRank: 0, dpSize: 1, seed: 5,
                                         position: bert.position)
        #expect(bert.next() == resumedBERT.next())

        #expect(throws: DataFileError.self) {
            try GPTLoader(file: gptFile, sequenceLength: 32, microBatch: 4, dpRank: 0, dpSize: 2, seed: 5,
                          position: LoaderPosition(epoch: 0, batch: 1_000_000))
        }
    }

    @Test func epochsVisitSamplesInDifferentSeededOrders() throws {
        let order = try ShardedSampleOrder(sampleCount: 50, microBatch: 5, dpRank: 0, dpSize: 2, seed: 9, shuffles: true,
                                           what: "test")
        #expect(order.epochOrder(0).sorted() == Array(0..<50))
        #expect(order.epochOrder(0) != order.epochOrder(1))
        #expect(order.epochOrder(1) == order.epochOrder(1))
        #expect(throws: DataFileError.self) {
            try ShardedSampleOrder(sampleCount: 9, microBatch: 5, dpRank: 0, dpSize: 2, seed: 9, shuffles: true, what: "test")
        }
    }

    @Test func bertMaskingFollowsFifteenEightyTenTen() throws {
        let tiny = try TinyFixture.files()
        let file = try TokenFile(path: tiny.bertTrain, kind: .bertSentences, remedy: "regenerate")
        let bert = try BERTWordPieceTokenizer(vocabDirectory: tiny.bertVocabDirectory)
        let special = bert.specialTokens
        var loader = try BERTLoader(file: file, sequenceLength: 64, microBatch: 8, dpRank: 0, dpSize: 1, seed: 11)
        var (real, predicted, masked, kept, swapped, samples) = (0, 0, 0, 0, 0, 0)
        for _ in 0..<loader.order.batchesPerEpoch {
            let batch = loader.next()
            for row in 0..<8 {
                let range = row * 64..<(row + 1) * 64
                let tokens = batch.tokens[range]
                let realCount = Int(batch.paddingMask[range].reduce(0, +))
                #expect(tokens[range.lowerBound] == special.cls)
                #expect(tokens[range.lowerBound + realCount - 1] == special.sep)
                #expect(tokens[(range.lowerBound + realCount)...].allSatisfy { $0 == special.pad })
                let sepCount = tokens.filter { $0 == special.sep }.count
                #expect(sepCount == 2)
                real += realCount
                for i in range where batch.lossMask[i] == 1 {
                    predicted += 1
                    #expect(batch.maskedLabels[i] != special.cls && batch.maskedLabels[i] != special.sep)
                    if batch.tokens[i] == special.mask { masked += 1 } else if batch.tokens[i] == batch.maskedLabels[i] { kept += 1 }
                }
                #expect(batch.tokenTypes[range.lowerBound] == 0 && batch.tokenTypes[range.lowerBound + realCount - 1] == 1)
                swapped += Int(batch.sentenceOrderLabels[row])
                samples += 1
            }
        }
        let fraction = Double(predicted) / Double(real)
        #expect(abs(fraction - 0.15) < 0.02, "predicted fraction \(fraction)")
        #expect(abs(Double(masked) / Double(predicted) - 0.8) < 0.04)
        #expect(abs(Double(kept) / Double(predicted) - 0.1) < 0.04)
        #expect(abs(Double(swapped) / Double(samples) - 0.5) < 0.15)
    }

    @Test func raceBatchesHoldFourOptionSequencesPerQuestion() throws {
        let tiny = try TinyFixture.files()
        let file = try TokenFile(path: tiny.racePrepared, kind: .race, remedy: "regenerate")
        let bert = try BERTWordPieceTokenizer(vocabDirectory: tiny.bertVocabDirectory)
        let special = bert.specialTokens
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tiny.race)), as: UTF8.self).split(separator: "\n")
        var expected: [(question: String, options: [String], answer: Int, article: String)] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let questions = object["questions"] as! [String]
            let options = object["options"] as! [[String]]
            let answers = object["answers"] as! [String]
            for q in questions.indices {
                expected.append((questions[q], options[q], Int(answers[q].unicodeScalars.first!.value) - 65,
                                 object["article"] as! String))
            }
        }
        var loader = try RACELoader(file: file, microBatch: 3, dpRank: 0, dpSize: 1, seed: 0, shuffles: false)
        #expect(loader.questionCount == expected.count)
        let s = TinyData.Files.raceSequenceLength
        for _ in 0..<(expected.count / 3) {
            let batch = loader.next()
            #expect(batch.tokens.count == 3 * 4 * s)
            for (q, question) in batch.questionIndices.enumerated() {
                #expect(Int(batch.labels[q]) == expected[question].answer)
                for choice in 0..<4 {
                    let row = Array(batch.tokens[(q * 4 + choice) * s..<(q * 4 + choice + 1) * s])
                    let types = Array(batch.tokenTypes[(q * 4 + choice) * s..<(q * 4 + choice + 1) * s])
                    let length = Int(batch.paddingMask[(q * 4 + choice) * s..<(q * 4 + choice + 1) * s].reduce(0, +))
                    let firstSep = try #require(row.firstIndex(of: special.sep))
                    let item = expected[question]
                    let qa = item.question.contains("_")
                        ? item.question.replacingOccurrences(of: "_", with: item.options[choice])
                        : item.question + " " + item.options[choice]
                    #expect(row[0] == special.cls)
                    #expect(Array(row[1..<firstSep]) == bert.encode(RACEPreparation.cleanText(qa)))
                    let passage = bert.encode(RACEPreparation.cleanText(item.article))
                    let kept = min(passage.count, s - 1 - (firstSep + 1))
                    #expect(Array(row[(firstSep + 1)..<(firstSep + 1 + kept)]) == Array(passage.prefix(kept)))
                    #expect(row[length - 1] == special.sep && length == firstSep + 1 + kept + 1)
                    #expect(types[0...firstSep].allSatisfy { $0 == 0 } && types[(firstSep + 1)..<length].allSatisfy { $0 == 1 })
                    #expect(row[length...].allSatisfy { $0 == special.pad })
                }
            }
        }
    }

    @Test func tinyGPT2VocabularyRoundTripsTheCorpus() throws {
        let tiny = try TinyFixture.files()
        let tokenizer = try GPT2BPETokenizer(vocabDirectory: tiny.gpt2VocabDirectory)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tiny.race)), as: UTF8.self)
        let ids = tokenizer.encode(text)
        #expect(try tokenizer.decode(ids) == text)
        #expect(ids.count * 3 < text.utf8.count, "the merges should compress the text")
    }
}
