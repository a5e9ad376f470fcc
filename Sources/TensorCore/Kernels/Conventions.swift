// How the kernels in this folder are written.
//
// Each kernel is an enum with a `forward` and a `backward` side by side; arguments come outputs
// first, then inputs, then settings (llm.c's order), and a one-line comment gives the shapes.
//
// Gradient convention, the same in every backward:
// - gradients of PARAMETERS (layer-norm γ and β, biases, embedding table) ACCUMULATE (`+=`), so
//   micro-batches and tied weights add up and the optimizer zeroes them once per step;
// - gradients of INPUTS (activations) are WRITTEN (`=`), so no activation gradient needs zeroing.
//   Where a gradient reaches a tensor along two paths (the residual stream), the caller joins
//   the two with `ResidualAdd.forward` on the gradients.
// An input gradient may be the same tensor as the output gradient it comes from wherever a
// backward says so, which lets the backward pass run in place.
//
// Vectorization: kernels run on `SIMD8<T>` lanes, which an AVX2 register holds for Float. The
// transcendental functions go through `VectorMath`, which computes Float lanes with polynomial
// approximations (libm's expf/erff do not vectorize) and Double lanes with libm (RealModule), so
// the Double path stays the exact reference the gradient checks use. Rows whose length is not a
// multiple of 8 finish with a partial vector (`load8(_:count:padding:)`, `store8(_:_:count:)`).
//
// Threads: elementwise kernels split elements, row kernels split rows, with `parallelChunks`;
// column sums (parameter gradients) use per-chunk partial sums added in chunk order, so a result
// depends on the thread count only through float rounding, never on timing.

/// Eight lanes from `p[0..<8]`, at any alignment.
@inlinable @inline(__always)
func load8<T: TensorScalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}

/// Lanes `p[0..<count]` (count < 8), the rest set to `padding`.
@inlinable @inline(__always)
func load8<T: TensorScalar>(_ p: UnsafePointer<T>, count: Int, padding: T) -> SIMD8<T> {
    var v = SIMD8<T>(repeating: padding)
    for i in 0..<count { v[i] = p[i] }
    return v
}

@inlinable @inline(__always)
func store8<T: TensorScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
}

/// Writes lanes `0..<count` of `v` (count < 8) to `p`.
@inlinable @inline(__always)
func store8<T: TensorScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

/// out[i] = f(a[i]) for i in 0..<n, eight lanes at a time; `out` may be `a`.
@inlinable @inline(__always)
func map8<T: TensorScalar>(
    _ n: Int, _ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>,
    _ f: (SIMD8<T>) -> SIMD8<T>
) {
    var i = 0
    // Two independent vectors per step: the polynomial chains of one overlap the other's.
    while i + 16 <= n {
        let y0 = f(load8(a + i)), y1 = f(load8(a + i + 8))
        store8(y0, out + i)
        store8(y1, out + i + 8)
        i += 16
    }
    if i + 8 <= n {
        store8(f(load8(a + i)), out + i)
        i += 8
    }
    if i < n { store8(f(load8(a + i, count: n - i, padding: 0)), out + i, count: n - i) }
}

/// out[i] = f(a[i], b[i]) for i in 0..<n, eight lanes at a time; `out` may be `a` or `b`.
@inlinable @inline(__always)
func map8<T: TensorScalar>(
    _ n: Int, _ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
    _ f: (SIMD8<T>, SIMD8<T>) -> SIMD8<T>
) {
    var i = 0
    while i + 16 <= n {
        let y0 = f(load8(a + i), load8(b + i)), y1 = f(load8(a + i + 8), load8(b + i + 8))
        store8(y0, out + i)
        store8(y1, out + i + 8)
        i += 16
    }
    if i + 8 <= n {
        store8(f(load8(a + i), load8(b + i)), out + i)
        i += 8
    }
    if i < n {
        let r = n - i
        store8(f(load8(a + i, count: r, padding: 0), load8(b + i, count: r, padding: 0)), out + i, count: r)
    }
}

/// A lane function as a type. `map8` specialized for one inlines `apply` into its loop, which
/// it does not do for a closure as large as GeLU's (a call per vector costs half the speed).
@usableFromInline
protocol UnaryLaneFunction {
    static func apply<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T>
}

