import TensorCore

// Megatron's conjugate operators at the border of the tensor-parallel region (paper Fig. 3).
// Each forward's dual is its backward; both are no-ops when the group has one rank.

/// f: identity forward, all-reduce of the gradient backward. It stands before a column-parallel
/// layer, whose ranks each contribute a partial gradient of the replicated input.
public enum CopyToTensorParallelRegion {
    // x: [.., h] is used as is.
    public static func forward<T>(_ x: Tensor<T>) -> Tensor<T> { x }
    // dx: [.., h] is summed over the group in place.
    public static func backward<T>(_ dx: Tensor<T>, group: TensorParallelGroup) throws {
        try group.allReduce(dx)
    }
}

/// g: all-reduce forward, identity backward. It follows a row-parallel layer, whose ranks each
/// hold a partial sum of the output.
public enum ReduceFromTensorParallelRegion {
    // y: [.., h] is summed over the group in place.
    public static func forward<T>(_ y: Tensor<T>, group: TensorParallelGroup) throws {
        try group.allReduce(y)
    }
    // dy: [.., h] passes unchanged.
    public static func backward<T>(_ dy: Tensor<T>) -> Tensor<T> { dy }
}

/// Keep this rank's block of the last dimension forward; all-gather it back backward.
public enum ScatterToTensorParallelRegion {
    // x: [.., D] → part: [.., D/t]
    public static func forward<T>(_ x: Tensor<T>, into part: Tensor<T>, group: TensorParallelGroup) {
        group.sliceLastDimension(x, into: part)
    }
    // dPart: [.., D/t] → dx: [.., D]; scratch: t × dPart.count
    public static func backward<T>(_ dPart: Tensor<T>, into dx: Tensor<T>, scratch: Tensor<T>,
                                   group: TensorParallelGroup) throws {
        try group.allGatherLastDimension(dPart, into: dx, scratch: scratch)
    }
}

/// All-gather the last dimension forward; keep this rank's block of the gradient backward.
public enum GatherFromTensorParallelRegion {
    // part: [.., D/t] → x: [.., D]; scratch: t × part.count
    public static func forward<T>(_ part: Tensor<T>, into x: Tensor<T>, scratch: Tensor<T>,
                                  group: TensorParallelGroup) throws {
        try group.allGatherLastDimension(part, into: x, scratch: scratch)
    }
    // dx: [.., D] → dPart: [.., D/t]
    public static func backward<T>(_ dx: Tensor<T>, into dPart: Tensor<T>, group: TensorParallelGroup) {
        group.sliceLastDimension(dx, into: dPart)
    }
}

// Sequence parallelism's conjugates (Korthikanti et al. 2022, §4.2.2): between the
// tensor-parallel regions each rank holds its shard of the sequence, [b·s/t, h]
// (`SequenceShards`); an all-gather and a reduce-scatter take the place of each all-reduce and
// move the same bytes. `sequences` is b; the scratch holds b·s·h elements.

/// Keep this rank's sequence shard forward; all-gather the shards' gradients backward. It enters
/// the sequence-parallel region from a replicated activation (the embedding's output).
public enum ScatterToSequenceParallelRegion {
    // x: [b·s, h] → part: [b·s/t, h]
    public static func forward<T>(_ x: Tensor<T>, into part: Tensor<T>, group: TensorParallelGroup, sequences: Int) {
        group.sliceSequence(x, into: part, sequences: sequences)
    }
    // dPart: [b·s/t, h] → dx: [b·s, h]
    public static func backward<T>(_ dPart: Tensor<T>, into dx: Tensor<T>, scratch: Tensor<T>,
                                   group: TensorParallelGroup, sequences: Int) throws {
        try group.allGatherSequence(dPart, into: dx, scratch: scratch, sequences: sequences)
    }
}

/// All-gather the sequence forward; backward, reduce-scatter the gradient when each rank holds a
/// partial sum of it (in front of a column-parallel layer, in place of f), or keep this rank's
/// shard when every rank holds all of it (in front of replicated heads).
public enum GatherFromSequenceParallelRegion {
    // part: [b·s/t, h] → x: [b·s, h]
    public static func forward<T>(_ part: Tensor<T>, into x: Tensor<T>, scratch: Tensor<T>,
                                  group: TensorParallelGroup, sequences: Int) throws {
        try group.allGatherSequence(part, into: x, scratch: scratch, sequences: sequences)
    }
    // dx: [b·s, h], partial on each rank → dPart: [b·s/t, h] of the sum
    public static func backward<T>(_ dx: Tensor<T>, into dPart: Tensor<T>, scratch: Tensor<T>,
                                   group: TensorParallelGroup, sequences: Int) throws {
        try group.reduceScatterSequence(dx, into: dPart, scratch: scratch, sequences: sequences)
    }
    // dx: [b·s, h], whole on every rank → dPart: [b·s/t, h]
    public static func backwardOfWholeGradient<T>(_ dx: Tensor<T>, into dPart: Tensor<T>,
                                                  group: TensorParallelGroup, sequences: Int) {
        group.sliceSequence(dx, into: dPart, sequences: sequences)
    }
}

/// Reduce-scatter forward; all-gather the gradient backward. It follows a row-parallel layer, in
/// place of g: each rank keeps the sum of the partial outputs on its shard of the sequence.
public enum ReduceScatterToSequenceParallelRegion {
    // y: [b·s, h], partial on each rank → part: [b·s/t, h] of the sum
    public static func forward<T>(_ y: Tensor<T>, into part: Tensor<T>, scratch: Tensor<T>,
                                  group: TensorParallelGroup, sequences: Int) throws {
        try group.reduceScatterSequence(y, into: part, scratch: scratch, sequences: sequences)
    }
    // dPart: [b·s/t, h] → dy: [b·s, h]
    public static func backward<T>(_ dPart: Tensor<T>, into dy: Tensor<T>, scratch: Tensor<T>,
                                   group: TensorParallelGroup, sequences: Int) throws {
        try group.allGatherSequence(dPart, into: dy, scratch: scratch, sequences: sequences)
    }
}
