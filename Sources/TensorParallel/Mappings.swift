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
