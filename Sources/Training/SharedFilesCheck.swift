import Collectives
import Datasets
import Foundation

/// What a job spread over several hosts confirms before its first step: that every rank reads
/// the same files rank 0 reads (same size and SHA-256) and sees the checkpoint directory rank 0
/// writes. Otherwise a rank whose host lacks a file fails alone, or trains on another file, while
/// its peers wait for it in the first collective. On one host every rank sees the same files, so
/// the check is skipped there.
public enum SharedFilesCheck {
    /// Checks `files` and `checkpointDirectory` across the ranks of `world` when they span more
    /// than one host, and returns each rank's host. A collective: every rank calls it, and every
    /// rank throws the same `SharedFilesError`. (`host` is this rank's; tests name others.)
    @discardableResult
    public static func confirm(world: any Communicator, files: [String], checkpointDirectory: String? = nil,
                               host: String = HostPlacement.localHostName()) throws -> [String] {
        let hosts = try world.allGather(text: host)
        guard Set(hosts).count > 1 else { return hosts }

        var probe: (path: String, token: String)?
        var seen = files.map(observe)
        if world.rank == 0, let directory = checkpointDirectory {
            do {
                probe = try writeProbe(into: directory)
                seen.append("\(probe!.path)\n\(probe!.token)")
            } catch {
                seen.append("!\(error)")
            }
        }
        let reports = try world.allGather(text: seen.joined(separator: "\u{1}"), maxBytes: 16_384)
            .map { $0.components(separatedBy: "\u{1}") }
        for (index, path) in files.enumerated() {
            for rank in 0..<world.size where reports[rank][index] != reports[0][index] || reports[rank][index].hasPrefix("!") {
                let observation = reports[rank][index]
                if observation.hasPrefix("!") {
                    throw SharedFilesError.unreadable(path: path, host: hosts[rank], rank: rank,
                                                      reason: String(observation.dropFirst()))
                }
                throw SharedFilesError.differs(path: path, host: hosts[rank], rank: rank, seen: observation,
                                               rankZeroHost: hosts[0], rankZeroSees: reports[0][index])
            }
        }
        guard let directory = checkpointDirectory else { return hosts }
        defer { if let probe { try? FileManager.default.removeItem(atPath: probe.path) } }
        let written = reports[0][files.count]
        if written.hasPrefix("!") {
            throw SharedFilesError.checkpointDirectoryNotWritable(path: directory, host: hosts[0],
                                                                  reason: String(written.dropFirst()))
        }
        let lines = written.components(separatedBy: "\n")
        let read = (try? String(contentsOfFile: lines[0], encoding: .utf8)) == lines[1]
            ? "" : "no file \(URL(fileURLWithPath: lines[0]).lastPathComponent) with rank 0's contents"
        let readReports = try world.allGather(text: read)
        if let rank = readReports.firstIndex(where: { !$0.isEmpty }) {
            throw SharedFilesError.checkpointDirectoryNotShared(path: directory, host: hosts[rank], rank: rank,
                                                                reason: readReports[rank])
        }
        return hosts
    }

    /// A file's size and SHA-256; a directory is its newest checkpoint.
    /// "!reason" when the file cannot be read.
    static func observe(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return "!no such file or directory"
        }
        var file = path
        if isDirectory.boolValue {
            guard let newest = try? CheckpointDirectory(path: path).checkpoints().last else {
                return "!the directory holds no checkpoint"
            }
            file = newest.path
        }
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            let name = file == path ? "" : "\(URL(fileURLWithPath: file).lastPathComponent), "
            return "\(name)\(size) bytes, sha256 \(try SHA256.hex(ofFile: file))"
        } catch {
            return "!cannot read \(file): \(error.localizedDescription)"
        }
    }

    /// Rank 0's probe: a new file under `directory` holding a random token.
    static func writeProbe(into directory: String) throws -> (path: String, token: String) {
        let token = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
        let path = URL(fileURLWithPath: directory).appendingPathComponent(".shared-check-\(token.prefix(12))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try token.write(toFile: path, atomically: false, encoding: .utf8)
        return (path, token)
    }
}
