import Foundation
import TensorCore

/// Writes tensors as one safetensors file: F32 for Float, F64 for Double, in the order given,
/// the header padded with spaces to a multiple of 8 bytes and `{"format": "pt"}` in its
/// metadata (transformers refuses a file without it). Written under a temporary name and
/// renamed when complete.
public enum SafetensorsWriter {
    public static func write<T: TensorScalar>(_ tensors: [(name: String, tensor: Tensor<T>)], to path: String,
                                              metadata: [String: String] = ["format": "pt"]) throws {
        let dtype: SafetensorsDType = T.self == Double.self ? .F64 : .F32
        precondition(T.self == Double.self || T.self == Float.self, "SafetensorsWriter: Float or Double tensors")
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * dtype.itemSize
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors {
            for i in 0..<t.count {
                if dtype == .F64 {
                    withUnsafeBytes(of: Double(t.pointer[i]).bitPattern.littleEndian) { out.append(contentsOf: $0) }
                } else {
                    withUnsafeBytes(of: Float(t.pointer[i]).bitPattern.littleEndian) { out.append(contentsOf: $0) }
                }
            }
        }
        let temporary = path + ".partial"
        do {
            try out.write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw CheckpointFormatError.io(file: path, problem: "cannot write (\(error.localizedDescription))")
        }
    }
}
