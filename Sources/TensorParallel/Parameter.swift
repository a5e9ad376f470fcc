import TensorCore

/// How a parameter's full (tp = 1) tensor is laid across the ranks of a tensor-parallel group.
public enum Partition: Sendable, Equatable {
    /// Every rank holds the whole tensor (layer norms, row-parallel biases, position embeddings);
    /// the gradients are identical on every rank because the inputs are.
    case replicated
    /// The full tensor is cut along `dimension` into `stride × tp` equal chunks and rank r keeps
    /// chunks r, r + tp, r + 2·tp, … in order. Stride 3 gives each rank its own block of the
    /// fused [Q; K; V] rows; stride 1 is a plain contiguous split.
    case split(dimension: Int, stride: Int)

    /// This rank's part of `full`, as a new tensor.
    public func shard<T>(_ full: Tensor<T>, rank: Int, size: Int) -> Tensor<T> {
        guard case let .split(dimension, stride) = self else { return full.copy() }
        let chunk = Partition.chunkLength(full.shape[dimension], stride: stride, size: size)
        var shape = full.shape
        shape[dimension] = chunk * stride
        let out = Tensor<T>(zeros: shape)
        for s in 0..<stride {
            let piece = full.narrowed(dimension: dimension, start: (s * size + rank) * chunk, length: chunk)
            out.place(piece, dimension: dimension, start: s * chunk)
        }
        return out
    }

    /// Writes `part`, rank `rank`'s shard, into its places in `full`: the inverse of `shard`.
    public func place<T>(_ part: Tensor<T>, rank: Int, size: Int, into full: Tensor<T>) {
        guard case let .split(dimension, stride) = self else {
            full.assign(part)
            return
        }
        let chunk = Partition.chunkLength(full.shape[dimension], stride: stride, size: size)
        for s in 0..<stride {
            let piece = part.narrowed(dimension: dimension, start: s * chunk, length: chunk)
            full.place(piece, dimension: dimension, start: (s * size + rank) * chunk)
        }
    }

    /// The shape of one rank's shard of a tensor of `fullShape`.
    public func shardShape(_ fullShape: [Int], size: Int) -> [Int] {
        guard case let .split(dimension, stride) = self else { return fullShape }
        var shape = fullShape
        shape[dimension] = Partition.chunkLength(fullShape[dimension], stride: stride, size: size) * stride
        return shape
    }

    static func chunkLength(_ length: Int, stride: Int, size: Int) -> Int {
        precondition(length % (stride * size) == 0,
                     "Partition: dimension of \(length) does not split into \(stride) × \(size) chunks")
        return length / (stride * size)
    }
}

/// A learnable tensor as one rank holds it: its value and gradient (this rank's shard, or the
/// whole tensor when replicated) and how that relates to the full tensor a tp = 1 run holds.
///
/// `value` and `gradient` are `var` because a `ParameterSet` moves every parameter into one
/// flat buffer after the model is built; layers read them through the parameter, never cache them.
public final class Parameter<T: TensorScalar>: @unchecked Sendable {
    /// A dotted path that says what the tensor is ("layers.3.attention.qkv.weight").
    public let name: String
    public let fullShape: [Int]
    public let partition: Partition
    /// False for biases and layer-norm parameters: AdamW decays everything else.
    public let weightDecay: Bool
    /// A replicated parameter applied to sequence shards (Megatron's `param.sequence_parallel`):
    /// each rank's gradient covers its own positions and is summed over the group once per step.
    public let sequenceParallel: Bool
    public internal(set) var value: Tensor<T>
    public internal(set) var gradient: Tensor<T>

    /// This rank's part of `full`, the master tensor every rank builds identically from the seed:
    /// the shard is then an exact slice of the tp = 1 parameter.
    public init(name: String, full: Tensor<T>, partition: Partition, weightDecay: Bool,
                group: TensorParallelGroup, sequenceParallel: Bool = false) {
        self.name = name
        self.fullShape = full.shape
        self.partition = partition
        self.weightDecay = weightDecay
        self.sequenceParallel = sequenceParallel
        self.value = partition.shard(full, rank: group.rank, size: group.size)
        self.gradient = Tensor(zeros: value.shape)
    }

    /// True when every rank of a tensor-parallel group holds the same tensor.
    public var isReplicated: Bool { partition == .replicated }
}
