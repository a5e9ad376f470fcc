import TensorCore
import TensorParallel

extension GPTModel {
    /// Each layer's bytes kept for backward after the last forward, counted from its buffers
    /// (`ParallelTransformerLayer.activationsKeptForBackward`). Meaningful without activation
    /// recomputation, where each layer keeps its own.
    public var activationBytesKeptPerLayer: [Int] { encoder.layers.map(\.activationBytesKeptForBackward) }
}

extension BERTModel {
    /// As GPT's: each layer's bytes kept for backward, counted from its buffers.
    public var activationBytesKeptPerLayer: [Int] { body.encoder.layers.map(\.activationBytesKeptForBackward) }
}
