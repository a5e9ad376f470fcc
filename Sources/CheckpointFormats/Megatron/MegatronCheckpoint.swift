import Foundation
import TensorCore

/// A Megatron-LM GPT-2 or BERT checkpoint (`MegatronLayout`) as our full logical tensors: each
/// tensor-parallel rank's `model_optim_rng.pt` read by `TorchSaveFile`, the shards merged as
/// `mpu/layers.py` split them, the query/key/value rows of its `checkpoint_version` put in our
/// order, and the padded vocabulary rows dropped. The model is described from the checkpoint's
/// `args` (an argparse.Namespace, absent from 2019 files) where it has them, else from tensor
/// shapes and `Options`; a shape that contradicts `args`, shards of different tensor-parallel
/// sizes or versions, or replicated tensors that differ between ranks are refused by name.
public struct MegatronCheckpoint: Sendable {
    /// What neither the tensors nor (old) checkpoints' missing `args` say.
    public struct Options: Sendable, Equatable {
        public var heads: Int?
        /// The tokenizer's vocabulary before Megatron's padding.
        public var vocabSize: Int?
        public var gelu: GeLUForm?

        public init(heads: Int? = nil, vocabSize: Int? = nil, gelu: GeLUForm? = nil) {
            self.heads = heads
            self.vocabSize = vocabSize
            self.gelu = gelu
        }
    }

    public let directory: String
    public let layout: MegatronLayout
    public let checkpointVersion: Double
    public let description: TransformerDescription
    /// Megatron's padded vocabulary (the embedding's rows over all ranks).
    public let checkpointVocabSize: Int
    public let hasArgs: Bool
    let files: [TorchSaveFile]
    /// Per rank: our name → its tensor.
    let tensors: [[String: TorchTensor]]
    let order: QueryKeyValueOrder

    public init(directory: String, options: Options = Options()) throws {
        self.directory = directory
        layout = try MegatronLayout(directory: directory)
        files = try layout.shards.map { try TorchSaveFile(path: $0) }
        let ranks = files.count
        func fail(_ problem: String) -> CheckpointFormatError { .layout(directory: directory, problem: problem) }

        var versions: [Double] = [], argsByRank: [PickleValue?] = [], tensors: [[String: TorchTensor]] = []
        for file in files {
            guard let model = file.root["model"] else {
                throw CheckpointFormatError.missingTensor(file: file.path, tensor: "model (the state dict Megatron-LM saves under \"model\")")
            }
            versions.append(file.root["checkpoint_version"]?.double ?? 0)
            argsByRank.append(file.root["args"])
            var named: [String: TorchTensor] = [:]
            try Self.flatten(model, prefix: "", into: &named, file: file.path, depth: 0)
            var ours: [String: TorchTensor] = [:]
            for (name, t) in named {
                guard let our = MegatronNames.ours(name) else { continue }
                ours[our] = t
            }
            tensors.append(ours)
        }
        guard Set(versions).count == 1 else { throw fail("the shards have different checkpoint_version values \(versions)") }
        checkpointVersion = versions[0]
        guard let order = QueryKeyValueOrder(checkpointVersion: checkpointVersion) else {
            throw CheckpointFormatError.config(file: files[0].path, field: "checkpoint_version",
                                               problem: "\(checkpointVersion) is not one of 0, 1.0, 2.0, 3.0, whose query/key/value orders are known")
        }
        self.order = order
        let args = argsByRank[0]
        hasArgs = args != nil
        for (rank, a) in argsByRank.enumerated() {
            guard let size = (a?["tensor_model_parallel_size"] ?? a?["model_parallel_size"])?.int else { continue }
            guard size == ranks else {
                throw fail("\(MegatronLayout.rankFolder(rank)) was saved at tensor-parallel size \(size), but the checkpoint has "
                           + "\(ranks) shards; the shards come from different runs, or some are missing")
            }
        }
        if let pipeline = args?["pipeline_model_parallel_size"]?.int, pipeline > 1 {
            throw fail("pipeline-parallel size \(pipeline); only tensor-parallel checkpoints (pipeline size 1) are read")
        }
        for (rank, names) in tensors.enumerated() where Set(names.keys) != Set(tensors[0].keys) {
            let odd = Set(names.keys).symmetricDifference(tensors[0].keys).sorted().first!
            throw fail("\(MegatronLayout.rankFolder(rank)) and mp_rank_00 hold different tensors (\(odd)); the shards come from different models")
        }
        self.tensors = tensors
        (description, checkpointVocabSize) = try Self.describe(tensors, ranks: ranks, args: args, options: options,
                                                               file: files[0].path, directory: directory)
        try checkShapes()
    }

