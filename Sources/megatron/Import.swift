import ArgumentParser
import Foundation
import Training

/// Foreign checkpoints in: the formats people's trained weights come in.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a foreign checkpoint into one of ours (loads at any tp × dp).",
        subcommands: [ImportHuggingFace.self])
}

struct ImportHuggingFace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hf",
        abstract: "A Hugging Face GPT-2 (GPT2LMHeadModel, GPT2Model) or BERT (BertForPreTraining, BertForMaskedLM, BertModel) directory: config.json + model.safetensors or its shards.")

    @Option(help: "The model directory (config.json, model.safetensors or model.safetensors.index.json).")
    var from: String

    @Option(help: "The checkpoint file to write, e.g. checkpoints/imported/gpt2-medium.h5.")
    var out: String

    @Option(help: "Seeds the initialisation of heads the directory lacks.")
    var seed: UInt64 = 1234

    func run() throws {
        let directory = URL(fileURLWithPath: out).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let s = try HuggingFaceImport.run(from: from, to: out, seed: seed)
        let m = s.config.model
        print("\(out): \(s.architecture) as \(m.family.rawValue), \(m.layers) layers, hidden \(m.hidden), \(m.heads) heads, "
              + "\(m.maxPositions) positions, vocabulary \(m.vocabSize) (padded \(m.paddedVocabSize ?? m.vocabSize)), "
              + "GeLU \(m.gelu.rawValue), \(m.postLayerNorm ? "post-LN" : "pre-LN"), layer-norm epsilon \(m.layerNormEpsilon); "
              + "\(s.parameterCount) parameters as \(s.scalarType)")
        if !s.initialized.isEmpty {
            print("not in the directory, initialised from seed \(seed): \(s.initialized.joined(separator: ", "))")
        }
        print(s.tokenizerFiles.isEmpty ? "no tokenizer files beside the weights"
              : "tokenizer files beside the weights: \(s.tokenizerFiles.joined(separator: ", "))")
    }
}
