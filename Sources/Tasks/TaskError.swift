/// An evaluation that cannot run as asked: the data or setting at fault, the problem and what
/// would fix it.
public struct TaskError: Error, CustomStringConvertible, Equatable, Sendable {
    public let what: String
    public let problem: String
    public let fix: String

    public init(what: String, problem: String, fix: String) {
        self.what = what
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(what): \(problem); \(fix)" }

    /// The data was tokenized for another vocabulary than the model's.
    public static func vocabularyMismatch(_ what: String, data: Int, model: Int) -> TaskError {
        TaskError(what: what, problem: "tokenized with a vocabulary of \(data), the model has \(model)",
                  fix: "evaluate a model built for the tokenizer the data was prepared with")
    }
}
