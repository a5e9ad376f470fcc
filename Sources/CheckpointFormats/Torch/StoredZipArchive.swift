import Foundation

/// The uncompressed ("stored") zip archive `torch.save` writes since torch 1.6: the end of
/// central directory record, the central directory's entries, and each entry's local header,
/// which says where its bytes start. Every offset and size is checked against the file; a
/// compressed or zip64 entry is refused by name.
struct StoredZipArchive {
    let file: String
    /// Entry name → its bytes' range in the file.
    let entries: [String: Range<Int>]

    init(file: String, bytes: UnsafeRawBufferPointer) throws {
        self.file = file
        let size = bytes.count
        func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
        func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
        // The end record (22 bytes + a comment of up to 65535) is the last PK\5\6 in the file.
        var end = -1
        var at = size - 22
        while at >= max(0, size - 22 - 65535) {
            if u32(at) == 0x0605_4B50 { end = at; break }
            at -= 1
        }
        guard end >= 0 else {
            throw CheckpointFormatError.archive(file: file, problem: "no zip end-of-central-directory record; the file is truncated or not a zip")
        }
        let count = u16(end + 10), directorySize = u32(end + 12), directoryStart = u32(end + 16)
        guard count != 0xFFFF, directoryStart != 0xFFFF_FFFF else {
            throw CheckpointFormatError.archive(file: file, problem: "a zip64 archive (over 4 GB), which this reader does not read")
        }
        guard directoryStart + directorySize <= end else {
            throw CheckpointFormatError.archive(file: file, problem: "the central directory (\(directorySize) bytes at \(directoryStart)) runs past its end record")
        }
        var entries: [String: Range<Int>] = [:]
        var cursor = directoryStart
        for _ in 0..<count {
            guard cursor + 46 <= end, u32(cursor) == 0x0201_4B50 else {
                throw CheckpointFormatError.archive(file: file, problem: "central directory entry at \(cursor) is damaged")
            }
            let method = u16(cursor + 10), stored = u32(cursor + 20), plain = u32(cursor + 24)
            let nameLength = u16(cursor + 28), extraLength = u16(cursor + 30), commentLength = u16(cursor + 32)
            let local = u32(cursor + 42)
            guard cursor + 46 + nameLength <= end,
                  let name = String(validating: UnsafeRawBufferPointer(rebasing: bytes[(cursor + 46)..<(cursor + 46 + nameLength)]),
                                    as: UTF8.self) else {
                throw CheckpointFormatError.archive(file: file, problem: "central directory entry at \(cursor) has a damaged name")
            }
            guard method == 0, stored == plain else {
                throw CheckpointFormatError.archive(file: file, problem: "entry \(name) is compressed (method \(method)); torch.save stores entries uncompressed")
            }
            guard stored != 0xFFFF_FFFF, local != 0xFFFF_FFFF else {
                throw CheckpointFormatError.archive(file: file, problem: "entry \(name) uses zip64 sizes, which this reader does not read")
            }
            guard local + 30 <= size, u32(local) == 0x0403_4B50 else {
                throw CheckpointFormatError.archive(file: file, problem: "entry \(name): no local header at \(local)")
            }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + stored <= size else {
                throw CheckpointFormatError.truncated(file: file, part: "zip entry \(name)", needed: start + stored, size: size)
            }
            entries[name] = start..<(start + stored)
            cursor += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    /// Entry `name`'s bytes; a named error when the archive lacks it.
    func entry(_ name: String) throws -> Range<Int> {
        guard let range = entries[name] else {
            throw CheckpointFormatError.archive(file: file, problem: "no entry \(name); the archive is incomplete")
        }
        return range
    }
}
