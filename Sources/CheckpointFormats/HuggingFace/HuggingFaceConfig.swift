import Foundation
import TensorCore

/// A `config.json` read field by field; every error names the file and the field.
struct HuggingFaceConfig {
    let file: String
    let fields: [String: Any]

    init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CheckpointFormatError.io(file: file, problem: "cannot read config.json; a Hugging Face model directory holds one")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointFormatError.config(file: file, field: "(file)", problem: "not a JSON object")
        }
        self.file = file
        fields = object
    }

    func fail(_ field: String, _ problem: String) -> CheckpointFormatError {
        .config(file: file, field: field, problem: problem)
    }

    /// A positive integer; `fallback` when absent or null (nil: required).
    func positive(_ field: String, fallback: Int? = nil) throws -> Int {
        guard let value = fields[field], !(value is NSNull) else {
            guard let fallback else { throw fail(field, "missing; a positive integer is required") }
            return fallback
        }
        guard let number = value as? NSNumber, let n = Int(exactly: number.doubleValue), n > 0 else {
            throw fail(field, "\(value) is not a positive integer")
        }
        return n
    }

    func double(_ field: String, fallback: Double) throws -> Double {
        guard let value = fields[field], !(value is NSNull) else { return fallback }
        guard let number = value as? NSNumber, number.doubleValue > 0 else {
            throw fail(field, "\(value) is not a positive number")
        }
        return number.doubleValue
    }

    func string(_ field: String, fallback: String) throws -> String {
        guard let value = fields[field], !(value is NSNull) else { return fallback }
        guard let s = value as? String else { throw fail(field, "\(value) is not a string") }
        return s
    }

    /// Refuses a config whose `field` is not `expected` (`fallback` when absent): a feature we lack.
    func require(_ field: String, is expected: Bool, fallback: Bool, because why: String) throws {
        let value = fields[field].flatMap { $0 is NSNull ? nil : $0 }
        let actual = (value as? Bool) ?? (value as? NSNumber)?.boolValue ?? fallback
        guard actual == expected else { throw fail(field, "\(actual) is not supported: \(why)") }
    }

    func require(_ field: String, in allowed: [String], fallback: String, because why: String) throws {
        let actual = try string(field, fallback: fallback)
        guard allowed.contains(actual) else { throw fail(field, "\"\(actual)\" is not supported: \(why)") }
    }

    /// The MLP width, which our layers fix at 4 × hidden (GPT-2's and BERT's); `field` absent or
    /// null means 4 × hidden.
    func ffnHidden(_ field: String, hidden: Int) throws -> Int {
        let width = try positive(field, fallback: 4 * hidden)
        guard width == 4 * hidden else {
            throw fail(field, "\(width) is not supported: our MLP is 4 × hidden = \(4 * hidden) wide")
        }
        return width
    }

    /// The activation: Hugging Face's names for GeLU's erf and tanh forms; anything else is refused.
    func gelu(_ field: String, fallback: String) throws -> GeLUForm {
        switch try string(field, fallback: fallback) {
        case "gelu", "gelu_python": return .erf
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .tanh
        case let other: throw fail(field, "\"\(other)\" is not supported: only GeLU (erf: \"gelu\", tanh: \"gelu_new\") is implemented")
        }
    }

    /// The one class named in `architectures`, which must be one of `supported`.
    func architecture(_ supported: [String]) throws -> String {
        guard let list = fields["architectures"] as? [String], list.count == 1 else {
            throw fail("architectures", "missing or not one class name; expected one of \(supported.joined(separator: ", "))")
        }
        guard supported.contains(list[0]) else {
            throw fail("architectures", "\(list[0]) is not supported; expected one of \(supported.joined(separator: ", "))")
        }
        return list[0]
    }
}
