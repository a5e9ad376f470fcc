import ArgumentParser
import Foundation
import Training

/// Our checkpoints out, to the tools people already use.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one of our checkpoints in a foreign format.",
        subcommands: [ExportHuggingFace.self])
}

struct ExportHuggingFace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hf",
        abstract: "A Hugging Face directory: GPT as GPT2LMHeadModel, post-LN BERT as BertForPreTraining, pre-LN BERT as MegatronBertForPreTraining (config.json, model.safetensors, tokenizer files).")

    @Option(help: "The checkpoint file, or a directory of them (its newest is taken).")
    var checkpoint: String

    @Option(help: "The directory to write.")
    var out: String

    @Option(help: "The tokenizer's vocabulary directory to copy (gpt2: encoder.json, vocab.bpe as vocab.json, merges.txt; bert: vocab.txt); none copied when absent.")
    var tokenizerDir: String?

    func run() throws {
        let s = try HuggingFaceExport.run(checkpoint: checkpoint, to: out, tokenizerDirectory: tokenizerDir)
        print("\(out): \(s.architecture) from \(s.checkpoint); "
              + (s.tokenizerFiles.isEmpty ? "no tokenizer files (pass --tokenizer-dir)" : "tokenizer files \(s.tokenizerFiles.joined(separator: ", "))"))
    }
}
