import Datasets
import Foundation
import Testing

/// Expected outputs come from running Megatron's Python `wikitext_detokenizer` on the inputs.
@Suite("WikiText detokenizer")
struct WikiTextDetokenizerTests {
    static let cases: [(String, String)] = [
        (" = Robert Boulter = \n", " = Robert Boulter =\n"),
        (" The game 's story , set in 1 @,@ 000 AD , follows the \" Nameless \" squad @-@ mates ( a penal unit ) . \n",
         " The game's story, set in 1,000 AD, follows the \"Nameless\" squad-mates (a penal unit).\n"),
        (" He said : \" it is 3 @.@ 5 km ! \" and left ; then ( quietly ) [ see below ] { x } . \n",
         " He said: \"it is 3.5 km!\" and left; then (quietly) [see below] {x}.\n"),
        (" = = = Reception = = = \n = = Plot = = \n", " === Reception ===\n== Plot ==\n"),
        (" The players ' scores were 20 \u{B0} C and N votes ? ' hello ' \n",
         " The players'scores were 20\u{B0}C and 1 votes?' hello '\n"),
        (" a /' 5/ b ( unclosed and \" another \" ( \n with newline \n ) end \n",
         " a /'[0-9]/ b (unclosed and \"another\" (\nwith newline) end\n"),
        (" ( \u{A0} x \u{2003} ) \u{1680} \" \u{1C} y \u{1F} \" \n", " (x) \u{1680} \"y\"\n"),
        ("no change here", "no change here"),
    ]

    @Test(arguments: 0..<cases.count)
    func matchesMegatron(_ index: Int) {
        let (input, expected) = Self.cases[index]
        #expect(WikiTextDetokenizer.detokenize(input) == expected)
    }

    static let wikiText103Test = "../shared/datasets/wikitext-103/wiki.test.tokens"

    /// Python's detokenizer on the whole WikiText-103 test file gives 1,229,299 characters with
    /// this UTF-8 SHA-256; runs only where the shared data sits beside the repository.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: wikiText103Test)))
    func wholeTestFileMatchesMegatron() throws {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: Self.wikiText103Test)), as: UTF8.self)
        let detokenized = WikiTextDetokenizer.detokenize(text)
        #expect(detokenized.unicodeScalars.count == 1_229_299)
        #expect(SHA256.hex(of: Array(detokenized.utf8)) == "bffd0e8b084837cd8fb9e939faed2c9fcd9d17c75b364e954af798b0c4d145b8")
        #expect(WikiTextPreparation.originalTokenCount(text) == 245_566)
    }

    @Test func originalTokenCountIsPythonsSplitOnSpaces() {
        #expect(WikiTextPreparation.originalTokenCount(" \n a b  c \n") == 4)
        #expect(WikiTextPreparation.originalTokenCount("") == 1)
    }

    @Test func articlesSplitAtTopLevelHeadings() {
        let text = " \n = One = \n \n a . \n = = Sub = = \n b . \n = Two = \n c . \n"
        let articles = WikiTextPreparation.splitArticles(text)
        #expect(articles.count == 2)
        #expect(articles[0].contains("= = Sub = =") && articles[0].contains(" a . "))
        #expect(articles[1].hasPrefix(" = Two = \n"))
    }
}

@Suite("Preparation helpers")
struct PreparationHelperTests {
    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: [UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(of: million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func lambadaStrictSplitKeepsTheLastWordOnly() throws {
        let split = try #require(LambadaPreparation.strictSplit("He said \u{201C}go home\u{201D} to Anna  \n"))
        #expect(split.context == "He said \u{201C}go home\u{201D} to")
        #expect(split.word == "Anna")
        #expect(LambadaPreparation.strictSplit("   ") == nil)
    }

    @Test func raceCleanTextMatchesMegatron() {
        #expect(RACEPreparation.cleanText("A cat .\n\nIt  sat . . Then\tit ran .") == "A cat. It sat.. Then it ran .")
    }

    @Test func sentencesSplitAtEndsButNotAbbreviations() {
        let sentences = SentenceSplitter.split("Mr. Smith met Dr. Jones in 1990. They talked! \"Fine,\" he said. J. R. wrote it.")
        #expect(sentences == ["Mr. Smith met Dr. Jones in 1990.", "They talked!", "\"Fine,\" he said.", "J. R. wrote it."])
    }
}
