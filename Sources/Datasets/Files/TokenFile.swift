import HDF5Files

/// What every prepared file records about its origin: checked against the tokenizer a run
/// uses, so a model never trains on ids from a different vocabulary.
public struct TokenFileHeader: Sendable, Equatable {
    public var kind: TokenFileSchema.Kind
    public var tokenizer: String
    public var vocabSize: Int
    public var vocabSHA256: String
    public var sourceFile: String
    public var sourceSHA256: String

    public init(kind: TokenFileSchema.Kind, tokenizer: String, vocabSize: Int, vocabSHA256: String,
                sourceFile: String, sourceSHA256: String) {
        self.kind = kind
        self.tokenizer = tokenizer
        self.vocabSize = vocabSize
        self.vocabSHA256 = vocabSHA256
        self.sourceFile = sourceFile
        self.sourceSHA256 = sourceSHA256
    }
}

/// A prepared token file (schema in docs/data-format.md), read whole into memory: the token
/// stream and document offsets, validated, plus access to the kind-specific datasets.
public struct TokenFile {
    public let path: String
    public let header: TokenFileHeader
    public let tokens: [Int32]
    /// Token offsets of the documents (examples, sequences), `documentCount + 1` of them.
    public let documentOffsets: [Int]
    let root: HDF5Group
    let remedy: String

    public var documentCount: Int { documentOffsets.count - 1 }

    public func document(_ index: Int) -> ArraySlice<Int32> {
        tokens[documentOffsets[index]..<documentOffsets[index + 1]]
    }

    /// Opens `path`, which must hold data of `kind`. `remedy` ends every error (e.g. the
    /// `megatron prepare` command that makes this file).
    public init(path: String, kind: TokenFileSchema.Kind, remedy: String) throws {
        let file = try HDF5File(reading: path, remedy: remedy)
        let root = file.root
        func fail(_ field: String, _ problem: String) -> DataFileError {
            DataFileError(file: path, field: field, problem: problem, fix: remedy)
        }
        typealias A = TokenFileSchema.Attribute
        guard (try? root.stringAttribute(A.format)) == TokenFileSchema.formatName else {
            throw fail("/@" + A.format, "not a megatron-swift token file")
        }
        let version = try root.attribute(A.formatVersion, as: Int64.self)
        guard version == TokenFileSchema.formatVersion else {
            throw fail("/@" + A.formatVersion, "format version \(version), this build reads \(TokenFileSchema.formatVersion)")
        }
        let storedKind = try root.stringAttribute(A.kind)
        guard storedKind == kind.rawValue else {
            throw fail("/@" + A.kind, "holds \(storedKind) data, expected \(kind.rawValue)")
        }
        let header = TokenFileHeader(
            kind: kind, tokenizer: try root.stringAttribute(A.tokenizer),
            vocabSize: Int(try root.attribute(A.vocabSize, as: Int64.self)),
            vocabSHA256: try root.stringAttribute(A.vocabSHA256),
            sourceFile: try root.stringAttribute(A.sourceFile),
            sourceSHA256: try root.stringAttribute(A.sourceSHA256))
        let tokens = try root.dataset(TokenFileSchema.Dataset.tokens).read(as: Int32.self)
        guard let maximum = Self.maximum(tokens), maximum < header.vocabSize || tokens.isEmpty else {
            throw fail("/" + TokenFileSchema.Dataset.tokens, "holds ids outside the vocabulary of \(header.vocabSize)")
        }
        let offsets = try Self.offsets(root, TokenFileSchema.Dataset.documentOffsets, total: tokens.count, path: path, remedy: remedy)
        self.path = path
        self.header = header
        self.tokens = tokens
        self.documentOffsets = offsets
        self.root = root
        self.remedy = remedy
    }

    /// Checks that data prepared with one vocabulary is used with the same one.
    public func checkCompatible(tokenizer name: String, vocabSize: Int, vocabSHA256: String) throws {
        typealias A = TokenFileSchema.Attribute
        let fix = "use the tokenizer and vocabulary the file was prepared with, or re-run `megatron prepare` with this one"
        if name != header.tokenizer {
            throw DataFileError(file: path, field: "/@" + A.tokenizer,
                                problem: "prepared with tokenizer \(header.tokenizer), given \(name)", fix: fix)
        }
        if vocabSize != header.vocabSize {
            throw DataFileError(file: path, field: "/@" + A.vocabSize,
                                problem: "prepared with a vocabulary of \(header.vocabSize), given \(vocabSize)", fix: fix)
        }
        if vocabSHA256 != header.vocabSHA256 {
            throw DataFileError(file: path, field: "/@" + A.vocabSHA256,
                                problem: "prepared with vocabulary files of checksum \(header.vocabSHA256), given \(vocabSHA256)",
                                fix: fix)
        }
    }

