import TensorCore

/// The collectives on tensors, the form the parallel layers use. A tensor's elements are
/// contiguous, so each call passes its whole buffer.
extension Communicator {
    @inlinable
    public func allReduce<T: TensorScalar>(_ tensor: Tensor<T>, op: ReduceOp = .sum) throws {
        try StepProfiler.measure(.communication) { try allReduce(tensor.buffer, op: op) }
    }

    /// `output` holds `size` blocks of `input.count` elements, rank 0's first.
    @inlinable
    public func allGather<T: TensorScalar>(_ input: Tensor<T>, into output: Tensor<T>) throws {
        try StepProfiler.measure(.communication) { try allGather(UnsafeBufferPointer(input.buffer), into: output.buffer) }
    }

    /// `input` holds `size` blocks of `output.count` elements; this rank keeps block `rank`.
    @inlinable
    public func reduceScatter<T: TensorScalar>(
        _ input: Tensor<T>, into output: Tensor<T>, op: ReduceOp = .sum
    ) throws {
        try StepProfiler.measure(.communication) {
            try reduceScatter(UnsafeBufferPointer(input.buffer), into: output.buffer, op: op)
        }
    }

    @inlinable
    public func broadcast<T: TensorScalar>(_ tensor: Tensor<T>, root: Int) throws {
        try StepProfiler.measure(.communication) { try broadcast(tensor.buffer, root: root) }
    }

    /// A copy of `tensor` to group rank `peer` (buffered: returns before the peer receives it).
    @inlinable
    public func send<T: TensorScalar>(_ tensor: Tensor<T>, to peer: Int) throws {
        try StepProfiler.measure(.communication) { try send(UnsafeBufferPointer(tensor.buffer), to: peer) }
    }

    /// Fills `tensor` with the next message from group rank `peer`.
    @inlinable
    public func recv<T: TensorScalar>(_ tensor: Tensor<T>, from peer: Int) throws {
        try StepProfiler.measure(.communication) { try recv(tensor.buffer, from: peer) }
    }

    /// `split(color:key:name:)` with the group's name and the color, "world.color1".
    public func split(color: Int, key: Int) throws -> any Communicator {
        try split(color: color, key: key, name: "\(name).color\(color)")
    }
}