@usableFromInline
protocol BinaryLaneFunction {
    static func apply<T: TensorScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T>
}

/// out[i] = F(a[i]) for i in 0..<n; `out` may be `a`.
@inlinable @inline(__always)
func map8<T: TensorScalar, F: UnaryLaneFunction>(
    _ n: Int, _ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _: F.Type
) {
    var i = 0
    while i + 16 <= n {
        let y0 = F.apply(load8(a + i)), y1 = F.apply(load8(a + i + 8))
        store8(y0, out + i)
        store8(y1, out + i + 8)
        i += 16
    }
    if i + 8 <= n {
        store8(F.apply(load8(a + i)), out + i)
        i += 8
    }
    if i < n { store8(F.apply(load8(a + i, count: n - i, padding: 0)), out + i, count: n - i) }
}

/// out[i] = F(a[i], b[i]) for i in 0..<n; `out` may be `a` or `b`.
@inlinable @inline(__always)
func map8<T: TensorScalar, F: BinaryLaneFunction>(
    _ n: Int, _ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _: F.Type
) {
    var i = 0
    while i + 16 <= n {
        let y0 = F.apply(load8(a + i), load8(b + i)), y1 = F.apply(load8(a + i + 8), load8(b + i + 8))
        store8(y0, out + i)
        store8(y1, out + i + 8)
        i += 16
    }
    if i + 8 <= n {
        store8(F.apply(load8(a + i), load8(b + i)), out + i)
        i += 8
    }
    if i < n {
        let r = n - i
        store8(F.apply(load8(a + i, count: r, padding: 0), load8(b + i, count: r, padding: 0)), out + i, count: r)
    }
}

/// The largest lane.
@inlinable @inline(__always)
func horizontalMax<T: TensorScalar>(_ v: SIMD8<T>) -> T {
    var m = v[0]
    for i in 1..<8 where v[i] > m { m = v[i] }
    return m
}

/// Rows per chunk below which a row kernel stays on one thread: about 32K elements of work.
@inlinable
func rowGrain(_ width: Int) -> Int { Swift.max(1, (1 << 15) / Swift.max(width, 1)) }

/// Like `parallelChunks`, but each part of the rows gets its own zeroed scratch of `width`
/// elements; after all parts finish, `combine` receives the scratches in part order. Column sums
/// over rows (parameter gradients) use it: no two threads write the same memory, and the parts,
/// so the order of every addition, depend only on `count` and `grain`, never on the thread count:
/// a gradient has the same bits on any machine and under either collective engine.
@inlinable
func parallelPartialSums<T: TensorScalar>(
    _ count: Int, grain: Int, width: Int,
    _ body: (Range<Int>, UnsafeMutablePointer<T>) -> Void,
    combine: (UnsafePointer<T>) -> Void
) {
    StepProfiler.measure(.kernels) { runPartialSums(count, grain: grain, width: width, body, combine: combine) }
}

/// At most this many partial sums: enough parts for the cores a rank gets, few enough that
/// combining them costs little beside the rows.
@usableFromInline let partialSumParts = 16

@inlinable
func runPartialSums<T: TensorScalar>(
    _ count: Int, grain: Int, width: Int,
    _ body: (Range<Int>, UnsafeMutablePointer<T>) -> Void,
    combine: (UnsafePointer<T>) -> Void
) {
    let parts = Swift.min(partialSumParts, Swift.max(1, count / Swift.max(grain, 1)))
    let threads = Swift.min(ComputeThreads.current, parts)
    let scratch = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(parts * width, 1))
    scratch.initialize(repeating: 0, count: Swift.max(parts * width, 1))
    defer { scratch.deallocate() }
    if threads <= 1 {
        for p in 0..<parts { body((p * count / parts)..<((p + 1) * count / parts), scratch + p * width) }
    } else {
        claimInOrder(parts, threads: threads) { p in
            ComputeThreads.alone { body((p * count / parts)..<((p + 1) * count / parts), scratch + p * width) }
        }
    }
    for p in 0..<parts { combine(scratch + p * width) }
}
