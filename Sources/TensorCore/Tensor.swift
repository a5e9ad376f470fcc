/// A dense, row-major view of `shape` elements starting at `offset` in a shared storage.
///
/// Tensors have reference semantics, as in PyTorch: a view and the tensor it came from see the
/// same memory, and writing through `pointer` is visible to both. Training reuses buffers across
/// steps, so nothing here copies unless its name says so (`copy()`, `narrowed(...)`).
public struct Tensor<T: TensorScalar>: @unchecked Sendable {
    public let storage: TensorStorage<T>
    public let offset: Int
    public let shape: [Int]
    public let count: Int

    /// A new zero-filled tensor.
    public init(zeros shape: [Int]) {
        let n = Tensor.elementCount(shape)
        self.init(storage: TensorStorage(count: n), offset: 0, shape: shape)
    }

    /// A new tensor holding `values` in row-major order.
    public init(shape: [Int], values: [T]) {
        precondition(values.count == Tensor.elementCount(shape),
                     "Tensor: \(values.count) values for shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// A view of `shape` elements of `storage` starting at `offset`.
    public init(storage: TensorStorage<T>, offset: Int, shape: [Int]) {
        let n = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + n <= storage.count,
                     "Tensor: view [\(offset), \(offset + n)) outside storage of \(storage.count)")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = n
    }

    @inlinable
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor: negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    @inlinable public var pointer: UnsafeMutablePointer<T> { storage.base + offset }
    @inlinable public var buffer: UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
    public var rank: Int { shape.count }
    /// The size of the last dimension (1 for a scalar).
    public var lastDimension: Int { shape.last ?? 1 }
    /// All leading dimensions flattened: the row count of the tensor seen as a matrix.
    public var rows: Int { lastDimension == 0 ? 0 : count / lastDimension }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count,
                     "Tensor.reshaped: \(shape) has \(count) elements, \(newShape) needs \(Tensor.elementCount(newShape))")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// Rows `range` of the first dimension, as a view.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(!shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "Tensor.rows: \(range) outside first dimension of \(shape)")
        let inner = shape.isEmpty ? 1 : count / Swift.max(shape[0], 1)
        var s = shape
        s[0] = range.count
        return Tensor(storage: storage, offset: offset + range.lowerBound * inner, shape: s)
    }

    /// Index `i` of the first dimension, as a view with one dimension fewer.
    public subscript(i: Int) -> Tensor {
        rows(i..<(i + 1)).reshaped(Array(shape.dropFirst()))
    }

    /// The element at a full multi-index (for tests and small lookups, not hot loops).
    public subscript(index index: [Int]) -> T {
        get { pointer[flatIndex(index)] }
        nonmutating set { pointer[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) for shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "Tensor: index \(index) outside shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// A new tensor with its own storage and the same contents.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Copies `other`'s elements (same element count) into this tensor.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "Tensor.assign: \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }

    /// self[k, ·] = source[indices[k], ·]: self [indices.count, w], source [N, w].
    public func gatherRows(_ indices: [Int], of source: Tensor) {
        let w = lastDimension
        precondition(source.lastDimension == w && rows == indices.count,
                     "Tensor.gatherRows: \(indices.count) rows of \(source.shape) into \(shape)")
        for (k, i) in indices.enumerated() { (pointer + k * w).update(from: source.pointer + i * w, count: w) }
    }

    /// self[indices[k], ·] = source[k, ·], other rows untouched: self [N, w], source [indices.count, w].
    public func scatterRows(_ indices: [Int], of source: Tensor) {
        let w = lastDimension
        precondition(source.lastDimension == w && source.rows == indices.count,
                     "Tensor.scatterRows: \(source.shape) into rows \(indices.count) of \(shape)")
        for (k, i) in indices.enumerated() { (pointer + i * w).update(from: source.pointer + k * w, count: w) }
    }

    /// A copy of `length` entries starting at `start` along `dimension` (e.g. a weight shard).
    public func narrowed(dimension: Int, start: Int, length: Int) -> Tensor {
        precondition(dimension >= 0 && dimension < rank, "Tensor.narrowed: dimension \(dimension) of \(shape)")
        precondition(start >= 0 && length >= 0 && start + length <= shape[dimension],
                     "Tensor.narrowed: [\(start), \(start + length)) outside dimension \(dimension) of \(shape)")
        var outShape = shape
        outShape[dimension] = length
        let out = Tensor(zeros: outShape)
        let outer = shape[..<dimension].reduce(1, *)
        let inner = shape[(dimension + 1)...].reduce(1, *)
        for o in 0..<outer {
            (out.pointer + o * length * inner).update(
                from: pointer + (o * shape[dimension] + start) * inner, count: length * inner)
        }
        return out
    }

    /// Writes `part` into entries [start, start + part.shape[dimension]) along `dimension`:
    /// the inverse of `narrowed`, used to gather shards back into a full tensor.
    public func place(_ part: Tensor, dimension: Int, start: Int) {
        let length = part.shape[dimension]
        precondition(part.rank == rank && start + length <= shape[dimension],
                     "Tensor.place: \(part.shape) at \(start) along \(dimension) of \(shape)")
        let outer = shape[..<dimension].reduce(1, *)
        let inner = shape[(dimension + 1)...].reduce(1, *)
        for o in 0..<outer {
            (pointer + (o * shape[dimension] + start) * inner).update(
                from: part.pointer + o * length * inner, count: length * inner)
        }
    }

    public func fill(_ value: T) {
        pointer.update(repeating: value, count: count)
    }

    public var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The same values in another scalar type (Float ↔ Double for gradient checks).
    public func converted<U: TensorScalar>(to _: U.Type = U.self) -> Tensor<U> {
        let out = Tensor<U>(zeros: shape)
        for i in 0..<count { out.pointer[i] = U(pointer[i]) }
        return out
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = array.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(T.dtypeName)>\(shape)[\(head)\(count > 8 ? ", …" : "")]"
    }
}
