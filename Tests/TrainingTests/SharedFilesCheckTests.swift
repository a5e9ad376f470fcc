import Collectives
import Foundation
import Testing
@testable import Training

/// The start-up check of a job over several hosts, with ranks as threads that name their hosts:
/// ranks 0, 1 on host "a", ranks 2, 3 on host "b". A rank "on b" that is given another path
/// stands for a host whose copy under the same path differs.
@Suite struct SharedFilesCheckTests {
    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shared-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func check(files: @escaping @Sendable (Int) -> [String], checkpointDirectory: String? = nil) throws -> [Result<[String], SharedFilesError>] {
        try InProcessWorld.run(worldSize: 4, timeout: 30) { world in
            do {
                return .success(try SharedFilesCheck.confirm(world: world, files: files(world.rank),
                                                             checkpointDirectory: checkpointDirectory,
                                                             host: world.rank < 2 ? "a" : "b"))
            } catch let error as SharedFilesError {
                return .failure(error)
            }
        }
    }

    @Test func identicalFilesPassAndTheProbeIsRemoved() throws {
        let dir = try Self.scratch()
        let data = dir + "/train.h5"
        try Data(repeating: 7, count: 3_000_000).write(to: URL(fileURLWithPath: data))
        let results = try Self.check(files: { _ in [data] }, checkpointDirectory: dir + "/ckpt")
        for result in results { #expect(try result.get() == ["a", "a", "b", "b"]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/ckpt").isEmpty)
    }

    /// Same size, one byte changed in the middle: every rank throws the same error naming rank 2's
    /// host.
    @Test func anotherFileOfTheSameSizeIsFound() throws {
        let dir = try Self.scratch()
        var bytes = [UInt8](repeating: 1, count: 4_000_000)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/train.h5"))
        bytes[2_000_000] = 2
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/other.h5"))
        let results = try Self.check(files: { [dir + ($0 < 2 ? "/train.h5" : "/other.h5")] })
        for (worldRank, result) in results.enumerated() {
            guard case let .failure(.differs(path, host, rank, _, rankZeroHost, _)) = result else {
                Issue.record("expected .differs, got \(result)"); continue
            }
            #expect(host == "b" && rank == 2 && rankZeroHost == "a")
            #expect(path == dir + (worldRank < 2 ? "/train.h5" : "/other.h5"), "each rank names the path it was given")
        }
        #expect(SharedFilesCheck.observe(dir + "/train.h5") != SharedFilesCheck.observe(dir + "/other.h5"))
    }

    @Test func aMissingFileIsNamedWithItsHost() throws {
        let dir = try Self.scratch()
        try Data(repeating: 0, count: 10).write(to: URL(fileURLWithPath: dir + "/train.h5"))
        let results = try Self.check(files: { [dir + ($0 == 3 ? "/absent.h5" : "/train.h5")] })
        for result in results {
            guard case let .failure(error) = result, case let .unreadable(_, host, rank, reason) = error else {
                Issue.record("expected .unreadable, got \(result)"); continue
            }
            #expect(host == "b" && rank == 3 && reason == "no such file or directory")
            #expect(error.description.contains("rank 3 on host b cannot read it"))
        }
    }

    @Test func aCheckpointDirectoryRankZeroCannotWriteIsNamed() throws {
        let dir = try Self.scratch()
        try Data().write(to: URL(fileURLWithPath: dir + "/a-file"))
        let results = try Self.check(files: { _ in [] }, checkpointDirectory: dir + "/a-file/ckpt")
        for result in results {
            guard case let .failure(.checkpointDirectoryNotWritable(path, host, _)) = result else {
                Issue.record("expected .checkpointDirectoryNotWritable, got \(result)"); continue
            }
            #expect(path == dir + "/a-file/ckpt" && host == "a")
        }
    }

    /// On one host there is nothing to compare: no file is read, no probe written.
    @Test func oneHostSkipsTheCheck() throws {
        let hosts = try InProcessWorld.run(worldSize: 2) { world in
            try SharedFilesCheck.confirm(world: world, files: ["/nonexistent"], checkpointDirectory: "/nonexistent/ckpt")
        }
        #expect(hosts[0] == [HostPlacement.localHostName(), HostPlacement.localHostName()])
    }
}
