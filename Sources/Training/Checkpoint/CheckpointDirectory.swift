import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's checkpoint folder: `checkpoint-00000100.h5` per saved step, the newest `keep` kept.
/// Files still being written carry a hidden temporary name, `.checkpoint-00000100.h5.partial-PID`
/// (PID: the writing process), so they are never listed here; a write killed mid-way leaves one,
/// which pruning and the start of the next run remove once that process is gone.
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

    /// Deletes all but the newest `keep` checkpoints, and the temporary files of writes killed mid-way.
    public func prune() throws {
        for old in try checkpoints().dropLast(keep) {
            try FileManager.default.removeItem(atPath: old.path)
        }
        try removeStalePartials()
    }

    /// The temporary files of checkpoint writes whose process is no longer alive. A write still
    /// going on in another live process (a second run pointed at this folder) is not stale; the
    /// PIDs are this machine's, and a folder is written from one machine at a time.
    public func stalePartials() throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: path).sorted().compactMap { name in
            guard name.hasPrefix(".checkpoint-"), let marker = name.range(of: ".h5.partial-"),
                  let pid = Int32(name[marker.upperBound...]), !Self.isAlive(pid) else { return nil }
            return URL(fileURLWithPath: path).appendingPathComponent(name).path
        }
    }

    /// Deletes `stalePartials()`; returns what it deleted.
    @discardableResult
    public func removeStalePartials() throws -> [String] {
        let stale = try stalePartials()
        for file in stale { try FileManager.default.removeItem(atPath: file) }
        return stale
    }

    /// Whether process `pid` exists on this machine (EPERM: it exists but is another user's).
    static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
