/// RACE as Megatron's `tasks/race/data.py` builds it: per question, one sequence per option,
/// `[CLS] question+option [SEP] passage [SEP]`, question+option cut to `maxQALength` tokens,
/// the passage tail cut so the whole fits `maxSequenceLength`. Stored unpadded; loaders pad.
public enum RACEPreparation {
    public static let choices = 4

    public static func prepare(raw: String, out: String, tokenizer: BERTWordPieceTokenizer,
                               maxSequenceLength: Int = 512, maxQALength: Int = 128,
                               progress: PreparationProgress? = nil) throws {
        precondition(maxSequenceLength >= 3 && maxQALength >= 1, "lengths validated by the caller")
        let input = try RawInput(path: raw, what: "a RACE jsonl file")
        let special = tokenizer.specialTokens
        let lines = input.lines
        var tokens: [Int32] = []
        var types: [UInt8] = []
        var offsets = [0]
        var labels: [UInt8] = []
        var articleIndex: [Int32] = []
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let object = try input.jsonObject(line, number: number)
            let article: String = try input.field(object, "article", line: number)
            let questions: [String] = try input.field(object, "questions", line: number)
            let options: [[String]] = try input.field(object, "options", line: number)
            let answers: [String] = try input.field(object, "answers", line: number)
            guard questions.count == options.count, questions.count == answers.count else {
                throw DataFileError(file: raw, field: "line \(number)",
                                    problem: "\(questions.count) questions, \(options.count) option lists, \(answers.count) answers",
                                    fix: "each question needs its options and answer")
            }
            let passage = tokenizer.encode(cleanText(article))
            for (q, question) in questions.enumerated() {
                guard let letter = answers[q].unicodeScalars.first, answers[q].unicodeScalars.count == 1,
                      ("A"..."D").contains(letter), options[q].count == choices else {
                    throw DataFileError(file: raw, field: "line \(number): question \(q + 1)",
                                        problem: "answer \"\(answers[q])\" with \(options[q].count) options",
                                        fix: "RACE questions have four options and an answer A-D")
                }
                labels.append(UInt8(letter.value - 65))
                articleIndex.append(Int32(index))
                for option in options[q] {
                    let qa = question.contains("_") ? question.replacingAll("_", with: option) : question + " " + option
                    let qaIDs = tokenizer.encode(cleanText(qa)).prefix(maxQALength)
                    appendSequence(qa: qaIDs, passage: passage, special: special, maxLength: maxSequenceLength,
                                   tokens: &tokens, types: &types)
                    offsets.append(tokens.count)
                }
            }
            progress?(number, lines.count)
        }
        let header = TokenFileHeader(kind: .race, tokenizer: tokenizer.name, vocabSize: tokenizer.vocabSize,
                                     vocabSHA256: try vocabularyChecksum(tokenizer),
                                     sourceFile: input.name, sourceSHA256: input.sha256)
        typealias A = TokenFileSchema.Attribute
        try writeTokenFile(path: out, header: header, tokens: tokens, documentOffsets: offsets) { root in
            try root.createDataset(TokenFileSchema.Dataset.tokenTypes, types)
            try root.createDataset(TokenFileSchema.Dataset.labels, labels)
            try root.createDataset(TokenFileSchema.Dataset.articleIndex, articleIndex)
            try root.setAttribute(A.maxSequenceLength, Int64(maxSequenceLength))
            try root.setAttribute(A.maxQuestionAnswerLength, Int64(maxQALength))
            try root.setAttribute(A.choices, Int64(choices))
            try root.setAttribute(A.clsID, Int64(special.cls))
            try root.setAttribute(A.sepID, Int64(special.sep))
            try root.setAttribute(A.padID, Int64(special.pad))
        }
    }

    /// `build_tokens_types_paddings_from_ids` without the padding: `[CLS] a [SEP] b`, cut to
    /// `maxLength - 1` when it reaches `maxLength`, then the closing `[SEP]` (type 1).
    static func appendSequence(qa: ArraySlice<Int32>, passage: [Int32], special: BERTSpecialTokens, maxLength: Int,
                               tokens: inout [Int32], types: inout [UInt8]) {
        var ids = [special.cls] + qa + [special.sep]
        var kinds = [UInt8](repeating: 0, count: ids.count)
        ids += passage
        kinds += [UInt8](repeating: 1, count: passage.count)
        if ids.count >= maxLength {
            ids.removeLast(ids.count - (maxLength - 1))
            kinds.removeLast(kinds.count - (maxLength - 1))
        }
        tokens += ids
        tokens.append(special.sep)
        types += kinds
        types.append(1)
    }

    /// Megatron's `clean_text`: newlines to spaces, whitespace runs to one space, and
    /// " . " → ". " three times.
    public static func cleanText(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var inSpace = false
        for scalar in text.unicodeScalars {
            if WikiTextDetokenizer.isPythonSpace(scalar) {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(scalar)
                inSpace = false
            }
        }
        var result = String(out)
        for _ in 0..<3 { result = result.replacingAll(" . ", with: ". ") }
        return result
    }
}

extension String {
    /// Python's `str.replace` on Unicode scalars.
    func replacingAll(_ target: String, with replacement: String) -> String {
        var scalars = Array(unicodeScalars)
        WikiTextDetokenizer.replace(&scalars, target, replacement)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
