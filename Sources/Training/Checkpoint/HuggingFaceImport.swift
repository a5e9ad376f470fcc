import CheckpointFormats
import Foundation

/// `megatron import hf`: a Hugging Face GPT-2 or BERT directory becomes a regular checkpoint of
/// ours (`ForeignImport`). A head the class lacks (BertModel's masked-LM head, BertForMaskedLM's
/// pooler and binary head) keeps our seeded initialisation and is listed in the summary.
public enum HuggingFaceImport {
    public struct Summary: Sendable {
        public var architecture: String
        public var imported: ForeignImport.Summary
        /// The tokenizer files found beside the weights (vocab.json, merges.txt, vocab.txt,
        /// tokenizer.json); the checkpoint records the vocabulary of `--vocab-dir` instead,
        /// in the files our tokenizers read.
        public var tokenizerFiles: [String]
    }

    public static let tokenizerFileNames = ["vocab.json", "merges.txt", "vocab.txt", "tokenizer.json", "tokenizer_config.json"]

    /// Reads `directory`, writes the checkpoint file `path` (replacing it only when complete).
    public static func run(from directory: String, to path: String, seed: UInt64 = 1234,
                           vocabularyDirectory: String? = nil) throws -> Summary {
        let source = try HuggingFaceModel(directory: directory)
        let tokenizerFiles = tokenizerFileNames.filter {
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: directory).appendingPathComponent($0).path)
        }
        let imported = try ForeignImport.run(source, to: path, seed: seed, vocabularyDirectory: vocabularyDirectory)
        return Summary(architecture: source.architecture, imported: imported, tokenizerFiles: tokenizerFiles)
    }
}
