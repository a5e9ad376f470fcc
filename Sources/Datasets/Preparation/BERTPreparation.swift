import Foundation

/// A BERT pretraining set from WikiText: articles as documents, headings dropped, paragraphs
/// detokenized and split into sentences, each sentence WordPiece-tokenized. The sentence
/// structure is kept so the loader can build sentence-order pairs, and `/word_starts` marks
/// the tokens that begin a word (not `##` pieces) for whole-word masking.
public enum BERTPreparation {
    public static func prepare(raw: String, out: String, tokenizer: BERTWordPieceTokenizer,
                               progress: PreparationProgress? = nil) throws {
        let input = try RawInput(path: raw, what: "a WikiText .tokens file")
        let continuation = try continuationTable(tokenizer)
        let articles = WikiTextPreparation.splitArticles(input.text)
        var tokens: [Int32] = []
        var documentOffsets = [0]
        var sentenceOffsets = [0]
        var documentSentenceOffsets = [0]
        for (index, article) in articles.enumerated() {
            for line in article.split(separator: "\n") where !isHeading(line) {
                let paragraph = WikiTextDetokenizer.detokenize(String(line))
                for sentence in SentenceSplitter.split(paragraph) {
                    let before = tokens.count
                    tokenizer.encode(sentence, appendingTo: &tokens)
                    if tokens.count > before { sentenceOffsets.append(tokens.count) }
                }
            }
            documentOffsets.append(tokens.count)
            documentSentenceOffsets.append(sentenceOffsets.count - 1)
            progress?(index + 1, articles.count)
        }
        let wordStarts = tokens.map { continuation[Int($0)] ? UInt8(0) : UInt8(1) }
        let header = TokenFileHeader(kind: .bertSentences, tokenizer: tokenizer.name, vocabSize: tokenizer.vocabSize,
                                     vocabSHA256: try vocabularyChecksum(tokenizer),
                                     sourceFile: input.name, sourceSHA256: input.sha256)
        try writeTokenFile(path: out, header: header, tokens: tokens, documentOffsets: documentOffsets) { root in
            try root.createDataset(TokenFileSchema.Dataset.sentenceOffsets, sentenceOffsets.map { Int64($0) })
            try root.createDataset(TokenFileSchema.Dataset.documentSentenceOffsets, documentSentenceOffsets.map { Int64($0) })
            try root.createDataset(TokenFileSchema.Dataset.wordStarts, wordStarts)
            try root.setAttribute(TokenFileSchema.Attribute.detokenizer, "megatron wikitext_detokenizer")
            let special = tokenizer.specialTokens
            try root.setAttribute(TokenFileSchema.Attribute.clsID, Int64(special.cls))
            try root.setAttribute(TokenFileSchema.Attribute.sepID, Int64(special.sep))
            try root.setAttribute(TokenFileSchema.Attribute.maskID, Int64(special.mask))
            try root.setAttribute(TokenFileSchema.Attribute.padID, Int64(special.pad))
        }
    }

    static func isHeading(_ line: Substring) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || (trimmed.hasPrefix("= ") && trimmed.hasSuffix(" ="))
    }

    /// Which ids are `##` continuation pieces, from the WordPiece vocab file (one token a line).
    static func continuationTable(_ tokenizer: BERTWordPieceTokenizer) throws -> [Bool] {
        guard let vocabFile = tokenizer.vocabFiles.first(where: { $0.hasSuffix(".txt") }) else {
            throw DataFileError(file: tokenizer.vocabFiles.first ?? tokenizer.name, field: "--tokenizer",
                                problem: "BERT pretraining data needs a WordPiece vocab.txt",
                                fix: "use --tokenizer bert")
        }
        let lines = try String(contentsOfFile: vocabFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var table = [Bool](repeating: false, count: tokenizer.vocabSize)
        for (id, line) in lines.enumerated() where id < table.count { table[id] = line.hasPrefix("##") }
        return table
    }
}
