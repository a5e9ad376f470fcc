/// GPT-2's byte-to-unicode map: each byte gets a printable character (printable Latin-1 bytes
/// map to themselves, the others to U+0100 and up), so BPE tokens are strings in encoder.json.
enum ByteToUnicode {
    /// `scalars[b]` is the character that stands for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        let printable = Array(UInt32(0x21)...0x7E) + Array(UInt32(0xA1)...0xAC) + Array(UInt32(0xAE)...0xFF)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in UInt32(0)..<256 {
            if printable.contains(b) {
                table[Int(b)] = Unicode.Scalar(b)!
            } else {
                table[Int(b)] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil for characters outside the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if (0x21...0x7E).contains(v) || (0xA1...0xAC).contains(v) || (0xAE...0xFF).contains(v) {
            return UInt8(v)
        }
        guard v >= 256, v < 256 + 68 else { return nil }
        return inverse[Int(v - 256)]
    }

    /// Bytes in the order they were given characters from U+0100 on.
    private static let inverse: [UInt8] = (0..<256).compactMap { b -> UInt8? in
        scalars[b].value >= 256 ? UInt8(b) : nil
    }
}
