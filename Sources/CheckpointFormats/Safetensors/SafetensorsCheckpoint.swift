import Foundation
import TensorCore

/// The weights of a Hugging Face model directory: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` maps each tensor to (`{"weight_map": {tensor: file}}`). Every
/// shard is opened and checked up front; a tensor the index names must be in its shard.
public struct SafetensorsCheckpoint: Sendable {
    public let directory: String
    let files: [String: SafetensorsFile]
    /// Tensor name → the shard holding it.
    let location: [String: String]

    public static let single = "model.safetensors"
    public static let index = "model.safetensors.index.json"

    public init(directory: String) throws {
        self.directory = directory
        let root = URL(fileURLWithPath: directory)
        let singlePath = root.appendingPathComponent(Self.single).path
        let indexPath = root.appendingPathComponent(Self.index).path
        if FileManager.default.fileExists(atPath: singlePath) {
            let file = try SafetensorsFile(path: singlePath)
            files = [Self.single: file]
            location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, Self.single) })
            return
        }
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw CheckpointFormatError.io(file: directory, problem: "neither \(Self.single) nor \(Self.index) is here; "
                                            + "save the model with save_pretrained(..., safe_serialization=True)")
        }
        guard let data = FileManager.default.contents(atPath: indexPath),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let map = object["weight_map"] as? [String: String] else {
            throw CheckpointFormatError.config(file: indexPath, field: "weight_map", problem: "missing, or not an object of tensor → file names")
        }
        var files: [String: SafetensorsFile] = [:]
        for shard in Set(map.values).sorted() {
            guard !shard.contains("/"), !shard.hasPrefix(".") else {
                throw CheckpointFormatError.config(file: indexPath, field: "weight_map", problem: "shard name \"\(shard)\" leaves the directory")
            }
            files[shard] = try SafetensorsFile(path: root.appendingPathComponent(shard).path)
        }
        for (tensor, shard) in map where files[shard]?.entries[tensor] == nil {
            throw CheckpointFormatError.missingTensor(file: files[shard]?.path ?? shard, tensor: tensor)
        }
        self.files = files
        location = map
    }

    public var names: [String] { location.keys.sorted() }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    public func entry(_ name: String) throws -> SafetensorsFile.Entry {
        guard let shard = location[name], let file = files[shard] else {
            throw CheckpointFormatError.missingTensor(file: directory, tensor: name)
        }
        return try file.entry(name)
    }

    /// The file (shard) holding `name`, for error messages.
    public func path(of name: String) -> String {
        location[name].flatMap { files[$0]?.path } ?? directory
    }

    public func tensor<T: TensorScalar>(_ name: String, as _: T.Type = T.self) throws -> Tensor<T> {
        guard let shard = location[name], let file = files[shard] else {
            throw CheckpointFormatError.missingTensor(file: directory, tensor: name)
        }
        return try file.tensor(name, as: T.self)
    }
}
