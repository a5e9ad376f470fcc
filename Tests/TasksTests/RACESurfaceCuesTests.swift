import Datasets
import Foundation
@testable import Tasks
import Testing

@Suite struct RACESurfaceCuesTests {
    /// Rows of [CLS] question+option [SEP] (type 0), passage [SEP] (type 1), padded to `sequence`.
    static func rows(_ segments: [[Int32]], passage: [Int32], sequence: Int) -> (tokens: [Int32], types: [Int32], mask: [Float]) {
        var tokens: [Int32] = [], types: [Int32] = [], mask: [Float] = []
        for segment in segments {
            let row = [101] + segment + [102] + passage + [102]
            let kinds = [Int32](repeating: 0, count: segment.count + 2) + [Int32](repeating: 1, count: passage.count + 1)
            tokens += row + [Int32](repeating: 0, count: sequence - row.count)
            types += kinds + [Int32](repeating: 0, count: sequence - row.count)
            mask += [Float](repeating: 1, count: row.count) + [Float](repeating: 0, count: sequence - row.count)
        }
        return (tokens, types, mask)
    }

    /// A fill-in-the-blank question ("7 _ 8 9"): the words after the blank are every choice's,
    /// so they count toward neither the length nor the overlap; padding is not read.
    @Test func theOptionIsWhereTheChoicesDiffer() {
        let passage: [Int32] = [20, 21, 22, 23, 8, 9]
        let segments: [[Int32]] = [[7, 30, 31, 32, 8, 9], [7, 20, 21, 8, 9], [7, 33, 8, 9], [7, 22, 40, 41, 42, 43, 8, 9]]
        let r = Self.rows(segments, passage: passage, sequence: 24)
        let picks = RACESurfaceCues.picks(tokens: r.tokens, types: r.types, mask: r.mask, sequence: 24, choices: 4)
        #expect(picks.longest == 3, "option 3 has 5 tokens")
        #expect(picks.overlap == 1, "option 1's tokens are all in the passage, option 3 has 1 of 5")
        #expect(RACESurfaceCues.differingParts(segments).map(Array.init) == [[30, 31, 32], [20, 21], [33], [22, 40, 41, 42, 43]])
    }

    /// Equal lengths and no overlap anywhere: the first choice, as argmax.
    @Test func tiesGoToTheFirstChoice() {
        let r = Self.rows([[5, 1], [5, 2], [5, 3], [5, 4]], passage: [9, 9], sequence: 12)
        let picks = RACESurfaceCues.picks(tokens: r.tokens, types: r.types, mask: r.mask, sequence: 12, choices: 4)
        #expect(picks.longest == 0 && picks.overlap == 0)
    }

    /// The committed RACE-M dev and test files: the counts that scripts/reference/race_surface_cues.py
    /// (numpy over the HDF5 datasets, written apart from this code) prints for them.
    @Test(arguments: [("race-m-dev", 432, 514), ("race-m-test", 417, 497)])
    func committedFilesMatchTheReference(name: String, longest: Int, overlap: Int) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try TokenFile(path: root.appendingPathComponent("data/\(name).h5").path, kind: .race, remedy: "scripts/prepare-data.sh")
        let cues = RACESurfaceCues(try RACEQuestions(name: name, file: file))
        #expect(cues == RACESurfaceCues(questions: 1436, longestOption: longest, passageOverlap: overlap))
    }
}
