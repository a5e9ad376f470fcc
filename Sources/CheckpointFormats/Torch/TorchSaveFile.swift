import Foundation
import TensorCore

/// A file `torch.save` wrote, in either format, read without running any of its code:
/// - the zip archive (torch ≥ 1.6): `PREFIX/data.pkl`, each storage's bytes in `PREFIX/data/KEY`,
///   `PREFIX/byteorder`; PREFIX is the first entry's folder (`archive`, or the file's stem);
/// - the legacy stream (torch < 1.6): pickles of the magic number, the protocol version (1001),
///   sys_info, the object, and the sorted storage keys; then each storage as an int64 element
///   count and its bytes, in the keys' order.
/// The object is built by `RestrictedUnpickler`; tensors stay references into the mapped file
/// until `tensor(_:)` converts one, after checking it lies within its storage.
public struct TorchSaveFile: @unchecked Sendable {
    public let path: String
    public let root: PickleValue
    let bytes: Data
    /// Storage key → its bytes' range in the file.
    let storageBytes: [String: Range<Int>]

    /// Where each storage's bytes lie in the file.
    public var storageRanges: [Range<Int>] { Array(storageBytes.values) }

    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    public init(path: String) throws {
        let data = try mappedFile(path)
        self.path = path
        bytes = data
        let isZip = data.count >= 4 && data.prefix(4).elementsEqual([0x50, 0x4B, 0x03, 0x04])
        (root, storageBytes) = try data.withUnsafeBytes { raw in
            isZip ? try Self.readArchive(path: path, raw) : try Self.readLegacy(path: path, raw)
        }
    }

