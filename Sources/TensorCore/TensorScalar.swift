import CBLAS
import RealModule

/// The element types a tensor can hold: Float for training, Double for gradient checks.
/// Each brings its own BLAS entry point so generic code reaches sgemm or dgemm without branching.
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Codable, Sendable {
    /// Row-major C = alpha·op(A)·op(B) + beta·C, with op(A) m×k and op(B) k×n.
    static func blasGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// A short name for messages and file attributes ("float32", "float64").
    static var dtypeName: String { get }
}

@inline(__always)
@usableFromInline
func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: TensorScalar {
    @inlinable
    public static func blasGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, cblasTranspose(transA), cblasTranspose(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    public static var dtypeName: String { "float32" }
}

extension Double: TensorScalar {
    @inlinable
    public static func blasGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, cblasTranspose(transA), cblasTranspose(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    public static var dtypeName: String { "float64" }
}
