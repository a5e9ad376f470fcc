import CBLAS

/// Matrix products over BLAS: the only place the project calls sgemm/dgemm.
/// Tensors are seen as matrices by flattening leading dimensions (`rows × lastDimension`).
public enum GEMM {
    /// c = alpha·op(a)·op(b) + beta·c, where op(a) is m×k, op(b) k×n and c m×n.
    /// a is stored k×m when `transA`, b is stored n×k when `transB` (row-major, as in cblas).
    @inlinable
    public static func matmul<T: TensorScalar>(
        _ a: Tensor<T>, _ b: Tensor<T>, into c: Tensor<T>,
        transA: Bool = false, transB: Bool = false, alpha: T = 1, beta: T = 0
    ) {
        let m = transA ? a.lastDimension : a.rows
        let k = transA ? a.rows : a.lastDimension
        let kb = transB ? b.lastDimension : b.rows
        let n = transB ? b.rows : b.lastDimension
        precondition(k == kb, "GEMM.matmul: inner dimensions differ: op(a) \(m)×\(k), op(b) \(kb)×\(n)")
        precondition(c.rows == m && c.lastDimension == n,
                     "GEMM.matmul: output \(c.shape) for a \(m)×\(n) product")
        GEMMCounter.count(m: m, n: n, k: k)
        StepProfiler.measure(.gemm) {
            product(transA: transA, transB: transB, m: m, n: n, k: k,
                    alpha: alpha, a: a.pointer, lda: a.lastDimension,
                    b: b.pointer, ldb: b.lastDimension,
                    beta: beta, c: c.pointer, ldc: c.lastDimension, threads: productThreads)
        }
    }

    /// c = alpha·op(a)·op(b) + beta·c on blocks of larger row-major matrices: op(a) is m×k, op(b)
    /// k×n, c m×n, each laid out with its leading dimension `ld*`. Attention multiplies one head's
    /// columns of the fused q|k|v rows, and only the blocks a causal mask leaves visible.
    @inlinable
    public static func block<T: TensorScalar>(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: T = 1,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        beta: T = 0, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        GEMMCounter.count(m: m, n: n, k: k)
        StepProfiler.measure(.gemm) {
            product(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: productThreads)
        }
    }

    /// Threads a product may use: the calling thread's share of the cores (a rank's share when
    /// ranks share the machine, every core for a single rank).
    @inlinable
    static var productThreads: Int { ComputeThreads.current }

    /// One product on `threads` threads: a large one as `GEMMPieces` blocks that the threads
    /// claim in order, on one thread too; others as one BLAS call. OpenBLAS runs every call on its
    /// caller's thread (`BLASThreads.pin`), so the bits depend on the shape alone: not on the
    /// thread count, the cores of the machine, or what another thread of the process is doing.
    @inlinable
    static func product<T: TensorScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int
    ) {
        BLASThreads.pin()
        let pieces = GEMMPieces(m: m, n: n, k: k)
        guard pieces.count > 1 else {
            T.blasGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        claimInOrder(pieces.count, threads: threads) { p in
            let r = pieces.range(p)
            if pieces.alongRows {
                // Rows of op(a): a's rows, or its columns when it is stored transposed.
                T.blasGEMM(transA: transA, transB: transB, m: r.count, n: n, k: k, alpha: alpha,
                           a: a + (transA ? r.lowerBound : r.lowerBound * lda), lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c + r.lowerBound * ldc, ldc: ldc)
            } else {
                T.blasGEMM(transA: transA, transB: transB, m: m, n: r.count, k: k, alpha: alpha,
                           a: a, lda: lda, b: b + (transB ? r.lowerBound * ldb : r.lowerBound), ldb: ldb,
                           beta: beta, c: c + r.lowerBound, ldc: ldc)
            }
        }
    }

    /// `batch` independent products c_i = alpha·op(a_i)·op(b_i) + beta·c_i, where matrix i of each
    /// operand starts `stride*` elements after matrix i-1 and is laid out with leading dimension
    /// `ld*`. Attention uses it for q·kᵀ and probs·v over (batch × heads).
    @inlinable
    public static func stridedBatched<T: TensorScalar>(
        batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T = 1,
        a: UnsafePointer<T>, lda: Int, strideA: Int,
        b: UnsafePointer<T>, ldb: Int, strideB: Int,
        beta: T = 0, c: UnsafeMutablePointer<T>, ldc: Int, strideC: Int
    ) {
        for _ in 0..<batch { GEMMCounter.count(m: m, n: n, k: k) }
        BLASThreads.pin()
        StepProfiler.measure(.gemm) {
            for i in 0..<batch {
                T.blasGEMM(transA: transA, transB: transB, m: m, n: n, k: k,
                           alpha: alpha, a: a + i * strideA, lda: lda,
                           b: b + i * strideB, ldb: ldb,
                           beta: beta, c: c + i * strideC, ldc: ldc)
            }
        }
    }
}

/// OpenBLAS's own thread pool, held at one thread: its threaded products differ in bits from its
/// one-thread products (its kernels' rounding depends on the blocks it hands each thread), and
/// its thread count is one number for the whole process, which a test, a rank or a bench running
/// beside could change under a product. Products are spread over threads by `GEMM` instead.
public enum BLASThreads {
    /// Sets OpenBLAS to one thread, once per process, before the first product.
    @usableFromInline static let pinnedToOne: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    @inlinable
    public static func pin() { _ = pinnedToOne }

    public static var current: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS's own pool at `n` threads, for the benches that measure that pool
    /// (`bench gemm`'s reference calls, `bench load`'s idle threads) and nothing else: no other
    /// product of the process may run until it returns.
    public static func measuringOwnThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        pin()
        openblas_set_num_threads(Int32(n))
        defer { openblas_set_num_threads(1) }
        return try body()
    }

    /// OpenBLAS's build description and the kernel it picked for this CPU.
    public static var configuration: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        return "\(config) [\(coreName)]"
    }

    /// The kernel family OpenBLAS picked for this CPU (e.g. Haswell, Zen, SkylakeX).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
}
