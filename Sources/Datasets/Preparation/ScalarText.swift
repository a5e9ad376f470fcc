/// Text as an array of Unicode scalar values, the unit Python's `str` works in, with fast
/// conversions from and to `String` (the generic scalar-view paths are ~10× slower on the
/// 10 MB WikiText files).
enum ScalarText {
    static func scalars(of string: String) -> [UInt32] {
        var string = string
        return string.withUTF8 { bytes in
            var out = [UInt32]()
            out.reserveCapacity(bytes.count)
            var i = 0
            while i < bytes.count {
                let b = UInt32(bytes[i])
                if b < 0x80 {
                    out.append(b)
                    i += 1
                } else if b < 0xE0 {
                    out.append((b & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F))
                    i += 2
                } else if b < 0xF0 {
                    out.append((b & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F))
                    i += 3
                } else {
                    out.append((b & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                               | UInt32(bytes[i + 3] & 0x3F))
                    i += 4
                }
            }
            return out
        }
    }

    static func string<C: Collection>(_ scalars: C) -> String where C.Element == UInt32 {
        var bytes = [UInt8]()
        bytes.reserveCapacity(scalars.count)
        for v in scalars {
            if v < 0x80 {
                bytes.append(UInt8(v))
            } else if v < 0x800 {
                bytes.append(UInt8(0xC0 | v >> 6))
                bytes.append(UInt8(0x80 | v & 0x3F))
            } else if v < 0x10000 {
                bytes.append(UInt8(0xE0 | v >> 12))
                bytes.append(UInt8(0x80 | (v >> 6) & 0x3F))
                bytes.append(UInt8(0x80 | v & 0x3F))
            } else {
                bytes.append(UInt8(0xF0 | v >> 18))
                bytes.append(UInt8(0x80 | (v >> 12) & 0x3F))
                bytes.append(UInt8(0x80 | (v >> 6) & 0x3F))
                bytes.append(UInt8(0x80 | v & 0x3F))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
