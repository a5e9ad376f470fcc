import CheckpointFormats
import Foundation
import Testing

/// `megatron_fixtures.py`'s torch.save files in both formats, and damaged or hostile ones.
@Suite("torch.save files read without running them")
struct TorchSaveFileTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/megatron").standardized.path

    static func tensor(_ file: TorchSaveFile, _ name: String) throws -> [Double] {
        guard case let .tensor(t)? = file.root[name] else { throw CheckpointFormatError.missingTensor(file: file.path, tensor: name) }
        return try file.tensor(t, name: name, as: Double.self).array
    }

    @Test(arguments: ["dtypes.pt", "dtypes-legacy.pt"])
    func everyFloatTypeAndAStridedViewAsTorchConvertsThem(file: String) throws {
        let f = try TorchSaveFile(path: "\(Self.directory)/\(file)")
        for dtype in ["F64", "F32", "F16", "BF16", "transposed"] {
            let ours = try Self.tensor(f, dtype), expected = try Self.tensor(f, "expected_" + dtype)
            #expect(ours.map(\.bitPattern) == expected.map(\.bitPattern), "\(file) \(dtype)")
        }
        guard case let .tensor(t)? = f.root["transposed"] else { Issue.record("no transposed tensor"); return }
        #expect(t.shape == [4, 3] && t.strides == [1, 4])
    }

    @Test func aGlobalOutsideTheAllowListIsRefusedByName() {
        #expect(throws: CheckpointFormatError.forbiddenGlobal(file: "\(Self.directory)/bad/forbidden-global.pt (forbidden-global/data.pkl)",
                                                              global: "collections.Counter")) {
            try TorchSaveFile(path: "\(Self.directory)/bad/forbidden-global.pt")
        }
    }

    @Test func aMissingZipEntryIsNamed() {
        #expect(throws: CheckpointFormatError.archive(file: "\(Self.directory)/bad/missing-entry.pt",
                                                      problem: "no entry whole/data/0; the archive is incomplete")) {
            try TorchSaveFile(path: "\(Self.directory)/bad/missing-entry.pt")
        }
    }

    /// Every prefix of a file fails with a named error: no crash, no hang, no huge allocation.
    @Test(arguments: ["gpt2-tiny-v0/release/mp_rank_00/model_optim_rng.pt", "gpt2-tiny-v3/iter_0000020/mp_rank_01/model_optim_rng.pt"])
    func truncatedFilesFailByName(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.directory)/\(file)"))
        let path = NSTemporaryDirectory() + "truncated-\(UUID().uuidString).pt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for length in Swift.stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
            try data.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                _ = try TorchSaveFile(path: path)
                Issue.record("\(file) cut to \(length) bytes was read")
            } catch let error as CheckpointFormatError {
                #expect(error.description.hasPrefix(path), "\(error)")
            }
        }
    }

    /// A legacy stream whose storage count is corrupted to a huge value fails before allocating.
    @Test func aStorageLongerThanTheFileIsRefused() throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.directory)/dtypes-legacy.pt"))
        let path = NSTemporaryDirectory() + "huge-\(UUID().uuidString).pt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The first storage's int64 element count follows the sorted keys' pickle, which ends in STOP.
        let file = try TorchSaveFile(path: "\(Self.directory)/dtypes-legacy.pt")
        let first = try #require(file.storageRanges.min { $0.lowerBound < $1.lowerBound })
        data.replaceSubrange((first.lowerBound - 8)..<first.lowerBound, with: withUnsafeBytes(of: Int64(1 << 60).littleEndian, Array.init))
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointFormatError.self) { try TorchSaveFile(path: path) }
    }
}
