import Collectives
import TensorCore

/// A model's parameters moved into one flat value buffer and one flat gradient buffer: the
/// optimizer is one loop per weight-decay class, zeroing is one fill, and the data-parallel
/// gradient reduction is one all-reduce. The parameters AdamW decays come first, then the
/// biases and layer norms, each part in model order.
public final class ParameterSet<T: TensorScalar>: @unchecked Sendable {
    public let parameters: [Parameter<T>]
    public let values: Tensor<T>
    public let gradients: Tensor<T>
    /// The elements of the decayed parameters; the rest of the buffers are not decayed.
    public let decayed: Range<Int>

    /// Each parameter starts on a 64-byte boundary, so its rows load as aligned vectors.
    static var alignmentElements: Int { TensorStorage<T>.alignment / MemoryLayout<T>.stride }

    /// The elements a parameter of `count` elements takes in the flat buffers (and so in the
    /// data-parallel all-reduce), its start rounded to the alignment.
    public static func alignedCount(_ count: Int) -> Int {
        (count + alignmentElements - 1) / alignmentElements * alignmentElements
    }

    public init(_ parameters: [Parameter<T>]) {
        var names = Set<String>()
        for p in parameters {
            precondition(names.insert(p.name).inserted, "ParameterSet: parameter \(p.name) appears twice")
        }
        let parameters = parameters.filter(\.weightDecay) + parameters.filter { !$0.weightDecay }
        var offsets: [Int] = []
        var total = 0, decayedEnd = 0
        for p in parameters {
            offsets.append(total)
            total += ParameterSet.alignedCount(p.value.count)
            if p.weightDecay { decayedEnd = total }
        }
        decayed = 0..<decayedEnd
        values = Tensor(zeros: [total])
        gradients = Tensor(zeros: [total])
        for (p, offset) in zip(parameters, offsets) {
            let value = Tensor(storage: values.storage, offset: offset, shape: p.value.shape)
            value.assign(p.value)
            p.value = value
            p.gradient = Tensor(storage: gradients.storage, offset: offset, shape: p.gradient.shape)
        }
        self.parameters = parameters
    }

    @_specialize(where T == Float)
    public func zeroGradients() {
        gradients.fill(0)
    }

    /// Averages the gradients over the data-parallel group with a single all-reduce.
    @_specialize(where T == Float)
    public func averageGradients(over dataParallel: any Communicator) throws {
        guard dataParallel.size > 1 else { return }
        try dataParallel.allReduce(gradients, op: .sum)
        let scale = 1 / T(dataParallel.size)
        let g = gradients.pointer
        parallelChunks(gradients.count) { range in
            for i in range { g[i] *= scale }
        }
    }

    /// Sums the gradients of the sequence-parallel parameters (layer norms on sequence shards) over
    /// the tensor-parallel group, so that every rank holds the whole-sequence gradient a tp = 1 run
    /// computes. Once per step, after the last micro-batch's backward: the gradients accumulate.
    @_specialize(where T == Float)
    public func reduceSequenceParallelGradients(over group: TensorParallelGroup) throws {
        for p in parameters where p.sequenceParallel {
            try group.allReduce(p.gradient)
        }
    }

    /// The full (tp = 1) tensor of `tensor`, one of parameter `p`'s value or gradient shards:
    /// every rank of the group receives the same result.
    public static func gathered(_ tensor: Tensor<T>, of p: Parameter<T>, group: TensorParallelGroup) throws -> Tensor<T> {
        let full = Tensor<T>(zeros: p.fullShape)
        guard !p.isReplicated, group.size > 1 else {
            full.assign(tensor)
            return full
        }
        let shards = Tensor<T>(zeros: [group.size, tensor.count])
        try group.communicator.allGather(tensor.reshaped([tensor.count]), into: shards.reshaped([shards.count]))
        for r in 0..<group.size {
            p.partition.place(shards[r].reshaped(tensor.shape), rank: r, size: group.size, into: full)
        }
        return full
    }
}
