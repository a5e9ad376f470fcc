/// Splits a paragraph into sentences for BERT's sentence-order pairs. Megatron uses NLTK's
/// punkt; this is a rule-based stand-in: a sentence ends at `.`, `!` or `?` (optionally
/// followed by closing quotes or brackets) when whitespace and then an upper-case letter,
/// digit or opening quote follow, unless the word before the period is a common
/// abbreviation or a single initial.
public enum SentenceSplitter {
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "col", "lt", "sgt", "capt", "rev", "gov",
        "sen", "rep", "vs", "no", "vol", "fig", "ft", "mt", "inc", "ltd", "co", "corp", "jan", "feb", "mar",
        "apr", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "etc", "al", "approx", "ca",
    ]

    public static func split(_ paragraph: String) -> [String] {
        let scalars = Array(paragraph.unicodeScalars)
        var sentences: [String] = []
        var start = 0
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            guard c == "." || c == "!" || c == "?" else { i += 1; continue }
            var end = i + 1
            while end < scalars.count, "\"')]”’".unicodeScalars.contains(scalars[end]) { end += 1 }
            var next = end
            while next < scalars.count, WikiTextDetokenizer.isPythonSpace(scalars[next]) { next += 1 }
            let followedBySpace = next > end
            let startsSentence = next < scalars.count
                && (scalars[next].properties.isUppercase || ("0"..."9").contains(scalars[next])
                    || "\"'(“‘".unicodeScalars.contains(scalars[next]))
            if followedBySpace && startsSentence && !(c == "." && isAbbreviation(scalars, before: i)) {
                appendTrimmed(scalars[start..<end], to: &sentences)
                start = next
                i = next
            } else {
                i = end
            }
        }
        appendTrimmed(scalars[start..<scalars.count], to: &sentences)
        return sentences
    }

    private static func isAbbreviation(_ scalars: [Unicode.Scalar], before index: Int) -> Bool {
        var start = index
        while start > 0, !WikiTextDetokenizer.isPythonSpace(scalars[start - 1]) { start -= 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<index])
        let word = String(view).lowercased()
        return (word.unicodeScalars.count == 1 && word.unicodeScalars.first!.properties.isAlphabetic)
            || abbreviations.contains(word)
    }

    private static func appendTrimmed(_ piece: ArraySlice<Unicode.Scalar>, to sentences: inout [String]) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: piece)
        let sentence = String(view).trimmingPythonWhitespace()
        if !sentence.isEmpty { sentences.append(sentence) }
    }
}