    /// Dicts flattened to dotted names; other leaves (None, numbers) are not weights.
    static func flatten(_ value: PickleValue, prefix: String, into out: inout [String: TorchTensor], file: String, depth: Int) throws {
        guard depth < 16 else {
            throw CheckpointFormatError.pickle(file: file, offset: 0, problem: "the state dict nests deeper than 16 levels at \(prefix)")
        }
        switch value {
        case let .tensor(t): out[prefix] = t
        case let .dict(d):
            for (key, v) in d.pairs {
                guard let k = key.string else { continue }
                try flatten(v, prefix: prefix.isEmpty ? k : "\(prefix).\(k)", into: &out, file: file, depth: depth + 1)
            }
        default: return
        }
    }

    static func describe(_ tensors: [[String: TorchTensor]], ranks: Int, args: PickleValue?, options: Options,
                         file: String, directory: String) throws -> (TransformerDescription, Int) {
        let first = tensors[0]
        func shape(_ name: String) throws -> [Int] {
            guard let t = first[name] else { throw CheckpointFormatError.missingTensor(file: file, tensor: name) }
            return t.shape
        }
        func argument(_ field: String) -> PickleValue? { args?[field].flatMap { if case .none = $0 { return nil } else { return $0 } } }
        let word = try shape("embedding.word_embeddings.weight")
        guard word.count == 2 else {
            throw CheckpointFormatError.tensorContradictsConfig(file: file, tensor: "embedding.word_embeddings.weight", problem: "shape \(word) is not [rows, hidden]")
        }
        let hidden = word[1], paddedVocab = word[0] * ranks
        let family: TransformerDescription.Family = first.keys.contains { $0.hasPrefix("lm_head.") || $0.hasPrefix("binary_head.") }
            || first["embedding.tokentype_embeddings.weight"] != nil ? .bert : .gpt
        let layers = Set(first.keys.compactMap { name -> Int? in
            guard name.hasPrefix("layers.") else { return nil }
            return Int(name.dropFirst("layers.".count).prefix { $0 != "." })
        }).count
        let ffn = try shape("layers.0.mlp.dense_h_to_4h.weight")[0] * ranks
        let positions = try shape("embedding.position_embeddings.weight")[0]
        let tokenTypes = family == .bert ? try shape("embedding.tokentype_embeddings.weight")[0] : 0

        func agree(_ field: String, _ value: Int, tensor: String) throws {
            guard let stated = argument(field)?.int, stated != value else { return }
            throw CheckpointFormatError.tensorContradictsConfig(file: file, tensor: tensor,
                                                                problem: "implies \(field) = \(value), the checkpoint's args say \(stated)")
        }
        try agree("hidden_size", hidden, tensor: "embedding.word_embeddings.weight")
        try agree("num_layers", layers, tensor: "layers.\(max(layers - 1, 0))")
        try agree("max_position_embeddings", positions, tensor: "embedding.position_embeddings.weight")
        try agree("padded_vocab_size", paddedVocab, tensor: "embedding.word_embeddings.weight")
        try agree("ffn_hidden_size", ffn, tensor: "layers.0.mlp.dense_h_to_4h.weight")

        func chosen<V: Equatable>(_ field: String, fromArgs: V?, option: V?, flag: String) throws -> V? {
            if let fromArgs, let option, fromArgs != option {
                throw CheckpointFormatError.config(file: file, field: "args.\(field)",
                                                   problem: "\(fromArgs) contradicts \(flag) \(option); leave \(flag) out, the checkpoint says it")
            }
            return fromArgs ?? option
        }
        guard let heads = try chosen("num_attention_heads", fromArgs: argument("num_attention_heads")?.int, option: options.heads, flag: "--heads") else {
            throw CheckpointFormatError.config(file: file, field: "args.num_attention_heads",
                                               problem: "absent (the checkpoint has no args); pass --heads (16 for the 345M models)")
        }
        let tokenizerVocab = argument("tokenizer_type")?.string.flatMap { Self.tokenizerVocabularies[$0] }
        guard let vocab = try chosen("tokenizer_type", fromArgs: tokenizerVocab, option: options.vocabSize, flag: "--vocab-size") else {
            throw CheckpointFormatError.config(file: file, field: "args.tokenizer_type",
                                               problem: "absent or unknown, so the vocabulary before padding is unknown; pass --vocab-size (50257 for GPT-2's BPE, 30522 for BERT uncased)")
        }
        let argsGelu: GeLUForm? = args == nil ? nil : (argument("openai_gelu")?.bool == true ? .tanh : .erf)
        // 2019's code used the tanh form, as does transformers' converter for the released GPT-2 345M.
        let gelu = try chosen("openai_gelu", fromArgs: argsGelu, option: options.gelu, flag: "--gelu") ?? .tanh
        guard hidden % heads == 0, heads % ranks == 0 else {
            throw CheckpointFormatError.config(file: file, field: "args.num_attention_heads",
                                               problem: "\(heads) heads do not divide hidden \(hidden) or split over \(ranks) ranks")
        }
        guard vocab <= paddedVocab else {
            throw CheckpointFormatError.tensorContradictsConfig(file: file, tensor: "embedding.word_embeddings.weight",
                                                                problem: "\(paddedVocab) rows over \(ranks) ranks, fewer than the vocabulary's \(vocab)")
        }
        guard ffn == 4 * hidden else {
            throw CheckpointFormatError.config(file: file, field: "args.ffn_hidden_size",
                                               problem: "\(ffn) is not supported: our MLP is 4 × hidden = \(4 * hidden) wide")
        }
        let d = TransformerDescription(
            family: family, layers: layers, hidden: hidden, heads: heads, ffnHidden: ffn, maxPositions: positions,
            vocabSize: vocab, tokenTypes: tokenTypes, gelu: gelu,
            layerNormEpsilon: argument("layernorm_epsilon")?.double ?? 1e-5,
            postLayerNorm: argument("apply_residual_connection_post_layernorm")?.bool ?? false)
        return (d, paddedVocab)
    }

