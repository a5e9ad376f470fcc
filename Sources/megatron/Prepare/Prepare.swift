import ArgumentParser
import Datasets
import Foundation

/// `megatron prepare`: raw text → tokenized HDF5 files under data/ (schema in docs/data-format.md).
struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize raw data (WikiText, LAMBADA, RACE) into HDF5 files for training and evaluation.",
        subcommands: [PrepareWikiText.self, PrepareLambada.self, PrepareRACE.self, PrepareBERT.self, PrepareTiny.self])
}

/// Options every source shares: where the input is, where the output goes, which vocabulary.
struct PrepareLocations: ParsableArguments {
    @Option(help: "Input file (default: the copy in ../shared/datasets).")
    var raw: String?

    @Option(help: "Output HDF5 file (default: under data/).")
    var out: String?

    @Option(help: "Vocabulary directory (default: ../shared/datasets/gpt2_bpe or bert_wordpiece).")
    var vocabDir: String?
}

/// Runs one preparation with a progress line on stderr and a summary on stdout.
func runPreparation(_ label: String, out: String, _ body: (@escaping PreparationProgress) throws -> Void) throws {
    let directory = URL(fileURLWithPath: out).deletingLastPathComponent().path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let started = Date()
    var lastPrinted = Date.distantPast
    try body { done, total in
        let now = Date()
        guard done == total || now.timeIntervalSince(lastPrinted) > 0.25 else { return }
        lastPrinted = now
        let rate = Double(done) / max(now.timeIntervalSince(started), 1e-9)
        FileHandle.standardError.write(Data("\rprepare \(label): \(done)/\(total) (\(String(format: "%.1f", rate))/s)   ".utf8))
    }
    FileHandle.standardError.write(Data("\n".utf8))
    let seconds = Date().timeIntervalSince(started)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
    print("wrote \(out): \(bytes) bytes in \(String(format: "%.2f", seconds)) s")
}

let sharedDatasets = "../shared/datasets"

struct PrepareWikiText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wikitext",
        abstract: "WikiText .tokens: training documents (articles) or the evaluation stream (whole file, T_o recorded).")

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case train
        case eval
    }

    @Option(help: "train: articles as GPT documents with end-of-document ids; eval: the whole file as one stream.")
    var split: Split = .eval

    @OptionGroup var locations: PrepareLocations

    func run() throws {
        let tokenizer = try GPT2BPETokenizer(vocabDirectory: locations.vocabDir ?? "\(sharedDatasets)/gpt2_bpe")
        switch split {
        case .train:
            let raw = locations.raw ?? "\(sharedDatasets)/wikitext-2/wiki.train.tokens"
            let out = locations.out ?? "data/wikitext2-train-gpt2.h5"
            try runPreparation("wikitext train", out: out) { progress in
                try WikiTextPreparation.prepareTraining(raw: raw, out: out, tokenizer: tokenizer,
                                                        endOfDocument: tokenizer.endOfText, progress: progress)
            }
        case .eval:
            let raw = locations.raw ?? "\(sharedDatasets)/wikitext-103/wiki.test.tokens"
            let out = locations.out ?? "data/wikitext103-test-gpt2.h5"
            try runPreparation("wikitext eval", out: out) { progress in
                try WikiTextPreparation.prepareEvaluation(raw: raw, out: out, tokenizer: tokenizer, progress: progress)
            }
        }
    }
}

struct PrepareLambada: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambada",
        abstract: "LAMBADA jsonl: context and strict last-word target (with its leading space), GPT-2 BPE.")

    @OptionGroup var locations: PrepareLocations

    func run() throws {
        let tokenizer = try GPT2BPETokenizer(vocabDirectory: locations.vocabDir ?? "\(sharedDatasets)/gpt2_bpe")
        let raw = locations.raw ?? "\(sharedDatasets)/lambada/lambada_test.jsonl"
        let out = locations.out ?? "data/lambada-test-gpt2.h5"
        try runPreparation("lambada", out: out) { progress in
            try LambadaPreparation.prepare(raw: raw, out: out, tokenizer: tokenizer, progress: progress)
        }
    }
}

struct PrepareRACE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "race",
        abstract: "RACE jsonl: per question four [CLS] question+option [SEP] passage [SEP] sequences, WordPiece.")

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case train
        case dev
        case test
    }

    @Option(help: "Which RACE-M file of ../shared/datasets/race to read when --raw is not given.")
    var split: Split = .test

    @Option(help: "Longest sequence, [CLS] … [SEP] included; the passage tail is cut to fit.")
    var maxLength = 512

    @Option(help: "Longest question+option, in tokens.")
    var maxQALength = 128

    @OptionGroup var locations: PrepareLocations

    func validate() throws {
        guard maxLength >= 3 else { throw ValidationError("--max-length must be at least 3, got \(maxLength)") }
        guard maxQALength >= 1 else { throw ValidationError("--max-qa-length must be positive, got \(maxQALength)") }
    }

    func run() throws {
        let tokenizer = try BERTWordPieceTokenizer(vocabDirectory: locations.vocabDir ?? "\(sharedDatasets)/bert_wordpiece")
        let file = split == .train ? "race_middle_train_subset.jsonl" : "race_middle_\(split.rawValue).jsonl"
        let raw = locations.raw ?? "\(sharedDatasets)/race/\(file)"
        let out = locations.out ?? "data/race-middle-\(split.rawValue)-bert.h5"
        try runPreparation("race", out: out) { progress in
            try RACEPreparation.prepare(raw: raw, out: out, tokenizer: tokenizer, maxSequenceLength: maxLength,
                                        maxQALength: maxQALength, progress: progress)
        }
    }
}

struct PrepareBERT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bert",
        abstract: "BERT pretraining set from WikiText .tokens: articles split into sentences, WordPiece.")

    @OptionGroup var locations: PrepareLocations

    func run() throws {
        let tokenizer = try BERTWordPieceTokenizer(vocabDirectory: locations.vocabDir ?? "\(sharedDatasets)/bert_wordpiece")
        let raw = locations.raw ?? "\(sharedDatasets)/wikitext-2/wiki.train.tokens"
        let out = locations.out ?? "data/wikitext2-train-bert.h5"
        try runPreparation("bert", out: out) { progress in
            try BERTPreparation.prepare(raw: raw, out: out, tokenizer: tokenizer, progress: progress)
        }
    }
}

struct PrepareTiny: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiny",
        abstract: "Generate the tiny synthetic corpus, its vocabularies and prepared files (tests, smoke run).")

    @Option(help: "Output directory.")
    var out = "data/tiny"

    func run() throws {
        let started = Date()
        let files = try TinyData.write(to: out)
        print("wrote tiny data to \(files.directory) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
    }
}
