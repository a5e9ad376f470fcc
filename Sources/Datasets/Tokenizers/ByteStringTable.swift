/// An open-addressing hash map from byte strings to `Int32`, its keys packed in one arena, so
/// looking up a slice of a larger buffer neither allocates nor copies (Swift's
/// `Dictionary<[UInt8], _>` would need an array per lookup).
struct ByteStringTable: Sendable {
    private struct Slot {
        var hash: UInt64
        var keyStart: Int
        var keyLength: Int32   // -1: empty
        var value: Int32
    }

    private var slots: [Slot]
    private var keys: [UInt8] = []
    private(set) var count = 0

    init(minimumCapacity: Int = 16) {
        var size = 16
        while size < 2 * minimumCapacity { size *= 2 }
        slots = [Slot](repeating: Slot(hash: 0, keyStart: 0, keyLength: -1, value: 0), count: size)
    }

    /// Bytes of all keys held: what the arena costs.
    var keyBytes: Int { keys.count }

    /// The value stored for `key[0..<length]`, or nil.
    @inline(__always)
    func value(_ key: UnsafePointer<UInt8>, length: Int) -> Int32? {
        let hash = Self.hash(key, length)
        return slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBufferPointer { keys in
                let mask = slots.count - 1
                var i = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let slot = slots[i]
                    if slot.keyLength < 0 { return nil }
                    if slot.hash == hash && Int(slot.keyLength) == length
                        && (length == 0 || Self.equal(keys.baseAddress! + slot.keyStart, key, length)) {
                        return slot.value
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    func value(_ key: [UInt8]) -> Int32? {
        withAddress(key) { value($0, length: key.count) }
    }

    /// Stores `value` for `key[0..<length]`, replacing an earlier value (the last one wins, as
    /// in a Python dict built line by line).
    mutating func insert(_ key: UnsafePointer<UInt8>, length: Int, value: Int32) {
        if 2 * (count + 1) > slots.count { grow() }
        let hash = Self.hash(key, length)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].keyLength >= 0 {
            let slot = slots[i]
            if slot.hash == hash && Int(slot.keyLength) == length
                && (length == 0 || keys.withUnsafeBufferPointer({ Self.equal($0.baseAddress! + slot.keyStart, key, length) })) {
                slots[i].value = value
                return
            }
            i = (i + 1) & mask
        }
        let start = keys.count
        keys.append(contentsOf: UnsafeBufferPointer(start: key, count: length))
        slots[i] = Slot(hash: hash, keyStart: start, keyLength: Int32(length), value: value)
        count += 1
    }

    mutating func insert(_ key: [UInt8], value: Int32) {
        withAddress(key) { insert($0, length: key.count, value: value) }
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i].keyLength = -1 }
        keys.removeAll(keepingCapacity: true)
        count = 0
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(hash: 0, keyStart: 0, keyLength: -1, value: 0), count: 2 * old.count)
        let mask = slots.count - 1
        for slot in old where slot.keyLength >= 0 {
            var i = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[i].keyLength >= 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }

    /// Byte equality without a call to memcmp, which costs more than the comparison for keys
    /// this short.
    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= length {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < length {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// A multiply-xor hash over 8-byte words (the tokens are short, so per-byte FNV would cost
    /// more than the rest of a lookup).
    @inline(__always)
    static func hash(_ key: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        let m: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = UInt64(truncatingIfNeeded: length) &* m
        let raw = UnsafeRawPointer(key)
        var i = 0
        while i + 8 <= length {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* m
            h ^= h >> 29
            i += 8
        }
        if i < length {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while i < length {
                word |= UInt64(key[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ word) &* m
            h ^= h >> 29
        }
        h = (h ^ (h >> 32)) &* m
        return h ^ (h >> 31)
    }
}

/// `body` on the address of `key`'s bytes; an empty key gets the address of a zero byte.
private func withAddress<R>(_ key: [UInt8], _ body: (UnsafePointer<UInt8>) -> R) -> R {
    if key.isEmpty {
        var zero: UInt8 = 0
        return withUnsafePointer(to: &zero) { body($0) }
    }
    return key.withUnsafeBufferPointer { body($0.baseAddress!) }
}
