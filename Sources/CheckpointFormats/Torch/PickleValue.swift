/// What the restricted unpickler builds: data only. Lists and dicts are shared boxes because a
/// pickle fills them after memoising them; nothing here can hold code.
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, little-endian two's complement (the legacy magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allow-listed global itself (a class, function or constant), before any call.
    case global(PickleGlobal)
    /// argparse.Namespace: its attributes only.
    case namespace(PickleDict)
    case storage(TorchStorage)
    case tensor(TorchTensor)
    /// State importing never needs (numpy RNG state, loss scalers), kept as its class name only.
    case placeholder(String)

    public var int: Int? {
        switch self {
        case let .int(i): return i
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case let .float(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }

    public var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        switch self {
        case let .bool(b): return b
        case let .int(i): return i != 0
        default: return nil
        }
    }

    /// A dict's (or a Namespace's) entries, in insertion order.
    public var entries: PickleDict? {
        switch self {
        case let .dict(d), let .namespace(d): return d
        default: return nil
        }
    }

    /// The value under the string key `key` of a dict or Namespace.
    public subscript(key: String) -> PickleValue? {
        entries?.value(forKey: key)
    }
}

/// A pickled list, filled by APPEND(S) after it is memoised.
public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue] = []
}

/// A pickled dict in insertion order (OrderedDict and dict alike).
public final class PickleDict: @unchecked Sendable {
    public private(set) var pairs: [(key: PickleValue, value: PickleValue)] = []
    private var index: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let k = key.string, let i = index[k] {
            pairs[i].value = value
            return
        }
        if let k = key.string { index[k] = pairs.count }
        pairs.append((key, value))
    }

    public func value(forKey key: String) -> PickleValue? {
        index[key].map { pairs[$0].value }
    }
}