    /// Megatron-LM's tokenizers (`tokenizer/tokenizer.py`) and their vocabularies before padding.
    static let tokenizerVocabularies = ["GPT2BPETokenizer": 50257, "BertWordPieceLowerCase": 30522, "BertWordPieceCase": 28996]

    /// Every rank's tensors against the description: each shard's shape, no tensor missing or left over.
    func checkShapes() throws {
        var shapes = description.shapes
        shapes["embedding.word_embeddings.weight"]![0] = checkpointVocabSize
        if description.family == .bert { shapes["lm_head.bias"]![0] = checkpointVocabSize }
        let ranks = files.count
        for (rank, names) in tensors.enumerated() {
            let file = files[rank].path
            if let extra = names.keys.sorted().first(where: { shapes[$0] == nil }) {
                throw CheckpointFormatError.tensorContradictsConfig(file: file, tensor: extra,
                                                                    problem: "is not part of a Megatron-LM \(description.family == .gpt ? "GPT-2" : "BERT") as its other tensors describe it")
            }
            for (name, full) in shapes.sorted(by: { $0.key < $1.key }) {
                guard let t = names[name] else { throw CheckpointFormatError.missingTensor(file: file, tensor: name) }
                var expected = full
                switch MegatronNames.partition(name) {
                case .replicated: break
                case .rows, .queryKeyValue: expected[0] = full[0] / ranks
                case .columns: expected[1] = full[1] / ranks
                }
                guard t.shape == expected else {
                    throw CheckpointFormatError.tensorContradictsConfig(
                        file: file, tensor: name, problem: "shape \(t.shape) on rank \(rank) of \(ranks); the model the checkpoint describes implies \(expected)")
                }
            }
        }
    }

    public var hasDoubleWeights: Bool {
        tensors[0].values.contains { $0.storage.type == .Double }
    }

    /// Our tensor `name` in full, its vocabulary rows cut to the vocabulary and padded with zeros
    /// to `paddedVocabSize`.
    public func tensor<T: TensorScalar>(_ name: String, paddedVocabSize: Int, as _: T.Type = T.self) throws -> Tensor<T> {
        let shards: [Tensor<T>] = try tensors.enumerated().map { rank, names in
            guard let t = names[name] else { throw CheckpointFormatError.missingTensor(file: files[rank].path, tensor: name) }
            return try files[rank].tensor(t, name: name, as: T.self)
        }
        var full: Tensor<T>
        switch MegatronNames.partition(name) {
        case .replicated:
            for (rank, shard) in shards.enumerated().dropFirst() where shard.array != shards[0].array {
                throw CheckpointFormatError.layout(directory: directory, problem: "\(name) differs between mp_rank_00 and "
                    + "\(MegatronLayout.rankFolder(rank)), though every rank holds the same copy; the shards come from different runs")
            }
            full = shards[0]
        case .rows, .columns:
            let dimension = MegatronNames.partition(name) == .rows ? 0 : 1
            var shape = shards[0].shape
            shape[dimension] *= shards.count
            full = Tensor<T>(zeros: shape)
            for (rank, shard) in shards.enumerated() { full.place(shard, dimension: dimension, start: rank * shard.shape[dimension]) }
        case .queryKeyValue:
            var shape = shards[0].shape
            shape[0] *= shards.count
            full = order.merge(shards, heads: description.heads, shape: shape)
        }
        guard TransformerDescription.vocabularyRows.contains(name) else { return full }
        let rows = description.vocabSize
        let out = Tensor<T>(zeros: [paddedVocabSize] + full.shape.dropFirst())
        out.place(full.narrowed(dimension: 0, start: 0, length: rows), dimension: 0, start: 0)
        return out
    }
}