    public func integerAttribute(_ name: String) throws -> Int {
        Int(try root.attribute(name, as: Int64.self))
    }

    /// A kind-specific 1-D dataset that must hold exactly `count` values.
    public func dataset<T: HDF5Scalar>(_ name: String, as type: T.Type, count: Int) throws -> [T] {
        let dataset = try root.dataset(name)
        guard dataset.shape == [count] else {
            throw DataFileError(file: path, field: "/" + name,
                                problem: "has shape \(dataset.shape), expected [\(count)]", fix: remedy)
        }
        return try dataset.read(as: type)
    }

    /// Offsets into a stream of `total` items: start at 0, never decrease, end at `total`.
    public func offsets(_ name: String, total: Int) throws -> [Int] {
        try Self.offsets(root, name, total: total, path: path, remedy: remedy)
    }

    static func offsets(_ root: HDF5Group, _ name: String, total: Int, path: String, remedy: String) throws -> [Int] {
        let stored = try root.dataset(name).read(as: Int64.self)
        let valid = stored.first == 0 && stored.last == Int64(total) && zip(stored, stored.dropFirst()).allSatisfy { $0 <= $1 }
        guard valid else {
            throw DataFileError(file: path, field: "/" + name,
                                problem: "offsets must rise from 0 to \(total) (the length they index)", fix: remedy)
        }
        return stored.map { Int($0) }
    }

    static func maximum(_ values: [Int32]) -> Int32? {
        values.withUnsafeBufferPointer { buffer -> Int32? in
            guard !buffer.isEmpty else { return Int32.max }
            var lanes = SIMD8<Int32>(repeating: Int32.min)
            var minimum = SIMD8<Int32>(repeating: Int32.max)
            var index = 0
            while index + 8 <= buffer.count {
                let chunk = SIMD8<Int32>(buffer[index..<index + 8])
                lanes = pointwiseMax(lanes, chunk)
                minimum = pointwiseMin(minimum, chunk)
                index += 8
            }
            var top = lanes.max()
            var bottom = minimum.min()
            while index < buffer.count {
                top = max(top, buffer[index])
                bottom = min(bottom, buffer[index])
                index += 1
            }
            return bottom < 0 ? nil : top
        }
    }
}

/// Writes a token file: the common attributes, `/tokens` (uint16 when every id fits, else
/// int32), `/doc_offsets`, then whatever `extra` adds; renamed into place only when complete.
public func writeTokenFile(path: String, header: TokenFileHeader, tokens: [Int32], documentOffsets: [Int],
                           extra: (HDF5Group) throws -> Void = { _ in }) throws {
    precondition(documentOffsets.first == 0 && documentOffsets.last == tokens.count, "offsets must span the tokens")
    let file = try HDF5File(creating: path)
    let root = file.root
    typealias A = TokenFileSchema.Attribute
    try root.setAttribute(A.format, TokenFileSchema.formatName)
    try root.setAttribute(A.formatVersion, TokenFileSchema.formatVersion)
    try root.setAttribute(A.kind, header.kind.rawValue)
    try root.setAttribute(A.tokenizer, header.tokenizer)
    try root.setAttribute(A.vocabSize, Int64(header.vocabSize))
    try root.setAttribute(A.vocabSHA256, header.vocabSHA256)
    try root.setAttribute(A.sourceFile, header.sourceFile)
    try root.setAttribute(A.sourceSHA256, header.sourceSHA256)
    if header.vocabSize < 65536 {
        try root.createDataset(TokenFileSchema.Dataset.tokens, tokens.map { UInt16(truncatingIfNeeded: $0) })
    } else {
        try root.createDataset(TokenFileSchema.Dataset.tokens, tokens)
    }
    try root.createDataset(TokenFileSchema.Dataset.documentOffsets, documentOffsets.map { Int64($0) })
    try extra(root)
    try file.commit()
}
