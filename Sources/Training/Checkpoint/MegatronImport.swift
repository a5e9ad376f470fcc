import CheckpointFormats

/// `megatron import megatron`: a Megatron-LM checkpoint directory (`release/` or `iter_N/`,
/// one `mp_rank_NN/model_optim_rng.pt` per tensor-parallel rank) becomes a regular checkpoint
/// of ours (`ForeignImport`), its shards merged and its query/key/value order converted.
public enum MegatronImport {
    public struct Summary: Sendable {
        public var checkpointVersion: Double
        public var tensorParallel: Int
        public var checkpointVocabSize: Int
        public var hasArgs: Bool
        public var imported: ForeignImport.Summary
    }

    public static func run(from directory: String, to path: String, options: MegatronCheckpoint.Options = .init(),
                           seed: UInt64 = 1234, vocabularyDirectory: String? = nil) throws -> Summary {
        let source = try MegatronCheckpoint(directory: directory, options: options)
        let imported = try ForeignImport.run(source, to: path, seed: seed, vocabularyDirectory: vocabularyDirectory)
        return Summary(checkpointVersion: source.checkpointVersion, tensorParallel: source.layout.shards.count,
                       checkpointVocabSize: source.checkpointVocabSize, hasArgs: source.hasArgs, imported: imported)
    }
}
