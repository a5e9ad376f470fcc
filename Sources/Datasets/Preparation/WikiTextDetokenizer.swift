/// Megatron's `wikitext_detokenizer` (`[v1] tasks/zeroshot_gpt2/detokenizer.py`), step for step:
/// the same replacements in the same order, with the five bracket/quote regular expressions
/// `X\s*([^Y]*?)\s*Y → X\1Y` done by hand. Works on Unicode scalars, as Python's `str` does.
public enum WikiTextDetokenizer {
    public static func detokenize(_ text: String) -> String {
        var s = Array(text.unicodeScalars)
        // contractions
        replace(&s, "s '", "s'")
        replaceSlashQuoteDigit(&s)
        // number separators
        replace(&s, " @-@ ", "-")
        replace(&s, " @,@ ", ",")
        replace(&s, " @.@ ", ".")
        // punctuation
        replace(&s, " : ", ": ")
        replace(&s, " ; ", "; ")
        replace(&s, " . ", ". ")
        replace(&s, " ! ", "! ")
        replace(&s, " ? ", "? ")
        replace(&s, " , ", ", ")
        // double brackets
        tighten(&s, open: "(", close: ")")
        tighten(&s, open: "[", close: "]")
        tighten(&s, open: "{", close: "}")
        tighten(&s, open: "\"", close: "\"")
        tighten(&s, open: "'", close: "'")
        // miscellaneous
        replace(&s, "= = = =", "====")
        replace(&s, "= = =", "===")
        replace(&s, "= =", "==")
        replace(&s, " \u{B0} ", "\u{B0}")
        replace(&s, " \n", "\n")
        replace(&s, "\n ", "\n")
        replace(&s, " N ", " 1 ")
        replace(&s, " 's", "'s")
        var result = String.UnicodeScalarView()
        result.append(contentsOf: s)
        return String(result)
    }

    /// Python's `str.replace`: left to right, non-overlapping.
    static func replace(_ s: inout [Unicode.Scalar], _ target: String, _ replacement: String) {
        let pattern = Array(target.unicodeScalars)
        let with = Array(replacement.unicodeScalars)
        guard s.count >= pattern.count else { return }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        let first = pattern[0]
        while i < s.count {
            if s[i] == first, i + pattern.count <= s.count, s[i..<i + pattern.count].elementsEqual(pattern) {
                out.append(contentsOf: with)
                i += pattern.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        s = out
    }

    /// `re.sub(r"/' [0-9]/", r"/'[0-9]/", s)`: the pattern matches a literal `/' ` + digit + `/`
    /// and the replacement is the literal text `/'[0-9]/` (a quirk of the original, kept).
    static func replaceSlashQuoteDigit(_ s: inout [Unicode.Scalar]) {
        let replacement = Array("/'[0-9]/".unicodeScalars)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if i + 5 <= s.count, s[i] == "/", s[i + 1] == "'", s[i + 2] == " ",
               ("0"..."9").contains(s[i + 3]), s[i + 4] == "/" {
                out.append(contentsOf: replacement)
                i += 5
            } else {
                out.append(s[i])
                i += 1
            }
        }
        s = out
    }

    /// `re.sub(r"X\s*([^Y]*?)\s*Y", r"X\1Y", s)`: from each X, the match runs to the first Y
    /// after it (none → no match at this X); the whitespace just inside both ends is dropped.
    static func tighten(_ s: inout [Unicode.Scalar], open: Unicode.Scalar, close: Unicode.Scalar) {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var nextClose = [Int](repeating: -1, count: s.count + 1)
        var following = -1
        for index in stride(from: s.count - 1, through: 0, by: -1) {
            nextClose[index + 1] = following
            if s[index] == close { following = index }
        }
        var i = 0
        while i < s.count {
            let end = s[i] == open ? nextClose[i + 1] : -1
            guard end >= 0 else {
                out.append(s[i])
                i += 1
                continue
            }
            var start = i + 1
            while start < end, isPythonSpace(s[start]) { start += 1 }
            var stop = end
            while stop > start, isPythonSpace(s[stop - 1]) { stop -= 1 }
            out.append(open)
            out.append(contentsOf: s[start..<stop])
            out.append(close)
            i = end + 1
        }
        s = out
    }

    /// Python's `\s` for `str` patterns (`str.isspace`): Unicode White_Space plus U+001C…U+001F.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }
}
