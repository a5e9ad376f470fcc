/// LAMBADA (OpenAI's detokenized jsonl) in Megatron's strict mode: the target is the last
/// whitespace-separated word, tokenized with a leading space; the context is the text before
/// it, stripped.
public enum LambadaPreparation {
    public static func prepare(raw: String, out: String, tokenizer: any Tokenizer,
                               progress: PreparationProgress? = nil) throws {
        let input = try RawInput(path: raw, what: "lambada_test.jsonl")
        let lines = input.lines
        var tokens: [Int32] = []
        var offsets = [0]
        var targets: [Int64] = []
        for (index, line) in lines.enumerated() {
            let object = try input.jsonObject(line, number: index + 1)
            let text: String = try input.field(object, "text", line: index + 1)
            guard let (context, word) = strictSplit(text) else {
                throw DataFileError(file: raw, field: "line \(index + 1): \"text\"", problem: "has no words",
                                    fix: "remove the empty example")
            }
            tokenizer.encode(context, appendingTo: &tokens)
            targets.append(Int64(tokens.count))
            tokenizer.encode(" " + word, appendingTo: &tokens)
            offsets.append(tokens.count)
            progress?(index + 1, lines.count)
        }
        let header = TokenFileHeader(kind: .lambada, tokenizer: tokenizer.name, vocabSize: tokenizer.vocabSize,
                                     vocabSHA256: try vocabularyChecksum(tokenizer),
                                     sourceFile: input.name, sourceSHA256: input.sha256)
        try writeTokenFile(path: out, header: header, tokens: tokens, documentOffsets: offsets) { root in
            try root.createDataset(TokenFileSchema.Dataset.targetOffsets, targets)
        }
    }

    /// `word = text.split()[-1]; context = text[:text.rfind(word)].strip()`.
    public static func strictSplit(_ text: String) -> (context: String, word: String)? {
        let scalars = Array(text.unicodeScalars)
        var end = scalars.count
        while end > 0, WikiTextDetokenizer.isPythonSpace(scalars[end - 1]) { end -= 1 }
        var start = end
        while start > 0, !WikiTextDetokenizer.isPythonSpace(scalars[start - 1]) { start -= 1 }
        guard start < end else { return nil }
        let word = scalars[start..<end]
        var found = scalars.count - word.count
        while found >= 0, !scalars[found..<found + word.count].elementsEqual(word) { found -= 1 }
        var context = String.UnicodeScalarView()
        context.append(contentsOf: scalars[0..<found])
        var wordView = String.UnicodeScalarView()
        wordView.append(contentsOf: word)
        return (String(context).trimmingPythonWhitespace(), String(wordView))
    }
}
