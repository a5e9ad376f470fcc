/// A tensor reused across steps: its storage grows to the largest shape asked for and is kept,
/// so a training loop allocates its activations once even where a shape varies from step to step
/// (the rows BERT's masked-LM head scores). The contents are whatever the last user left.
public struct Reusable<T: TensorScalar> {
    private var tensor: Tensor<T>?

    public init() {}

    public mutating func callAsFunction(_ shape: [Int]) -> Tensor<T> {
        if let t = tensor, t.shape == shape { return t }
        let t: Tensor<T>
        if let old = tensor, old.storage.count >= Tensor<T>.elementCount(shape) {
            t = Tensor(storage: old.storage, offset: 0, shape: shape)
        } else {
            t = Tensor(zeros: shape)
        }
        tensor = t
        return t
    }
}
