import Foundation
import TensorCore

/// One safetensors file: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`), then the
/// data buffer the offsets index. The file is memory-mapped and every header promise is checked
/// before a byte of data is read: the header length against the file and the 100 MB limit, each
/// tensor's byte count against its dtype and shape, and the offsets tiling the data exactly
/// (no overlap, no hole, no tail), as safetensors' own reader demands. So a damaged file fails
/// with a named error, never a crash or an allocation the file's size does not back.
public struct SafetensorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var dtype: SafetensorsDType
        public var shape: [Int]
        /// Byte range within the data buffer.
        public var offsets: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    let bytes: Data
    let dataStart: Int

    static let headerLimit: UInt64 = 100_000_000

    public init(path: String) throws {
        try self.init(data: try mappedFile(path), path: path)
    }

    public init(data: Data, path: String) throws {
        self.path = path
        bytes = data
        guard data.count >= 8 else {
            throw CheckpointFormatError.truncated(file: path, part: "header length", needed: 8, size: data.count)
        }
        let length = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= Self.headerLimit, length <= UInt64(data.count - 8) else {
            throw CheckpointFormatError.headerLength(file: path, length: length, fileSize: data.count)
        }
        dataStart = 8 + Int(length)
        let json = data.subdata(in: 8..<dataStart)
        guard json.first == UInt8(ascii: "{"),
              let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw CheckpointFormatError.header(file: path, problem: "the \(length) header bytes are not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else {
                    throw CheckpointFormatError.header(file: path, problem: "__metadata__ must map strings to strings")
                }
                metadata = strings
                continue
            }
            entries[name] = try Self.entry(name, value, path: path)
        }
        self.entries = entries
        self.metadata = metadata
        try Self.checkTiling(entries, dataLength: data.count - dataStart, path: path)
    }

    /// Parses one tensor's header entry and checks its byte count.
    static func entry(_ name: String, _ value: Any, path: String) throws -> Entry {
        guard let fields = value as? [String: Any] else {
            throw CheckpointFormatError.header(file: path, problem: "tensor \(name) is not an object")
        }
        guard let dtypeName = fields["dtype"] as? String else {
            throw CheckpointFormatError.header(file: path, problem: "tensor \(name) has no dtype string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw CheckpointFormatError.unsupportedDType(file: path, tensor: name, dtype: dtypeName)
        }
        guard let shape = naturals(fields["shape"]) else {
            throw CheckpointFormatError.header(file: path, problem: "tensor \(name): shape is not a list of non-negative integers")
        }
        guard let offsets = naturals(fields["data_offsets"]), offsets.count == 2, offsets[0] <= offsets[1] else {
            throw CheckpointFormatError.header(file: path, problem: "tensor \(name): data_offsets is not [begin, end] with begin ≤ end")
        }
        var bytes = dtype.itemSize, overflow = false
        for d in shape where !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: d) }
        guard !overflow, bytes == offsets[1] - offsets[0] else {
            throw CheckpointFormatError.offsets(file: path, tensor: name,
                                                problem: "\(offsets[1] - offsets[0]) bytes for a \(dtype.rawValue) tensor of shape \(shape)")
        }
        return Entry(dtype: dtype, shape: shape, offsets: offsets[0]..<offsets[1])
    }

    /// JSON integers ≥ 0 (no fractions, no strings); nil otherwise.
    static func naturals(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var out: [Int] = []
        for item in list {
            guard let number = item as? NSNumber, let integer = Int(exactly: number.doubleValue),
                  integer >= 0, number.int64Value == Int64(integer) else { return nil }
            out.append(integer)
        }
        return out
    }

    /// Sorted by offset, the tensors must cover the data buffer exactly.
    static func checkTiling(_ entries: [String: Entry], dataLength: Int, path: String) throws {
        var end = 0, previous = "the start of the data"
        for (name, e) in entries.sorted(by: { ($0.value.offsets.lowerBound, $0.value.offsets.upperBound, $0.key)
                                               < ($1.value.offsets.lowerBound, $1.value.offsets.upperBound, $1.key) }) {
            guard e.offsets.upperBound <= dataLength else {
                throw CheckpointFormatError.offsets(file: path, tensor: name,
                                                    problem: "data_offsets end at \(e.offsets.upperBound), past the \(dataLength) data bytes")
            }
            if e.offsets.lowerBound < end {
                throw CheckpointFormatError.offsets(file: path, tensor: name,
                                                    problem: "bytes \(e.offsets) overlap \(previous), which ends at \(end)")
            }
            if e.offsets.lowerBound > end {
                throw CheckpointFormatError.offsets(file: path, tensor: name,
                                                    problem: "bytes \(e.offsets) leave a hole of \(e.offsets.lowerBound - end) bytes after \(previous)")
            }
            end = e.offsets.upperBound
            previous = name
        }
        guard end == dataLength else {
            throw CheckpointFormatError.offsets(file: path, tensor: previous,
                                                problem: "\(dataLength - end) data bytes after the last tensor belong to none")
        }
    }

    public var names: [String] { entries.keys.sorted() }

    public func entry(_ name: String) throws -> Entry {
        guard let e = entries[name] else { throw CheckpointFormatError.missingTensor(file: path, tensor: name) }
        return e
    }

    /// The tensor `name`, converted element by element (exactly, F64 → Float aside).
    public func tensor<T: TensorScalar>(_ name: String, as _: T.Type = T.self) throws -> Tensor<T> {
        let e = try entry(name)
        let out = Tensor<T>(zeros: e.shape)
        let p = out.pointer
        bytes.withUnsafeBytes { raw in
            let slice = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.offsets.lowerBound)..<(dataStart + e.offsets.upperBound)])
            for i in 0..<e.count { p[i] = T(e.dtype.value(slice, i)) }
        }
        return out
    }
}

/// The file at `path`, memory-mapped: a checkpoint's bytes are read only where a tensor is.
func mappedFile(_ path: String) throws -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        throw CheckpointFormatError.io(file: path, problem: "cannot read (\(error.localizedDescription))")
    }
}