    static func readArchive(path: String, _ raw: UnsafeRawBufferPointer) throws -> (PickleValue, [String: Range<Int>]) {
        let archive = try StoredZipArchive(file: path, bytes: raw)
        guard let first = archive.entries.min(by: { $0.value.lowerBound < $1.value.lowerBound })?.key,
              let slash = first.firstIndex(of: "/") else {
            throw CheckpointFormatError.archive(file: path, problem: "no entries in folders; torch.save writes PREFIX/data.pkl first")
        }
        let prefix = String(first[..<slash])
        if let order = archive.entries["\(prefix)/byteorder"] {
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[order]), as: UTF8.self)
            guard text == "little" else {
                throw CheckpointFormatError.archive(file: path, problem: "byteorder \"\(text)\"; only little-endian files are read")
            }
        }
        let pickle = try archive.entry("\(prefix)/data.pkl")
        var unpickler = RestrictedUnpickler(file: "\(path) (\(prefix)/data.pkl)", bytes: UnsafeRawBufferPointer(rebasing: raw[pickle]))
        let root = try unpickler.load()
        var storages: [String: Range<Int>] = [:]
        for (key, storage) in unpickler.storages {
            let range = try archive.entry("\(prefix)/data/\(key)")
            let needed = storage.count.multipliedReportingOverflow(by: storage.type.itemSize)
            guard !needed.overflow, range.count == needed.partialValue else {
                throw CheckpointFormatError.archive(
                    file: path, problem: "entry \(prefix)/data/\(key) holds \(range.count) bytes, the pickle says \(storage.count) \(storage.type.rawValue) elements")
            }
            storages[key] = range
        }
        return (root, storages)
    }

    static func readLegacy(path: String, _ raw: UnsafeRawBufferPointer) throws -> (PickleValue, [String: Range<Int>]) {
        var unpickler = RestrictedUnpickler(file: path, bytes: raw)
        guard case let .bigInt(magic) = try unpickler.load(), magic == legacyMagic else {
            throw CheckpointFormatError.pickle(file: path, offset: 0,
                                               problem: "neither a zip archive nor the legacy torch.save magic number; not a torch.save file")
        }
        guard let version = try unpickler.load().int, version == 1001 else {
            throw CheckpointFormatError.pickle(file: path, offset: unpickler.position, problem: "legacy protocol version other than 1001")
        }
        let sysInfo = try unpickler.load()
        guard sysInfo["little_endian"]?.bool != false else {
            throw CheckpointFormatError.pickle(file: path, offset: unpickler.position, problem: "written big-endian; only little-endian files are read")
        }
        let root = try unpickler.load()
        let known = unpickler.storages
        guard case let .list(keyList) = try unpickler.load() else {
            throw CheckpointFormatError.pickle(file: path, offset: unpickler.position, problem: "the storage keys are not a list")
        }
        var storages: [String: Range<Int>] = [:]
        var at = unpickler.position
        for item in keyList.items {
            guard let key = item.string, let storage = known[key] else {
                throw CheckpointFormatError.pickle(file: path, offset: at, problem: "storage key \(item) that no tensor refers to")
            }
            guard at + 8 <= raw.count else {
                throw CheckpointFormatError.truncated(file: path, part: "storage \(key)'s element count", needed: at + 8, size: raw.count)
            }
            let count = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
            guard count == storage.count else {
                throw CheckpointFormatError.pickle(file: path, offset: at, problem: "storage \(key) has \(count) elements, the pickle says \(storage.count)")
            }
            let length = storage.count.multipliedReportingOverflow(by: storage.type.itemSize)
            guard !length.overflow, length.partialValue <= raw.count - at - 8 else {
                throw CheckpointFormatError.truncated(file: path, part: "storage \(key)", needed: at + 8 + storage.count * storage.type.itemSize,
                                                      size: raw.count)
            }
            storages[key] = (at + 8)..<(at + 8 + length.partialValue)
            at += 8 + length.partialValue
        }
        if let missing = known.keys.sorted().first(where: { storages[$0] == nil }) {
            throw CheckpointFormatError.pickle(file: path, offset: at, problem: "storage \(missing) is referred to but not stored")
        }
        return (root, storages)
    }

    /// `t`'s elements in row-major order, converted exactly (Double → Float aside). Refuses
    /// integer storages, a size and stride that reach past the storage, and more elements than
    /// the storage holds (a zero stride repeating a few bytes into a huge allocation).
    public func tensor<T: TensorScalar>(_ t: TorchTensor, name: String, as _: T.Type = T.self) throws -> Tensor<T> {
        guard let dtype = t.storage.type.floatingPoint else {
            throw CheckpointFormatError.tensorContradictsConfig(file: path, tensor: name,
                                                                problem: "\(t.storage.type.rawValue) elements for a weight; a float type is expected")
        }
        guard let range = storageBytes[t.storage.key] else { throw CheckpointFormatError.missingTensor(file: path, tensor: name) }
        var last = t.offset, count = 1, overflow = false
        for (n, s) in zip(t.shape, t.strides) where !overflow {
            (count, overflow) = count.multipliedReportingOverflow(by: n)
            guard n > 0, !overflow else { continue }
            let reach = (n - 1).multipliedReportingOverflow(by: s)
            overflow = reach.overflow
            if !overflow { (last, overflow) = last.addingReportingOverflow(reach.partialValue) }
        }
        guard !overflow, count <= t.storage.count, count == 0 || last < t.storage.count else {
            throw CheckpointFormatError.tensorContradictsConfig(
                file: path, tensor: name, problem: "size \(t.shape), stride \(t.strides) at offset \(t.offset) reach past its storage of \(t.storage.count) elements")
        }
        let out = Tensor<T>(zeros: t.shape)
        let p = out.pointer, shape = t.shape, strides = t.strides
        bytes.withUnsafeBytes { raw in
            let storage = UnsafeRawBufferPointer(rebasing: raw[range])
            var index = [Int](repeating: 0, count: shape.count)
            var source = t.offset
            for i in 0..<count {
                p[i] = T(dtype.value(storage, source))
                var d = shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    source += strides[d]
                    if index[d] < shape[d] { break }
                    source -= strides[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return out
    }
}
