import TensorCore

/// How one of our full tensors is made from a Hugging Face checkpoint's tensors, and back.
public enum TensorSource: Sendable, Equatable {
    /// The same layout.
    case same(String)
    /// GPT-2's Conv1D stores [in, out]; ours is [out, in].
    case transposed(String)
    /// Our rows are these tensors' rows stacked, in order (BERT's query; key; value).
    case rows([String])

    public var names: [String] {
        switch self {
        case let .same(n), let .transposed(n): return [n]
        case let .rows(ns): return ns
        }
    }

    /// Each source tensor's shape, given ours.
    func sourceShapes(ours: [Int]) -> [[Int]] {
        switch self {
        case .same: return [ours]
        case .transposed: return [ours.reversed()]
        case let .rows(names): return names.map { _ in [ours[0] / names.count] + ours.dropFirst() }
        }
    }

    /// Ours from the sources (already checked against `sourceShapes`).
    func combine<T: TensorScalar>(_ sources: [Tensor<T>]) -> Tensor<T> {
        switch self {
        case .same: return sources[0]
        case .transposed: return Self.transpose(sources[0])
        case .rows:
            let rows = sources[0].shape[0]
            let out = Tensor<T>(zeros: [rows * sources.count] + sources[0].shape.dropFirst())
            for (i, s) in sources.enumerated() { out.place(s, dimension: 0, start: i * rows) }
            return out
        }
    }

    /// The sources from ours: the inverse of `combine`.
    func split<T: TensorScalar>(_ ours: Tensor<T>) -> [Tensor<T>] {
        switch self {
        case .same: return [ours.copy()]
        case .transposed: return [Self.transpose(ours)]
        case let .rows(names):
            let rows = ours.shape[0] / names.count
            return names.indices.map { ours.narrowed(dimension: 0, start: $0 * rows, length: rows) }
        }
    }

    // [r, c] → [c, r]
    static func transpose<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> {
        let (r, c) = (x.shape[0], x.shape[1])
        let out = Tensor<T>(zeros: [c, r])
        let a = x.pointer, b = out.pointer
        for i in 0..<r {
            for j in 0..<c { b[j * r + i] = a[i * c + j] }
        }
        return out
    }
}
