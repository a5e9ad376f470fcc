import Datasets

/// Where a trainer's micro-batches come from: one rank's batches in order, and the position
/// that a checkpoint records so a resumed run reads exactly the batches that would have come next.
public protocol MicroBatchSource<Batch> {
    associatedtype Batch
    mutating func next() throws -> Batch
    /// The position of the batch `next()` returns next.
    var position: LoaderPosition { get }
}

extension GPTLoader: MicroBatchSource {}
extension BERTLoader: MicroBatchSource {}
extension RACELoader: MicroBatchSource {}

/// A source whose batches are converted on the way (a loader's batch into a model's input).
public struct MappedMicroBatchSource<Base: MicroBatchSource, Batch>: MicroBatchSource {
    public var base: Base
    let transform: (Base.Batch) throws -> Batch

    public mutating func next() throws -> Batch { try transform(try base.next()) }
    public var position: LoaderPosition { base.position }
}

extension MicroBatchSource {
    public func map<B>(_ transform: @escaping (Batch) throws -> B) -> MappedMicroBatchSource<Self, B> {
        MappedMicroBatchSource(base: self, transform: transform)
    }
}
