/// Megatron's `wikitext_detokenizer` (`[v1] tasks/zeroshot_gpt2/detokenizer.py`), step for step:
/// the same replacements in the same order, with the five bracket/quote regular expressions
/// `X\s*([^Y]*?)\s*Y → X\1Y` done by hand. Works on Unicode scalars, as Python's `str` does.
public enum WikiTextDetokenizer {
    public static func detokenize(_ text: String) -> String {
        var s = Text(text)
        // contractions
        s.replace("s '", "s'")
        s.replaceSlashQuoteDigit()
        // number separators
        s.replace(" @-@ ", "-")
        s.replace(" @,@ ", ",")
        s.replace(" @.@ ", ".")
        // punctuation
        s.replace(" : ", ": ")
        s.replace(" ; ", "; ")
        s.replace(" . ", ". ")
        s.replace(" ! ", "! ")
        s.replace(" ? ", "? ")
        s.replace(" , ", ", ")
        // double brackets
        s.tighten(open: "(", close: ")")
        s.tighten(open: "[", close: "]")
        s.tighten(open: "{", close: "}")
        s.tighten(open: "\"", close: "\"")
        s.tighten(open: "'", close: "'")
        // miscellaneous
        s.replace("= = = =", "====")
        s.replace("= = =", "===")
        s.replace("= =", "==")
        s.replace(" \u{B0} ", "\u{B0}")
        s.replace(" \n", "\n")
        s.replace("\n ", "\n")
        s.replace(" N ", " 1 ")
        s.replace(" 's", "'s")
        return s.string
    }

    /// Python's `str.replace` on Unicode scalars: left to right, non-overlapping.
    static func replace(_ scalars: inout [Unicode.Scalar], _ target: String, _ replacement: String) {
        var text = Text(scalars)
        text.replace(target, replacement)
        scalars = text.scalars.map { Unicode.Scalar($0)! }
    }

    /// The text as scalar values in one buffer, each pass writing a second buffer that then
    /// becomes the text (the passes run over whole 10 MB files).
    struct Text {
        private(set) var scalars: [UInt32]
        private var spare: [UInt32] = []

        init(_ string: String) { scalars = ScalarText.scalars(of: string) }
        init(_ values: [Unicode.Scalar]) { scalars = values.map(\.value) }

        var string: String { ScalarText.string(scalars) }

        /// Runs `pass` from the text into the spare buffer (sized for growth by `growth` per
        /// input scalar) and swaps the two.
        private mutating func rewrite(growth: Int, _ pass: (UnsafeBufferPointer<UInt32>, UnsafeMutablePointer<UInt32>) -> Int) {
            let capacity = scalars.count * growth + 8
            if spare.count < capacity { spare.append(contentsOf: repeatElement(0, count: capacity - spare.count)) }
            let written = scalars.withUnsafeBufferPointer { input in
                spare.withUnsafeMutableBufferPointer { pass(input, $0.baseAddress!) }
            }
            spare.removeSubrange(written...)
            swap(&scalars, &spare)
        }

        mutating func replace(_ target: String, _ replacement: String) {
            let pattern = target.unicodeScalars.map(\.value)
            let with = replacement.unicodeScalars.map(\.value)
            guard scalars.count >= pattern.count else { return }
            rewrite(growth: max(1, (with.count + pattern.count - 1) / pattern.count)) { input, out in
                let n = input.count
                let m = pattern.count
                let first = pattern[0]
                var i = 0
                var o = 0
                while i < n {
                    let c = input[i]
                    if c == first, i + m <= n {
                        var k = 1
                        while k < m, input[i + k] == pattern[k] { k += 1 }
                        if k == m {
                            for w in with { out[o] = w; o += 1 }
                            i += m
                            continue
                        }
                    }
                    out[o] = c
                    o += 1
                    i += 1
                }
                return o
            }
        }

        /// `re.sub(r"/' [0-9]/", r"/'[0-9]/", s)`: the pattern matches a literal `/' ` + digit +
        /// `/` and the replacement is the literal text `/'[0-9]/` (a quirk of the original, kept).
        mutating func replaceSlashQuoteDigit() {
            let replacement = "/'[0-9]/".unicodeScalars.map(\.value)
            rewrite(growth: 2) { input, out in
                var i = 0
                var o = 0
                while i < input.count {
                    if i + 5 <= input.count, input[i] == 0x2F, input[i + 1] == 0x27, input[i + 2] == 0x20,
                       (0x30...0x39).contains(input[i + 3]), input[i + 4] == 0x2F {
                        for w in replacement { out[o] = w; o += 1 }
                        i += 5
                    } else {
                        out[o] = input[i]
                        o += 1
                        i += 1
                    }
                }
                return o
            }
        }

        /// `re.sub(r"X\s*([^Y]*?)\s*Y", r"X\1Y", s)`: from each X, the match runs to the first
        /// Y after it (none → no match at this X); the whitespace just inside both ends is dropped.
        mutating func tighten(open: Unicode.Scalar, close: Unicode.Scalar) {
            let (x, y) = (open.value, close.value)
            rewrite(growth: 1) { input, out in
                let n = input.count
                var o = 0
                var i = 0
                var nextClose = -1
                while i < n {
                    guard input[i] == x else {
                        out[o] = input[i]
                        o += 1
                        i += 1
                        continue
                    }
                    if nextClose <= i {
                        nextClose = i + 1
                        while nextClose < n, input[nextClose] != y { nextClose += 1 }
                    }
                    guard nextClose < n else {
                        out[o] = input[i]
                        o += 1
                        i += 1
                        continue
                    }
                    var start = i + 1
                    while start < nextClose, isPythonSpace(input[start]) { start += 1 }
                    var stop = nextClose
                    while stop > start, isPythonSpace(input[stop - 1]) { stop -= 1 }
                    out[o] = x
                    o += 1
                    for k in start..<stop { out[o] = input[k]; o += 1 }
                    out[o] = y
                    o += 1
                    i = nextClose + 1
                }
                return o
            }
        }
    }

    static func isPythonSpace(_ value: UInt32) -> Bool {
        if value < 0x80 { return (0x09...0x0D).contains(value) || (0x1C...0x20).contains(value) }
        return isPythonSpace(Unicode.Scalar(value)!)
    }

    /// Python's `\s` for `str` patterns (`str.isspace`): Unicode White_Space plus U+001C…U+001F.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }
}
