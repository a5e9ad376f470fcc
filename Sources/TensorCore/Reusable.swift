/// A tensor reused across steps: reallocated only when the shape it must hold changes, so a
/// training loop at a fixed batch shape allocates its activations once.
public struct Reusable<T: TensorScalar> {
    private var tensor: Tensor<T>?

    public init() {}

    public mutating func callAsFunction(_ shape: [Int]) -> Tensor<T> {
        if let t = tensor, t.shape == shape { return t }
        let t = Tensor<T>(zeros: shape)
        tensor = t
        return t
    }
}
