import Foundation

/// Where Megatron-LM keeps a checkpoint's shards (`megatron/checkpointing.py`):
/// `latest_checkpointed_iteration.txt` names an iteration or `release`; the shards are
/// `iter_%07d/mp_rank_%02d/model_optim_rng.pt` or `release/mp_rank_%02d/…`, one per
/// tensor-parallel rank. A directory that holds the `mp_rank_*` folders itself is taken as is.
public struct MegatronLayout: Sendable, Equatable {
    /// The iteration folder (`release` or `iter_N`).
    public let folder: String
    /// Each tensor-parallel rank's `model_optim_rng.pt`, in rank order.
    public let shards: [String]

    public static let tracker = "latest_checkpointed_iteration.txt"

    public static func rankFolder(_ rank: Int) -> String {
        "mp_rank_" + (rank < 10 ? "0\(rank)" : "\(rank)")
    }

    public init(directory: String) throws {
        let fm = FileManager.default
        let root = URL(fileURLWithPath: directory)
        func fail(_ problem: String) -> CheckpointFormatError { .layout(directory: directory, problem: problem) }
        let trackerPath = root.appendingPathComponent(Self.tracker).path
        var folder = directory
        if let text = fm.contents(atPath: trackerPath).map({ String(decoding: $0, as: UTF8.self) }) {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if value == "release" {
                folder = root.appendingPathComponent("release").path
            } else if let iteration = Int(value), iteration >= 0 {
                folder = root.appendingPathComponent(String(format: "iter_%07d", iteration)).path
            } else {
                throw fail("\(Self.tracker) holds \"\(value.prefix(40))\", neither an iteration nor \"release\"")
            }
        } else if fm.fileExists(atPath: root.appendingPathComponent("release").path) {
            folder = root.appendingPathComponent("release").path
        } else {
            let iterations = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("iter_") }.sorted()
            if let last = iterations.last { folder = root.appendingPathComponent(last).path }
        }
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else {
            throw fail("no folder \(folder); a Megatron-LM checkpoint holds release/ or iter_N/ (named by \(Self.tracker))")
        }
        var ranks: [Int: String] = [:]
        for name in names where name.hasPrefix("mp_rank_") {
            let suffix = name.dropFirst("mp_rank_".count)
            guard suffix.count == 2, let rank = Int(suffix) else {
                throw fail("\(name) is a pipeline-parallel shard (mp_rank_TT_PPP); only tensor-parallel checkpoints (pipeline size 1) are read")
            }
            ranks[rank] = URL(fileURLWithPath: folder).appendingPathComponent(name).appendingPathComponent("model_optim_rng.pt").path
        }
        guard !ranks.isEmpty else { throw fail("\(folder) holds no mp_rank_NN folders") }
        let size = ranks.keys.max()! + 1
        if let missing = (0..<size).first(where: { ranks[$0] == nil }) {
            throw fail("\(Self.rankFolder(missing)) is missing among \(size) tensor-parallel shards; copy the whole checkpoint")
        }
        for (rank, path) in ranks.sorted(by: { $0.key < $1.key }) where !fm.fileExists(atPath: path) {
            throw fail("\(Self.rankFolder(rank)) has no model_optim_rng.pt")
        }
        self.folder = folder
        shards = ranks.sorted { $0.key < $1.key }.map(\.value)
    }
}
