import Datasets
import Foundation
import Testing

/// Our ids against the reference tokenizers' (tiktoken for GPT-2, Hugging Face BertTokenizer
/// for WordPiece) on every unit of the real evaluation text.
@Suite("Tokenizer goldens")
struct TokenizerGoldenTests {
    @Test func gpt2OnWikiText103Test() throws {
        let gpt2 = try SharedData.gpt2()
        let lines = try SharedData.linesWithNewline("wikitext-103/wiki.test.tokens")
        let difference = try Golden("gpt2_wikitext103_test").firstDifference(lines) { gpt2.encode($0) }
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test func gpt2OnLambadaTest() throws {
        let gpt2 = try SharedData.gpt2()
        let texts = try SharedData.jsonLines("lambada/lambada_test.jsonl").map { $0["text"] as! String }
        let difference = try Golden("gpt2_lambada_test").firstDifference(texts) { gpt2.encode($0) }
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test func bertOnRACEMiddleTest() throws {
        let bert = try SharedData.bert()
        var units: [String] = []
        for article in try SharedData.jsonLines("race/race_middle_test.jsonl") {
            units.append(article["article"] as! String)
            let questions = article["questions"] as! [String]
            let options = article["options"] as! [[String]]
            for (question, choices) in zip(questions, options) {
                units.append(question)
                units.append(contentsOf: choices)
            }
        }
        let difference = try Golden("bert_race_middle_test").firstDifference(units) { bert.encode($0) }
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// WikiText has the accents, CJK and symbols RACE-M lacks.
    @Test func bertOnWikiText103Test() throws {
        let bert = try SharedData.bert()
        let lines = try SharedData.linesWithNewline("wikitext-103/wiki.test.tokens")
        let difference = try Golden("bert_wikitext103_test").firstDifference(lines) { bert.encode($0) }
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test func handCases() throws {
        let path = SharedData.goldenDirectory + "/handcases.golden"
        let data = try #require(FileManager.default.contents(atPath: path))
        var checked = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            let text = try JSONDecoder().decode(String.self, from: Data(fields[1].utf8))
            let expected = fields[2].split(separator: " ").map { Int32($0)! }
            let ids = fields[0] == "gpt2" ? try SharedData.gpt2().encode(text) : try SharedData.bert().encode(text)
            #expect(ids == expected, "\(fields[0]) \(text.debugDescription)")
            checked += 1
        }
        #expect(checked > 40)
    }
}
