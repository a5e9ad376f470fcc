/// Names in the token-file schema (docs/data-format.md), in one place for writer and reader.
public enum TokenFileSchema {
    public static let formatName = "megatron-swift-tokens"
    public static let formatVersion: Int64 = 1

    public enum Kind: String, Sendable, CaseIterable {
        /// Training documents for GPT, each ending with the end-of-document id.
        case gptDocuments = "gpt-documents"
        /// One evaluation stream (WikiText perplexity), no end-of-document ids.
        case evaluationStream = "evaluation-stream"
        /// LAMBADA examples: context then target, split by `/target_offsets`.
        case lambada
        /// RACE: four sequences per question with token types and a label per question.
        case race
        /// BERT pretraining documents split into sentences.
        case bertSentences = "bert-sentences"
    }

    public enum Attribute {
        public static let format = "format"
        public static let formatVersion = "format_version"
        public static let kind = "kind"
        public static let tokenizer = "tokenizer"
        public static let vocabSize = "vocab_size"
        public static let vocabSHA256 = "vocab_sha256"
        public static let sourceFile = "source_file"
        public static let sourceSHA256 = "source_sha256"
        public static let endOfDocument = "eod_id"
        public static let originalTokenCount = "original_token_count"
        public static let detokenizer = "detokenizer"
        public static let maxSequenceLength = "max_seq_length"
        public static let maxQuestionAnswerLength = "max_qa_length"
        public static let choices = "num_choices"
        public static let clsID = "cls_id"
        public static let sepID = "sep_id"
        public static let padID = "pad_id"
        public static let maskID = "mask_id"
    }

    public enum Dataset {
        public static let tokens = "tokens"
        public static let documentOffsets = "doc_offsets"
        public static let targetOffsets = "target_offsets"
        public static let tokenTypes = "token_types"
        public static let labels = "labels"
        public static let articleIndex = "article_index"
        public static let sentenceOffsets = "sentence_offsets"
        public static let documentSentenceOffsets = "doc_sentence_offsets"
        public static let wordStarts = "word_starts"
    }
}
