/// GPT-2's pre-tokenization: the pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// matched by hand over UTF-8 bytes, yielding each piece's byte range in order. Swift Regex
/// runs this pattern two orders of magnitude slower. `\s` is Unicode White_Space, as in tiktoken.
struct GPT2PreTokenizer {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    /// `bytes` must be valid UTF-8 (any Swift String's bytes are).
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func next() -> Range<Int>? {
        let n = bytes.count
        let start = position
        guard start < n else { return nil }
        let end = pieceEnd(from: start, count: n)
        position = end
        return start..<end
    }

    private func pieceEnd(from i: Int, count n: Int) -> Int {
        let b = bytes[i]
        if b == UInt8(ascii: "'"), i + 1 < n {
            let c1 = bytes[i + 1]
            if c1 == UInt8(ascii: "s") || c1 == UInt8(ascii: "t") || c1 == UInt8(ascii: "m") || c1 == UInt8(ascii: "d") {
                return i + 2
            }
            if i + 2 < n {
                let c2 = bytes[i + 2]
                if (c1 == UInt8(ascii: "r") && c2 == UInt8(ascii: "e")) || (c1 == UInt8(ascii: "v") && c2 == UInt8(ascii: "e"))
                    || (c1 == UInt8(ascii: "l") && c2 == UInt8(ascii: "l")) {
                    return i + 3
                }
            }
        }
        var (kind, j) = classify(at: i)
        if b == UInt8(ascii: " "), j < n {
            // ` ?X+`: a single space joins the run of letters, numbers or other symbols after it.
            let (next, after) = classify(at: j)
            if next != .whitespace { kind = next; j = after }
        }
        if kind != .whitespace {
            while j < n {
                let (k, after) = classify(at: j)
                if k != kind { break }
                j = after
            }
            return j
        }
        // `\s+(?!\S)|\s+`: a whitespace run, leaving its last character to the piece that
        // follows unless the run ends the text or is one character long.
        var last = i
        var length = 1
        while j < n {
            let (k, after) = classify(at: j)
            if k != .whitespace { break }
            last = j
            j = after
            length += 1
        }
        if j == n || length == 1 { return j }
        return last
    }

    /// The class of the scalar starting at byte `i` and the index just past it.
    @inline(__always)
    private func classify(at i: Int) -> (ScalarClass, Int) {
        let b = bytes[i]
        if b < 0x80 { return (ScalarClass(ascii: b), i + 1) }
        let (scalar, length) = decodeUTF8Scalar(bytes, at: i)
        return (ScalarClass(scalar), i + length)
    }
}

/// The classes GPT-2's pattern distinguishes: `\p{L}`, `\p{N}`, `\s` and everything else.
enum ScalarClass {
    case letter, number, whitespace, other

    @inline(__always)
    init(ascii b: UInt8) {
        if (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") {
            self = .letter
        } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
            self = .number
        } else if b == UInt8(ascii: " ") || (b >= 0x09 && b <= 0x0D) {
            self = .whitespace
        } else {
            self = .other
        }
    }

    init(_ scalar: Unicode.Scalar) {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = properties.isWhitespace ? .whitespace : .other
        }
    }
}

/// The scalar whose UTF-8 encoding starts at `bytes[i]` (valid UTF-8 assumed) and its length.
@inline(__always)
func decodeUTF8Scalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int) {
    let b0 = UInt32(bytes[i])
    let value: UInt32
    let length: Int
    if b0 < 0x80 {
        value = b0; length = 1
    } else if b0 < 0xE0 {
        value = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F); length = 2
    } else if b0 < 0xF0 {
        value = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F); length = 3
    } else {
        value = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
            | UInt32(bytes[i + 3] & 0x3F)
        length = 4
    }
    return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
}
