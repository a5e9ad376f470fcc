/// Which GeLU: the exact x·Φ(x) (Megatron's default) or OpenAI GPT-2's tanh approximation
/// x·½(1 + tanh(√(2/π)(x + 0.044715x³))) (Megatron's `--openai-gelu`).
public enum GeLUForm: String, Sendable, Codable, CaseIterable {
    case erf, tanh
}

public enum GeLU {
    // out, x: [n]; out may be x (but backward needs x).
    @inlinable
    public static func forward<T: TensorScalar>(out: Tensor<T>, x: Tensor<T>, form: GeLUForm) {
        precondition(out.count == x.count, "GeLU.forward: out \(out.shape) for x \(x.shape)")
        let o = out.pointer, xp = x.pointer
        parallelChunks(x.count) { range in
            let n = range.count, lo = range.lowerBound
            switch form {
            case .erf: map8(n, o + lo, xp + lo, ErfForward.self)
            case .tanh: map8(n, o + lo, xp + lo, TanhForward.self)
            }
        }
    }

    // dx, dOut, x: [n]; dx is written and may be dOut.
    @inlinable
    public static func backward<T: TensorScalar>(dx: Tensor<T>, dOut: Tensor<T>, x: Tensor<T>, form: GeLUForm) {
        precondition(dx.count == x.count && dOut.count == x.count,
                     "GeLU.backward: dx \(dx.shape), dOut \(dOut.shape) for x \(x.shape)")
        let d = dx.pointer, g = dOut.pointer, xp = x.pointer
        parallelChunks(x.count) { range in
            let n = range.count, lo = range.lowerBound
            switch form {
            case .erf: map8(n, d + lo, g + lo, xp + lo, ErfBackward.self)
            case .tanh: map8(n, d + lo, g + lo, xp + lo, TanhBackward.self)
            }
        }
    }

    @usableFromInline
    enum ErfForward: UnaryLaneFunction {
        @inlinable @inline(__always)
        static func apply<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T> {
            x * VectorMath.normalCDF(x)
        }
    }

    @usableFromInline
    enum TanhForward: UnaryLaneFunction {
        @inlinable @inline(__always)
        static func apply<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T> {
            x * VectorMath.halfOnePlusTanh(tanhArgument(x))
        }
    }

    /// dOut · d/dx x·Φ(x) = dOut · (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π).
    @usableFromInline
    enum ErfBackward: BinaryLaneFunction {
        @inlinable @inline(__always)
        static func apply<T: TensorScalar>(_ g: SIMD8<T>, _ x: SIMD8<T>) -> SIMD8<T> {
            let pdf = VectorMath.exp(x * x * -0.5) * T(0.39894228040143267794)
            return g * (VectorMath.normalCDF(x) + x * pdf)
        }
    }

    /// With s = ½(1 + tanh u): dOut · d/dx x·s = dOut · (s + x·2s(1 − s)·u').
    @usableFromInline
    enum TanhBackward: BinaryLaneFunction {
        @inlinable @inline(__always)
        static func apply<T: TensorScalar>(_ g: SIMD8<T>, _ x: SIMD8<T>) -> SIMD8<T> {
            let s = VectorMath.halfOnePlusTanh(tanhArgument(x))
            let du = (x * x * T(3 * 0.044715) + 1) * T(0.79788456080286535588)
            return g * (s + x * 2 * s * (1 - s) * du)
        }
    }

    /// u = √(2/π)·(x + 0.044715x³).
    @inlinable @inline(__always)
    static func tanhArgument<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T> {
        (x * x * T(0.044715) + 1) * x * T(0.79788456080286535588)
    }
}
