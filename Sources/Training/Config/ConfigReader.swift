/// One thing wrong with a training config, at a key path ("training.lr", "model").
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public var keyPath: String
    public var problem: String

    public init(keyPath: String, problem: String) {
        self.keyPath = keyPath
        self.problem = problem
    }

    public var description: String { "\(keyPath.isEmpty ? "(top level)" : keyPath): \(problem)" }
}

/// Every problem of a training config, reported at once so one edit fixes them all.
public struct TrainingConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config file, or "<json>" for text decoded directly.
    public var source: String
    public var problems: [ConfigProblem]

    public init(source: String, problems: [ConfigProblem]) {
        self.source = source
        self.problems = problems
    }

    public var description: String {
        "\(source): \(problems.count) problem\(problems.count == 1 ? "" : "s") in the training config:\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Where the problems of one decode collect: sections record into it instead of throwing, and
/// the top level throws them together.
final class ConfigProblems {
    var list: [ConfigProblem] = []

    func add(_ keyPath: String, _ problem: String) {
        list.append(ConfigProblem(keyPath: keyPath, problem: problem))
    }

    func throwIfAny(source: String = "<json>") throws {
        if !list.isEmpty { throw TrainingConfigError(source: source, problems: list) }
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads one JSON object of a config: records a problem for each unknown key, each missing
/// required key, each value of the wrong type, and returns a placeholder in its place so that
/// reading goes on and every later problem is found too.
struct ConfigSectionReader<Key: CodingKey & CaseIterable & RawRepresentable<String>> {
    let path: String
    let problems: ConfigProblems
    private let container: KeyedDecodingContainer<AnyCodingKey>?

    init(_ decoder: any Decoder, problems: ConfigProblems) {
        self.path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
        self.problems = problems
        let known = Key.allCases.map(\.rawValue)
        do {
            let container = try decoder.container(keyedBy: AnyCodingKey.self)
            for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue })
            where !known.contains(key.stringValue) {
                problems.add(Self.join(path, key.stringValue), "unknown key; the keys here are \(known.joined(separator: ", "))")
            }
            self.container = container
        } catch {
            problems.add(path, "expected a JSON object with the keys \(known.joined(separator: ", "))")
            self.container = nil
        }
    }

    /// False when this section was not an object (already reported).
    var isReadable: Bool { container != nil }

    func keyPath(_ key: Key) -> String { Self.join(path, key.rawValue) }

    func required<V: Decodable>(_ key: Key, placeholder: V) -> V {
        guard let container else { return placeholder }
        guard container.contains(AnyCodingKey(key.rawValue)) else {
            problems.add(keyPath(key), "missing (required)")
            return placeholder
        }
        return decode(key, container) ?? placeholder
    }

    func optional<V: Decodable>(_ key: Key, default value: V) -> V {
        guard let container, container.contains(AnyCodingKey(key.rawValue)) else { return value }
        return decode(key, container) ?? value
    }

    /// A key that may be absent or null.
    func nullable<V: Decodable>(_ key: Key) -> V? {
        guard let container, container.contains(AnyCodingKey(key.rawValue)),
              (try? container.decodeNil(forKey: AnyCodingKey(key.rawValue))) == false else { return nil }
        return decode(key, container)
    }

    /// A string that must name one of `E`'s cases.
    func choice<E: RawRepresentable<String> & CaseIterable>(_ key: Key, default value: E?, placeholder: E) -> E {
        let raw: String? = value == nil ? required(key, placeholder: nil as String?) : optional(key, default: nil as String?)
        guard let raw else { return value ?? placeholder }
        guard let chosen = E(rawValue: raw) else {
            problems.add(keyPath(key), "\"\(raw)\" is not one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            return value ?? placeholder
        }
        return chosen
    }

    /// The nested object at `key`, read by `read` with the same problem log.
    func section<S>(_ key: Key, placeholder: S, _ read: (any Decoder, ConfigProblems) -> S) -> S {
        guard let container else { return placeholder }
        guard container.contains(AnyCodingKey(key.rawValue)) else {
            problems.add(keyPath(key), "missing (required section)")
            return placeholder
        }
        do {
            return read(try container.superDecoder(forKey: AnyCodingKey(key.rawValue)), problems)
        } catch {
            problems.add(keyPath(key), "unreadable: \(error)")
            return placeholder
        }
    }

    /// Records `problem` at `key` unless `condition` holds.
    func check(_ condition: Bool, _ key: Key, _ problem: @autoclosure () -> String) {
        if !condition { problems.add(keyPath(key), problem()) }
    }

    private func decode<V: Decodable>(_ key: Key, _ container: KeyedDecodingContainer<AnyCodingKey>) -> V? {
        do {
            return try container.decode(V.self, forKey: AnyCodingKey(key.rawValue))
        } catch {
            problems.add(keyPath(key), "expected \(Self.describe(V.self))")
            return nil
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int?.Type: return "an integer"
        case is UInt64.Type: return "a non-negative integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type, is String?.Type: return "a string"
        default: return "a value of type \(type)"
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
