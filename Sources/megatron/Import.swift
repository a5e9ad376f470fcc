import ArgumentParser
import CheckpointFormats
import Foundation
import TensorCore
import Training

/// Foreign checkpoints in: the formats people's trained weights come in.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a foreign checkpoint into one of ours (loads at any tp × dp).",
        subcommands: [ImportHuggingFace.self, ImportMegatron.self])
}

/// The options both importers share.
struct ImportOptions: ParsableArguments {
    @Option(help: "The checkpoint file to write, e.g. checkpoints/imported/gpt2-medium.h5.")
    var out: String

    @Option(help: "The vocabulary the model was trained with, recorded in the checkpoint so that eval checks data files against it (GPT-2: ../shared/datasets/gpt2_bpe; BERT: ../shared/datasets/bert_wordpiece).")
    var vocabDir: String?

    @Option(help: "Seeds the initialisation of heads the source lacks.")
    var seed: UInt64 = 1234

    func prepare() throws {
        let directory = URL(fileURLWithPath: out).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func report(_ s: ForeignImport.Summary, origin: String) {
        let m = s.config.model
        print("\(out): \(origin) as \(m.family.rawValue), \(m.layers) layers, hidden \(m.hidden), \(m.heads) heads, "
              + "\(m.maxPositions) positions, vocabulary \(m.vocabSize) (padded \(m.paddedVocabSize ?? m.vocabSize)), "
              + "GeLU \(m.gelu.rawValue), \(m.postLayerNorm ? "post-LN" : "pre-LN"), layer-norm epsilon \(m.layerNormEpsilon); "
              + "\(s.parameterCount) parameters as \(s.scalarType)")
        if !s.initialized.isEmpty {
            print("not in the source, initialised from seed \(seed): \(s.initialized.joined(separator: ", "))")
        }
        print(s.vocabulary.map { "vocabulary recorded: \($0)" }
              ?? "no vocabulary recorded (pass --vocab-dir): eval will warn that it cannot check data files against it")
    }
}

struct ImportHuggingFace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hf",
        abstract: "A Hugging Face GPT-2 (GPT2LMHeadModel, GPT2Model) or BERT (BertForPreTraining, BertForMaskedLM, BertModel; pre-LN MegatronBertForPreTraining, MegatronBertForMaskedLM, MegatronBertModel) directory: config.json + model.safetensors or its shards.")

    @Option(help: "The model directory (config.json, model.safetensors or model.safetensors.index.json).")
    var from: String

    @OptionGroup var options: ImportOptions

    func run() throws {
        try options.prepare()
        let s = try HuggingFaceImport.run(from: from, to: options.out, seed: options.seed, vocabularyDirectory: options.vocabDir)
        options.report(s.imported, origin: s.architecture)
        print(s.tokenizerFiles.isEmpty ? "no tokenizer files beside the weights"
              : "tokenizer files beside the weights: \(s.tokenizerFiles.joined(separator: ", "))")
    }
}

struct ImportMegatron: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "megatron",
        abstract: "A Megatron-LM GPT-2 or BERT checkpoint directory (latest_checkpointed_iteration.txt, release/ or iter_N/ with mp_rank_NN/model_optim_rng.pt), any tensor-parallel size, checkpoint_version 0 to 3, either torch.save format. Nothing in the files is run.")

    @Option(help: "The checkpoint directory (or its release/ or iter_N/ folder).")
    var from: String

    @OptionGroup var options: ImportOptions

    @Option(help: "Attention heads, for checkpoints without args (NVIDIA's GPT-2 345M: 16).")
    var heads: Int?

    @Option(help: "The vocabulary before Megatron's padding, for checkpoints whose args name no known tokenizer (GPT-2: 50257, BERT uncased: 30522).")
    var vocabSize: Int?

    @Option(help: "GeLU form (erf|tanh) for checkpoints without args; default tanh, as 2019's code and transformers' converter.")
    var gelu: GeLUForm?

    func run() throws {
        try options.prepare()
        let s = try MegatronImport.run(from: from, to: options.out,
                                       options: .init(heads: heads, vocabSize: vocabSize, gelu: gelu),
                                       seed: options.seed, vocabularyDirectory: options.vocabDir)
        options.report(s.imported, origin: "Megatron-LM checkpoint_version \(s.checkpointVersion), tp \(s.tensorParallel)"
                       + ", padded vocabulary \(s.checkpointVocabSize)\(s.hasArgs ? "" : ", no args")")
    }
}

extension GeLUForm: ExpressibleByArgument {}
