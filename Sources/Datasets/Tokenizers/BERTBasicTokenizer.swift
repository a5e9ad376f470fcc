import Foundation

/// BERT's basic tokenizer (Devlin et al. 2019, `BasicTokenizer` with `do_lower_case=True`) as
/// rules on single characters, so text is split in one pass: control characters, U+0000 and
/// U+FFFD are dropped; whitespace ends a word; CJK ideographs and punctuation are words of
/// their own; everything else is lower-cased, decomposed (NFD) and stripped of combining marks.
enum BERTCharacter: Equatable {
    case removed
    case whitespace
    case chinese
    case punctuation
    case text

    /// The class of an ASCII byte.
    @inline(__always)
    init(ascii b: UInt8) {
        switch b {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): self = .whitespace
        case 0..<0x20, 0x7F: self = .removed
        case 33...47, 58...64, 91...96, 123...126: self = .punctuation   // all non-alphanumeric ASCII
        default: self = .text
        }
    }

    init(_ scalar: Unicode.Scalar) {
        if scalar.isASCII { self.init(ascii: UInt8(scalar.value)); return }
        let v = scalar.value
        if v == 0xFFFD { self = .removed; return }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned:
            self = .removed
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            // Zs is BERT's whitespace; Zl and Zp survive its cleaning but Python's split() splits there.
            self = .whitespace
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            self = .punctuation
        default:
            self = Self.isChinese(v) ? .chinese : .text
        }
    }

    /// The CJK Unified Ideograph blocks BERT surrounds with spaces.
    static func isChinese(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    /// What a non-ASCII text, punctuation or Chinese character becomes: lower-cased, in NFD,
    /// without nonspacing marks (Mn).
    static func normalized(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        let lower = scalar.properties.lowercaseMapping
        return lower.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
            $0.properties.generalCategory != .nonspacingMark
        }
    }
}

/// `BERTCharacter` and the normalized form of every scalar below U+0800 (two UTF-8 bytes at
/// most: Latin, Greek, Cyrillic, Hebrew, Arabic), computed once, so the common non-ASCII
/// letters cost a table lookup instead of a Unicode normalization.
struct BERTCharacterTable: Sendable {
    static let limit: UInt32 = 0x800

    /// Per scalar: class in the low 8 bits, then start (24 bits) and count (8 bits) into `forms`.
    private let entries: [UInt64]
    /// Normalized scalars, with bit 31 set on those that are punctuation.
    private let forms: [UInt32]

    init() {
        var entries: [UInt64] = []
        var forms: [UInt32] = []
        for v in 0..<Self.limit {
            let scalar = Unicode.Scalar(v)!
            let kind = BERTCharacter(scalar)
            let start = forms.count
            if kind == .text || kind == .punctuation || kind == .chinese {
                for d in (scalar.isASCII ? [scalar] : BERTCharacter.normalized(scalar)) {
                    forms.append(d.value | (BERTCharacter(d) == .punctuation ? 1 << 31 : 0))
                }
            }
            entries.append(UInt64(Self.code(kind)) | UInt64(start) << 8 | UInt64(forms.count - start) << 32)
        }
        self.entries = entries
        self.forms = forms
    }

    /// The class of `scalar`.
    @inline(__always)
    func kind(of scalar: Unicode.Scalar) -> BERTCharacter {
        let v = scalar.value
        guard v < Self.limit else { return BERTCharacter(scalar) }
        return Self.kind(UInt8(entries.withUnsafeBufferPointer { $0[Int(v)] } & 0xFF))
    }

    /// Calls `body(value, isPunctuation)` for each scalar that `scalar` (of class text,
    /// punctuation or Chinese) normalizes to.
    @inline(__always)
    func forEachForm(of scalar: Unicode.Scalar, _ body: (UInt32, Bool) -> Void) {
        let v = scalar.value
        guard v < Self.limit else {
            for d in BERTCharacter.normalized(scalar) { body(d.value, BERTCharacter(d) == .punctuation) }
            return
        }
        let entry = entries.withUnsafeBufferPointer { $0[Int(v)] }
        let start = Int((entry >> 8) & 0xFF_FFFF), count = Int(entry >> 32)
        forms.withUnsafeBufferPointer { forms in
            for k in start..<(start + count) {
                let f = forms[k]
                body(f & 0x7FFF_FFFF, f >> 31 != 0)
            }
        }
    }

    private static func code(_ kind: BERTCharacter) -> UInt8 {
        switch kind {
        case .removed: return 0
        case .whitespace: return 1
        case .chinese: return 2
        case .punctuation: return 3
        case .text: return 4
        }
    }

    private static func kind(_ code: UInt8) -> BERTCharacter {
        switch code {
        case 0: return .removed
        case 1: return .whitespace
        case 2: return .chinese
        case 3: return .punctuation
        default: return .text
        }
    }
}
