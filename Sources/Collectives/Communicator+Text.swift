/// Short texts gathered across ranks, for the checks a job makes before its first step (host
/// names, what each rank sees of a file). The collectives carry floating-point buffers only, so
/// each byte travels as a Double, exactly.
extension Communicator {
    /// Every rank's `text`, in rank order; a text longer than `maxBytes` UTF-8 bytes is cut there.
    public func allGather(text: String, maxBytes: Int = 1024) throws -> [String] {
        let bytes = Array(text.utf8.prefix(maxBytes))
        let stride = maxBytes + 1
        var mine = [Double](repeating: 0, count: stride)
        mine[0] = Double(bytes.count)
        for (i, byte) in bytes.enumerated() { mine[i + 1] = Double(byte) }
        var all = [Double](repeating: 0, count: stride * size)
        try mine.withUnsafeBufferPointer { input in
            try all.withUnsafeMutableBufferPointer { try allGather(input, into: $0) }
        }
        return (0..<size).map { rank in
            let block = all[(rank * stride)...]
            let count = Int(block[rank * stride])
            return String(decoding: block.dropFirst().prefix(count).map { UInt8($0) }, as: UTF8.self)
        }
    }
}
