/// A failure of an HDF5 operation, phrased for the person who has to fix it: which file, which
/// object inside it, what went wrong and what to do about it.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        case fileNotFound
        case notHDF5
        case objectNotFound
        case wrongType
        case wrongShape
        case outOfRange
        case invalidContent
        case writeFailed
        case readFailed
    }

    public let kind: Kind
    public let file: String
    /// Path of the group, dataset or attribute inside the file ("/" for the file itself).
    public let object: String
    public let problem: String
    public let fix: String

    public init(_ kind: Kind, file: String, object: String, problem: String, fix: String) {
        self.kind = kind
        self.file = file
        self.object = object
        self.problem = problem
        self.fix = fix
    }

    public var description: String {
        "\(file): \(object): \(problem); \(fix)"
    }
}
