/// WikiText `.tokens` files, for training (articles as documents) and for the perplexity
/// evaluation (the whole file as one stream, as Megatron's zero-shot evaluation reads it).
public enum WikiTextPreparation {
    /// Training documents: the file split into articles at their ` = Title = ` headings, each
    /// article detokenized, stripped, tokenized and ended with `endOfDocument`.
    public static func prepareTraining(raw: String, out: String, tokenizer: any Tokenizer, endOfDocument: Int32,
                                       progress: PreparationProgress? = nil) throws {
        let input = try RawInput(path: raw, what: "a WikiText .tokens file")
        let articles = splitArticles(input.text)
        guard !articles.isEmpty else {
            throw DataFileError(file: raw, field: "text", problem: "no articles found",
                                fix: "point --raw at a WikiText .tokens file")
        }
        var tokens: [Int32] = []
        tokens.reserveCapacity(input.bytes.count / 4)
        var offsets = [0]
        for (index, article) in articles.enumerated() {
            let text = WikiTextDetokenizer.detokenize(article).trimmingPythonWhitespace()
            tokenizer.encode(text, appendingTo: &tokens)
            tokens.append(endOfDocument)
            offsets.append(tokens.count)
            progress?(index + 1, articles.count)
        }
        let header = TokenFileHeader(kind: .gptDocuments, tokenizer: tokenizer.name, vocabSize: tokenizer.vocabSize,
                                     vocabSHA256: try vocabularyChecksum(tokenizer),
                                     sourceFile: input.name, sourceSHA256: input.sha256)
        try writeTokenFile(path: out, header: header, tokens: tokens, documentOffsets: offsets) { root in
            try root.setAttribute(TokenFileSchema.Attribute.endOfDocument, Int64(endOfDocument))
            try root.setAttribute(TokenFileSchema.Attribute.detokenizer, "megatron wikitext_detokenizer")
        }
    }

    /// The evaluation stream: T_o = `len(text.strip().split(" "))` on the raw file, then the
    /// whole file detokenized and tokenized as one document, with no end-of-document ids.
    public static func prepareEvaluation(raw: String, out: String, tokenizer: any Tokenizer,
                                         progress: PreparationProgress? = nil) throws {
        let input = try RawInput(path: raw, what: "a WikiText .tokens file")
        let text = input.text
        let originalCount = originalTokenCount(text)
        progress?(0, 1)
        let tokens = tokenizer.encode(WikiTextDetokenizer.detokenize(text))
        progress?(1, 1)
        let header = TokenFileHeader(kind: .evaluationStream, tokenizer: tokenizer.name, vocabSize: tokenizer.vocabSize,
                                     vocabSHA256: try vocabularyChecksum(tokenizer),
                                     sourceFile: input.name, sourceSHA256: input.sha256)
        try writeTokenFile(path: out, header: header, tokens: tokens, documentOffsets: [0, tokens.count]) { root in
            try root.setAttribute(TokenFileSchema.Attribute.originalTokenCount, Int64(originalCount))
            try root.setAttribute(TokenFileSchema.Attribute.detokenizer, "megatron wikitext_detokenizer")
        }
    }

    /// Megatron's T_o: pieces of the stripped text split on single spaces (empty pieces count).
    public static func originalTokenCount(_ text: String) -> Int {
        text.trimmingPythonWhitespace().unicodeScalars.reduce(1) { $0 + ($1 == " " ? 1 : 0) }
    }

    /// Articles start at a top-level heading line ` = Title = ` (subsections are ` = = … = = `).
    public static func splitArticles(_ text: String) -> [String] {
        var articles: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let isTitle = line.hasPrefix(" = ") && !line.hasPrefix(" = = ") && line.hasSuffix(" = ") && line.count > 6
            if isTitle && !current.allSatisfy(\.isWhitespace) {
                articles.append(current)
                current = ""
            }
            current += line
            current += "\n"
        }
        if !current.allSatisfy(\.isWhitespace) { articles.append(current) }
        return articles
    }
}

extension String {
    /// Python's `str.strip()`.
    func trimmingPythonWhitespace() -> String {
        let scalars = ScalarText.scalars(of: self)
        var start = 0
        var end = scalars.count
        while start < end, WikiTextDetokenizer.isPythonSpace(scalars[start]) { start += 1 }
        while end > start, WikiTextDetokenizer.isPythonSpace(scalars[end - 1]) { end -= 1 }
        return start == 0 && end == scalars.count ? self : ScalarText.string(scalars[start..<end])
    }
}
