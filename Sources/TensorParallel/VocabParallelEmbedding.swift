import TensorCore

/// The word embedding split along the (padded) vocabulary: rank r owns the contiguous id range
/// [r·V/t, (r+1)·V/t). Each rank looks up the ids it owns, writes zero rows for the rest, and g
/// sums the ranks' rows, so exactly one rank contributes each token's vector.
/// The output layer reuses `weight` (weight tying): the logits are vocabulary-parallel too.
public final class VocabParallelEmbedding<T: TensorScalar> {
    public let weight: Parameter<T>   // full [V, h], local [V/t, h]
    public let vocabRange: Range<Int>
    let group: TensorParallelGroup

    private var ids: [Int32] = []
    private var output = Reusable<T>()

    public init(name: String, paddedVocabSize: Int, hidden: Int, initStd: Double,
                initializer: ParameterInitializer, group: TensorParallelGroup) {
        self.group = group
        weight = Parameter(name: "\(name).weight",
                           full: initializer.normal("\(name).weight", shape: [paddedVocabSize, hidden], std: initStd),
                           partition: .split(dimension: 0, stride: 1), weightDecay: true, group: group)
        let perRank = paddedVocabSize / group.size
        vocabRange = (group.rank * perRank)..<((group.rank + 1) * perRank)
    }

    public var parameters: [Parameter<T>] { [weight] }

    // ids: [N] → [N, h], identical on every rank.
    @_specialize(where T == Float)
    public func forward(_ ids: [Int32]) throws -> Tensor<T> {
        self.ids = ids
        let out = output([ids.count, weight.value.lastDimension])
        Embedding.forward(out: out, table: weight.value, ids: ids, firstRow: vocabRange.lowerBound)
        try ReduceFromTensorParallelRegion.forward(out, group: group)
        return out
    }

    // dOut: [N, h] → the local table's rows accumulate; ids outside the range get nothing.
    @_specialize(where T == Float)
    public func backward(_ dOut: Tensor<T>) {
        let dOut = ReduceFromTensorParallelRegion.backward(dOut)
        Embedding.backward(dTable: weight.gradient, dOut: dOut, ids: ids, firstRow: vocabRange.lowerBound)
    }
}
