/// A pickle virtual machine for the opcodes `torch.save` emits (protocol 2, and the few of
/// protocols 3–4 a newer writer may use), that builds data only. GLOBAL resolves through
/// `PickleGlobal`'s allow-list and fails by name otherwise; REDUCE, NEWOBJ and BUILD act only on
/// allow-listed globals and never call anything; persistent ids become storage references whose
/// bytes the caller reads. Every length is checked against the bytes left before it is used, so
/// a damaged or hostile pickle ends in a named error, never a crash, a hang or a huge allocation.
struct RestrictedUnpickler {
    let file: String
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Every storage a persistent id referred to, by key.
    private(set) var storages: [String: TorchStorage] = [:]

    init(file: String, bytes: UnsafeRawBufferPointer, start: Int = 0) {
        self.file = file
        self.bytes = bytes
        position = start
    }

    /// Runs from the current position to STOP; returns the value and leaves `position` after it.
    mutating func load() throws -> PickleValue {
        stack = []
        marks = []
        memo = [:]
        while true {
            let at = position
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()                                   // PROTO
            case 0x95: _ = try take(8)                                  // FRAME
            case 0x2E:                                                  // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail(at, "STOP with \(stack.count) values on the stack") }
                return stack[0]
            case 0x28: marks.append(stack.count)                        // MARK
            case 0x4E: stack.append(.none)                              // NONE
            case 0x88: stack.append(.bool(true))                        // NEWTRUE
            case 0x89: stack.append(.bool(false))                       // NEWFALSE
            case 0x4A: stack.append(.int(Int(Int32(bitPattern: UInt32(try littleEndian(4))))))  // BININT
            case 0x4B: stack.append(.int(Int(try byte())))              // BININT1
            case 0x4D: stack.append(.int(try littleEndian(2)))          // BININT2
            case 0x8A: stack.append(try long(count: Int(try byte())))   // LONG1
            case 0x8B: stack.append(try long(count: try length(4)))     // LONG4
            case 0x47:                                                  // BINFLOAT, big-endian
                let raw = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                stack.append(.float(Double(bitPattern: raw)))
            case 0x58: stack.append(.string(try text(try length(4), at)))       // BINUNICODE
            case 0x8C: stack.append(.string(try text(Int(try byte()), at)))     // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try text(try length(8), at)))       // BINUNICODE8
            case 0x54: stack.append(.string(try text(try length(4), at)))       // BINSTRING
            case 0x55: stack.append(.string(try text(Int(try byte()), at)))     // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(try take(try length(4))))            // BINBYTES
            case 0x43: stack.append(.bytes(try take(Int(try byte()))))          // SHORT_BINBYTES
            case 0x7D: stack.append(.dict(PickleDict()))                // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))                // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                         // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popMark(at)))            // TUPLE
            case 0x85, 0x86, 0x87:                                      // TUPLE1–3
                let n = Int(opcode - 0x84)
                stack.append(.tuple(try pop(n, at)))
            case 0x61:                                                  // APPEND
                let item = try pop(1, at)[0]
                try list(at).items.append(item)
            case 0x65:                                                  // APPENDS
                let items = try popMark(at)
                try list(at).items += items
            case 0x73:                                                  // SETITEM
                let kv = try pop(2, at)
                try dict(at).set(kv[0], kv[1])
            case 0x75:                                                  // SETITEMS
                let kv = try popMark(at)
                guard kv.count % 2 == 0 else { throw fail(at, "SETITEMS with an odd number of values") }
                let d = try dict(at)
                for i in stride(from: 0, to: kv.count, by: 2) { d.set(kv[i], kv[i + 1]) }
            case 0x71: try put(Int(try byte()), at)                     // BINPUT
            case 0x72: try put(try littleEndian(4), at)                 // LONG_BINPUT
            case 0x94: try put(memo.count, at)                          // MEMOIZE
            case 0x68: try get(Int(try byte()), at)                     // BINGET
            case 0x6A: try get(try littleEndian(4), at)                 // LONG_BINGET
            case 0x30: _ = try pop(1, at)                               // POP
            case 0x31: _ = try popMark(at)                              // POP_MARK
            case 0x32: stack.append(try top(at))                        // DUP
            case 0x63:                                                  // GLOBAL
                let module = try line(at), name = try line(at)
                stack.append(.global(try global(module, name)))
            case 0x93:                                                  // STACK_GLOBAL
                let names = try pop(2, at)
                guard let module = names[0].string, let name = names[1].string else {
                    throw fail(at, "STACK_GLOBAL without two strings")
                }
                stack.append(.global(try global(module, name)))
            case 0x52:                                                  // REDUCE
                let parts = try pop(2, at)
                guard case let .tuple(arguments) = parts[1] else { throw fail(at, "REDUCE without an argument tuple") }
                stack.append(try call(parts[0], arguments, at))
            case 0x81:                                                  // NEWOBJ
                let parts = try pop(2, at)
                guard case let .tuple(arguments) = parts[1] else { throw fail(at, "NEWOBJ without an argument tuple") }
                stack.append(try call(parts[0], arguments, at))
            case 0x62:                                                  // BUILD
                let state = try pop(1, at)[0]
                try build(try top(at), state: state, at)
            case 0x51:                                                  // BINPERSID
                stack.append(try persistent(try pop(1, at)[0], at))
            default:
                throw fail(at, "opcode 0x\(String(opcode, radix: 16)) is not one torch.save writes")
            }
        }
    }

    // MARK: reading bytes

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated(1) }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else { throw truncated(count) }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    private mutating func littleEndian(_ count: Int) throws -> Int {
        try take(count).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    /// A length field, which must fit in what is left of the file.
    private mutating func length(_ count: Int) throws -> Int {
        let at = position
        let raw = try take(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard raw <= UInt64(bytes.count - position) else {
            throw fail(at, "a length of \(raw) bytes, past the \(bytes.count - position) left")
        }
        return Int(raw)
    }

    private mutating func text(_ count: Int, _ at: Int) throws -> String {
        guard let s = String(validating: try take(count), as: UTF8.self) else { throw fail(at, "a string that is not UTF-8") }
        return s
    }

    private mutating func line(_ at: Int) throws -> String {
        var out: [UInt8] = []
        while true {
            let b = try byte()
            if b == 0x0A { break }
            guard out.count < 256 else { throw fail(at, "a GLOBAL name longer than 256 bytes") }
            out.append(b)
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail(at, "a GLOBAL name that is not UTF-8") }
        return s
    }

    private mutating func long(count: Int) throws -> PickleValue {
        let raw = try take(count)
        guard count <= 8 else { return .bigInt(raw) }
        guard count > 0 else { return .int(0) }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if raw.last! & 0x80 != 0 && count < 8 { value |= ~UInt64(0) << (8 * count) }
        return .int(Int(Int64(bitPattern: value)))
    }

    // MARK: the stack

    private mutating func pop(_ n: Int, _ at: Int) throws -> [PickleValue] {
        guard stack.count - n >= (marks.last ?? 0) else { throw fail(at, "the stack holds fewer than \(n) values") }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private mutating func popMark(_ at: Int) throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail(at, "no MARK to pop to") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private func top(_ at: Int) throws -> PickleValue {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else { throw fail(at, "an empty stack") }
        return last
    }

    private func list(_ at: Int) throws -> PickleList {
        guard case let .list(l) = try top(at) else { throw fail(at, "APPEND to something not a list") }
        return l
    }

    private func dict(_ at: Int) throws -> PickleDict {
        guard let d = try top(at).entries else { throw fail(at, "SETITEM on something not a dict") }
        return d
    }

    private mutating func put(_ index: Int, _ at: Int) throws {
        memo[index] = try top(at)
    }

    private mutating func get(_ index: Int, _ at: Int) throws {
        guard let value = memo[index] else { throw fail(at, "memo entry \(index) read before it is written") }
        stack.append(value)
    }

    // MARK: globals, without calling them

    private func global(_ module: String, _ name: String) throws -> PickleGlobal {
        guard let known = PickleGlobal.named(module: module, name: name) else {
            throw CheckpointFormatError.forbiddenGlobal(file: file, global: "\(module).\(name)")
        }
        return known
    }

    private func call(_ callee: PickleValue, _ arguments: [PickleValue], _ at: Int) throws -> PickleValue {
        guard case let .global(g) = callee else { throw fail(at, "a call of something not a global") }
        switch g {
        case .orderedDict:
            guard arguments.isEmpty else { throw fail(at, "OrderedDict built from arguments") }
            return .dict(PickleDict())
        case .namespace:
            guard arguments.isEmpty else { throw fail(at, "argparse.Namespace built from arguments") }
            return .namespace(PickleDict())
        case .rebuildTensor, .rebuildTensorV2:
            return .tensor(try tensor(arguments, at))
        case .rebuildParameter:
            guard case .tensor? = arguments.first else { throw fail(at, "_rebuild_parameter without a tensor") }
            return arguments[0]
        case .latin1Bytes:
            guard arguments.count == 2, let text = arguments[0].string, arguments[1].string == "latin1",
                  text.unicodeScalars.allSatisfy({ $0.value < 256 }) else {
                throw fail(at, "_codecs.encode other than of a latin-1 string")
            }
            return .bytes(text.unicodeScalars.map { UInt8($0.value) })
        case let .placeholder(name):
            return .placeholder(name)
        case let .storageType(type):
            throw fail(at, "a call of torch.\(type.rawValue)Storage, which torch.save never writes")
        case let .dtype(name):
            throw fail(at, "a call of torch.\(name)")
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    private func tensor(_ a: [PickleValue], _ at: Int) throws -> TorchTensor {
        guard a.count >= 4, case let .storage(storage) = a[0], let offset = a[1].int, offset >= 0,
              case let .tuple(size) = a[2], case let .tuple(strides) = a[3] else {
            throw fail(at, "a tensor rebuilt from other than (storage, offset, size, stride, …)")
        }
        let shape = size.compactMap(\.int), steps = strides.compactMap(\.int)
        guard shape.count == size.count, steps.count == strides.count, shape.count == steps.count,
              shape.allSatisfy({ $0 >= 0 }), steps.allSatisfy({ $0 >= 0 }) else {
            throw fail(at, "a tensor whose size \(size) and stride \(strides) are not lists of as many natural numbers")
        }
        return TorchTensor(storage: storage, offset: offset, shape: shape, strides: steps)
    }

    private func build(_ target: PickleValue, state: PickleValue, _ at: Int) throws {
        switch target {
        case let .namespace(attributes):
            guard let d = state.entries else { throw fail(at, "argparse.Namespace given a state that is not a dict") }
            for (k, v) in d.pairs { attributes.set(k, v) }
        case .dict, .tensor, .placeholder:
            return  // an OrderedDict's _metadata, a tensor's Python attributes, a placeholder's state: not needed
        default:
            throw fail(at, "BUILD on a value that takes no state")
        }
    }

    /// `('storage', torch.XStorage, key, location, count[, view_metadata])`.
    private mutating func persistent(_ id: PickleValue, _ at: Int) throws -> PickleValue {
        guard case let .tuple(t) = id, t.count >= 5, t[0].string == "storage",
              case let .global(.storageType(type)) = t[1], let key = t[2].string, let count = t[4].int, count >= 0 else {
            throw fail(at, "a persistent id that is not ('storage', torch.XStorage, key, location, count)")
        }
        let storage = TorchStorage(type: type, key: key, count: count)
        if let seen = storages[key], seen != storage {
            throw fail(at, "storage \(key) referred to as \(seen.type.rawValue) × \(seen.count) and as \(type.rawValue) × \(count)")
        }
        storages[key] = storage
        return .storage(storage)
    }

    // MARK: errors

    private func fail(_ at: Int, _ problem: String) -> CheckpointFormatError {
        .pickle(file: file, offset: at, problem: problem)
    }

    private func truncated(_ needed: Int) -> CheckpointFormatError {
        .truncated(file: file, part: "pickle at byte \(position)", needed: position + needed, size: bytes.count)
    }
}
