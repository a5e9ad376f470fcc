import CheckpointFormats
import Foundation
import TensorCore
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// A safetensors file from a header object and a data buffer, as bytes.
func safetensorsBytes(_ header: [String: Any], data: [UInt8], headerLength: UInt64? = nil) throws -> Data {
    let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    var out = Data()
    withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    out.append(contentsOf: data)
    return out
}

func entry(_ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> [String: Any] {
    ["dtype": dtype, "shape": shape, "data_offsets": [begin, end]]
}

/// The problem text of the error `body` throws, or nil if it throws none.
func formatError(_ body: () throws -> Void) -> CheckpointFormatError? {
    do {
        try body()
        return nil
    } catch let error as CheckpointFormatError {
        return error
    } catch {
        return nil
    }
}

@Suite struct SafetensorsFileTests {
    @Test func readsEveryDTypeAsTorchConvertsIt() throws {
        let file = try SafetensorsFile(path: fixtures + "/dtypes.safetensors")
        for dtype in ["F64", "F32", "F16", "BF16"] {
            let ours: Tensor<Double> = try file.tensor(dtype)
            let torch: Tensor<Double> = try file.tensor("expected_" + dtype)
            #expect(try file.entry(dtype).dtype.rawValue == dtype)
            #expect(ours.array.map(\.bitPattern) == torch.array.map(\.bitPattern), "\(dtype)")
        }
        #expect(try file.tensor("I64", as: Double.self).array == [-3, 0, 7, 1_099_511_627_776])
        #expect(try file.tensor("I32", as: Double.self).array == [-3, 0, 7, 1_073_741_824])
        let matrix: Tensor<Float> = try file.tensor("matrix")
        #expect(matrix.shape == [2, 3] && matrix.array == [0, 1, 2, 3, 4, 5])
        let scalar: Tensor<Float> = try file.tensor("scalar")
        #expect(scalar.count == 1 && scalar.array == [4.5])
        #expect(file.metadata["format"] == "pt")
    }

    @Test func writerRoundTripsAndPadsTheHeader() throws {
        let path = NSTemporaryDirectory() + "roundtrip-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = Tensor<Double>(shape: [2, 2], values: [1, -2, 3.25, 1e-300])
        let b = Tensor<Double>(shape: [3], values: [0.1, 0.2, 0.3])
        try SafetensorsWriter.write([("a", a), ("b", b)], to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        #expect(length % 8 == 0)
        let file = try SafetensorsFile(path: path)
        #expect(try file.tensor("a", as: Double.self).array == a.array)
        #expect(try file.tensor("b", as: Double.self).array == b.array)
        #expect(try file.entry("b").dtype == .F64 && file.metadata == ["format": "pt"])
    }

    @Test func damagedFilesGetNamedErrors() throws {
        let good = try safetensorsBytes(["w": entry("F32", [2], 0, 8)], data: [UInt8](repeating: 0, count: 8))
        #expect(try SafetensorsFile(data: good, path: "good").names == ["w"])
        var cases: [(String, Data, (CheckpointFormatError) -> Bool)] = []
        cases.append(("truncated length", Data([1, 2, 3]), { if case .truncated = $0 { true } else { false } }))
        cases.append(("truncated data", good.prefix(good.count - 3), { if case .offsets = $0 { true } else { false } }))
        cases.append(("huge header length", try safetensorsBytes([:], data: [], headerLength: 1 << 62),
                      { if case .headerLength = $0 { true } else { false } }))
        cases.append(("header past end", try safetensorsBytes(["w": entry("F32", [2], 0, 8)], data: [], headerLength: 4096),
                      { if case .headerLength = $0 { true } else { false } }))
        cases.append(("not JSON", Data([2, 0, 0, 0, 0, 0, 0, 0, UInt8(ascii: "{"), UInt8(ascii: "x")]),
                      { if case .header = $0 { true } else { false } }))
        cases.append(("offsets past end", try safetensorsBytes(["w": entry("F32", [4], 0, 16)], data: [UInt8](repeating: 0, count: 8)),
                      { if case .offsets(_, "w", _) = $0 { true } else { false } }))
        cases.append(("overlap", try safetensorsBytes(["a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)],
                                                      data: [UInt8](repeating: 0, count: 12)),
                      { if case .offsets(_, "b", let p) = $0 { p.contains("overlap") } else { false } }))
        cases.append(("hole", try safetensorsBytes(["a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 6, 10)],
                                                   data: [UInt8](repeating: 0, count: 10)),
                      { if case .offsets(_, "b", let p) = $0 { p.contains("hole") } else { false } }))
        cases.append(("tail", try safetensorsBytes(["a": entry("F32", [1], 0, 4)], data: [UInt8](repeating: 0, count: 6)),
                      { if case .offsets(_, "a", let p) = $0 { p.contains("after the last") } else { false } }))
        cases.append(("size against shape", try safetensorsBytes(["a": entry("F32", [3], 0, 8)], data: [UInt8](repeating: 0, count: 8)),
                      { if case .offsets(_, "a", _) = $0 { true } else { false } }))
        cases.append(("shape overflow", try safetensorsBytes(["a": entry("F64", [1 << 40, 1 << 40], 0, 8)],
                                                             data: [UInt8](repeating: 0, count: 8)),
                      { if case .offsets(_, "a", _) = $0 { true } else { false } }))
        cases.append(("dtype", try safetensorsBytes(["a": entry("F8_E4M3", [8], 0, 8)], data: [UInt8](repeating: 0, count: 8)),
                      { if case .unsupportedDType(_, "a", "F8_E4M3") = $0 { true } else { false } }))
        cases.append(("negative offset", try safetensorsBytes(["a": entry("F32", [1], -4, 0)], data: []),
                      { if case .header = $0 { true } else { false } }))
        for (name, bytes, expected) in cases {
            let error = formatError { _ = try SafetensorsFile(data: bytes, path: "case.safetensors") }
            #expect(error.map(expected) == true, "\(name): \(String(describing: error))")
            #expect(error?.description.contains("case.safetensors") == true, "\(name)")
        }
    }

    @Test func shardsFollowTheIndex() throws {
        let directory = NSTemporaryDirectory() + "shards-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SafetensorsWriter.write([("a", Tensor<Float>(shape: [2], values: [1, 2]))], to: directory + "/model-00001-of-00002.safetensors")
        try SafetensorsWriter.write([("b", Tensor<Float>(shape: [1], values: [3]))], to: directory + "/model-00002-of-00002.safetensors")
        let index = ["metadata": ["total_size": 12],
                     "weight_map": ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: directory + "/" + SafetensorsCheckpoint.index))
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        #expect(checkpoint.names == ["a", "b"])
        #expect(try checkpoint.tensor("b", as: Float.self).array == [3])

        let wrong = ["weight_map": ["a": "model-00002-of-00002.safetensors"]]
        try JSONSerialization.data(withJSONObject: wrong).write(to: URL(fileURLWithPath: directory + "/" + SafetensorsCheckpoint.index))
        let error = formatError { _ = try SafetensorsCheckpoint(directory: directory) }
        #expect(error == .missingTensor(file: directory + "/model-00002-of-00002.safetensors", tensor: "a"))
    }
}
