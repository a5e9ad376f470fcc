import Foundation

/// A run's checkpoint folder: `checkpoint-00000100.h5` per saved step, the newest `keep` kept.
/// Files still being written carry a hidden temporary name, so they are never listed here.
public struct CheckpointDirectory: Sendable, Equatable {
    public let path: String
    public let keep: Int

    public init(path: String, keep: Int = 2) {
        precondition(keep > 0, "CheckpointDirectory: keep \(keep) validated by the caller")
        self.path = path
        self.keep = keep
    }

    public func file(forStep step: Int) -> String {
        URL(fileURLWithPath: path).appendingPathComponent(String(format: "checkpoint-%08d.h5", step)).path
    }

    /// The checkpoints present, oldest first.
    public func checkpoints() throws -> [(step: Int, path: String)] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: path).compactMap { name -> (Int, String)? in
            guard name.hasPrefix("checkpoint-"), name.hasSuffix(".h5"),
                  let step = Int(name.dropFirst("checkpoint-".count).dropLast(".h5".count)) else { return nil }
            return (step, file(forStep: step))
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest checkpoint; throws `CheckpointError.noCheckpoint` when there is none.
    public func latest() throws -> String {
        guard let newest = try checkpoints().last else { throw CheckpointError.noCheckpoint(directory: path) }
        return newest.path
    }

    public func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Deletes all but the newest `keep` checkpoints.
    public func prune() throws {
        for old in try checkpoints().dropLast(keep) {
            try FileManager.default.removeItem(atPath: old.path)
        }
    }
}
