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

extension DataFileError {
    /// A raw input that is empty or only whitespace: `megatron prepare` refuses it rather than
    /// write a file of no tokens that every loader would later refuse less directly.
    public static func noText(file: String, byteCount: Int, expected: String) -> DataFileError {
        DataFileError(file: file, field: "--raw",
                      problem: byteCount == 0 ? "the file is empty" : "the file holds only whitespace (\(byteCount) bytes)",
                      fix: "point --raw at \(expected) with text in it")
    }
}
