import ArgumentParser
import Datasets
import Dispatch
import Foundation
import Training

/// Tokenizer throughput on real text, per core: GPT-2 BPE on WikiText-103 test (line by line,
/// with its piece cache cold and warm) and BERT WordPiece on the RACE-M test articles.
/// `scripts/reference/tokenizer_golden.py --throughput` times the reference tokenizers on the
/// same text.
struct BenchTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenizer MB/s of text per core (GPT-2 BPE cache cold and warm, BERT WordPiece).")

    @Option(help: "GPT-2 vocabulary directory (encoder.json, vocab.bpe).")
    var gpt2VocabDir = TokenizerKind.gpt2.defaultVocabDirectory

    @Option(help: "BERT vocabulary directory (vocab.txt).")
    var bertVocabDir = TokenizerKind.bert.defaultVocabDirectory

    @Option(help: "Text for GPT-2: WikiText-103 test, one line per document.")
    var wikitext = "../shared/datasets/wikitext-103/wiki.test.tokens"

    @Option(help: "Text for BERT: RACE jsonl, the `article` of each line.")
    var race = "../shared/datasets/race/race_middle_test.jsonl"

    @Option(help: "Threads encoding disjoint parts of the text at once (MB/s is reported per thread).")
    var threads: [Int] = [1]

    @Option(help: "Timed repetitions (the median is reported).")
    var repeats = 3

    func validate() throws {
        if repeats <= 0 { throw ValidationError("--repeats must be positive, got \(repeats)") }
        if threads.isEmpty { throw ValidationError("--threads needs at least one value") }
        if let bad = threads.first(where: { $0 <= 0 }) {
            throw ValidationError("--threads must be positive, got \(bad)")
        }
    }

    func run() throws {
        let gpt2 = try GPT2BPETokenizer(vocabDirectory: gpt2VocabDir)
        let bert = try BERTWordPieceTokenizer(vocabDirectory: bertVocabDir)
        let wikiLines = try textLines(wikitext)
        let articles = try raceArticles(race)

        print("tokenizer  text                 MB  threads   tokens  cache  MB/s/core")
        for t in threads {
            let wiki = measure(gpt2.withEmptyCache(), wikiLines, threads: t, warm: false)
            report("gpt2", "wikitext-103 test", wikiLines, t, wiki.tokens, "cold", wiki.rate)
            let warmTokenizer = gpt2.withEmptyCache()
            let warm = measure(warmTokenizer, wikiLines, threads: t, warm: true)
            report("gpt2", "wikitext-103 test", wikiLines, t, warm.tokens, "warm", warm.rate)
            let race = measure(bert, articles, threads: t, warm: true)
            report("bert", "race-m test articles", articles, t, race.tokens, "-", race.rate)
        }
    }

    /// Tokens and MB/s per thread of encoding `texts`, each thread a contiguous share. A cold
    /// measurement starts every repetition from an empty cache; a warm one first encodes the
    /// text once.
    private func measure(_ tokenizer: any Tokenizer, _ texts: [String], threads: Int, warm: Bool)
        -> (tokens: Int, rate: Double) {
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let shares = (0..<threads).map { k in (k * texts.count / threads)..<((k + 1) * texts.count / threads) }
        let counts = TokenCounts(threads)
        func encodeAll(_ tokenizer: any Tokenizer) {
            DispatchQueue.concurrentPerform(iterations: threads) { k in
                var ids: [Int32] = []
                var total = 0
                for i in shares[k] {
                    ids.removeAll(keepingCapacity: true)
                    tokenizer.encode(texts[i], appendingTo: &ids)
                    total += ids.count
                }
                counts.set(k, total)
            }
        }
        let seconds: Double
        if warm {
            seconds = medianSeconds(warmup: 1, repeats: repeats) { encodeAll(tokenizer) }
        } else {
            let gpt2 = tokenizer as? GPT2BPETokenizer
            var times: [Double] = []
            for _ in 0..<repeats {
                let fresh: any Tokenizer = gpt2?.withEmptyCache() ?? tokenizer
                times.append(medianSeconds(warmup: 0, repeats: 1) { encodeAll(fresh) })
            }
            seconds = times.sorted()[times.count / 2]
        }
        return (counts.total, Double(bytes) / 1e6 / seconds / Double(threads))
    }

    private func report(_ name: String, _ text: String, _ texts: [String], _ threads: Int,
                        _ tokens: Int, _ cache: String, _ rate: Double) {
        let mb = Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1e6
        print("\(name.padding(toLength: 9, withPad: " ", startingAt: 0))  \(text.padding(toLength: 20, withPad: " ", startingAt: 0))"
              + "\(padded(formatted(mb, 2), 5))  \(padded("\(threads)", 7))  \(padded("\(tokens)", 7))  \(padded(cache, 5))  \(padded(formatted(rate, 2), 9))")
    }

    private func textLines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path); pass --wikitext with WikiText-103's wiki.test.tokens")
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.map { String($0) + "\n" }
    }

    private func raceArticles(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path); pass --race with RACE-M's race_middle_test.jsonl")
        }
        return try data.split(separator: UInt8(ascii: "\n")).enumerated().map { index, line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let article = object["article"] as? String else {
                throw ValidationError("\(path):\(index + 1): not a JSON object with an \"article\" string")
            }
            return article
        }
    }
}

/// Per-thread token totals written from `concurrentPerform`.
private final class TokenCounts: @unchecked Sendable {
    // @unchecked: thread k writes only slot k, and the slots are read after the threads join.
    private var counts: [Int]
    init(_ n: Int) { counts = [Int](repeating: 0, count: n) }
    func set(_ k: Int, _ v: Int) { counts.withUnsafeMutableBufferPointer { $0[k] = v } }
    var total: Int { counts.reduce(0, +) }
}
