import Datasets
import Training

/// The paper's evaluation tasks, what model each evaluates and what data it reads.
public enum EvaluationTask: String, CaseIterable, Sendable, Codable {
    /// WikiText-103 perplexity (token-level and adjusted word-level) over stride windows.
    case wikitext103
    /// LAMBADA strict last-word accuracy.
    case lambada
    /// RACE multiple-choice accuracy per file and overall, of a fine-tuned BERT.
    case race

    /// GPT for the language-model tasks, BERT (fine-tuned with the multiple-choice head) for RACE.
    public var family: ModelSection.Family { self == .race ? .bert : .gpt }

    /// The kind of prepared file the task reads.
    public var dataKind: TokenFileSchema.Kind {
        switch self {
        case .wikitext103: .evaluationStream
        case .lambada: .lambada
        case .race: .race
        }
    }

    /// How to make such a file.
    public var prepareCommand: String {
        switch self {
        case .wikitext103: "megatron prepare wikitext --split eval"
        case .lambada: "megatron prepare lambada"
        case .race: "megatron prepare race --split dev|test"
        }
    }

    /// Files the task takes: one stream or example file, or several RACE files (dev, test).
    public var takesSeveralFiles: Bool { self == .race }

    /// Items per forward when not given: windows, examples or questions.
    var defaultBatch: Int { self == .race ? 4 : 8 }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let task = EvaluationTask(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown task \(name) (\(Self.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = task
    }
}
