import TensorCore

/// A checkpoint written by another tool, read as our full logical tensors: what the importer
/// needs, whichever format the weights come in.
public protocol ForeignCheckpoint: Sendable {
    var description: TransformerDescription { get }
    /// The file or directory, for error messages.
    var origin: String { get }
    /// Whether any weight is stored in float64: then the import keeps Double precision.
    var hasDoubleWeights: Bool { get }
    /// Our tensors it does not hold: a model built from it keeps its own initialisation there.
    var absent: [String] { get }
    /// Our tensor `name` in full, its vocabulary rows cut to the vocabulary and padded with
    /// zeros to `paddedVocabSize`.
    func tensor<T: TensorScalar>(_ name: String, paddedVocabSize: Int, as: T.Type) throws -> Tensor<T>
}

extension HuggingFaceModel: ForeignCheckpoint {
    public var origin: String { directory }
}

extension MegatronCheckpoint: ForeignCheckpoint {
    public var origin: String { directory }
    public var absent: [String] { [] }
}
