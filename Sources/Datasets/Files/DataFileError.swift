/// A prepared data file or raw input that cannot be used, with the file, the field inside it
/// and what would fix it.
public struct DataFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let field: String
    public let problem: String
    public let fix: String

    public init(file: String, field: String, problem: String, fix: String) {
        self.file = file
        self.field = field
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(file): \(field): \(problem); \(fix)" }
}
