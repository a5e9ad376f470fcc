/// How a large product is cut into blocks of rows (or columns) of c that a rank's compute
/// threads claim in order (`claimInOrder`), each block one single-threaded BLAS call.
///
/// OpenBLAS's own threads split a product statically, one part per thread, and wait for each
/// other inside it, yielding the processor: beside another process every product waits for the
/// thread that shares its core. The blocks depend only on the shape, so a product has the same
/// bits whatever the thread count above one and whichever thread runs which block. They are not
/// the bits of OpenBLAS's threaded call (which differ from its one-thread call's too: its
/// kernels' rounding depends on the blocks they are given).
@usableFromInline
struct GEMMPieces {
    /// Rows of c a block holds at least: each block packs the whole of the other operand again,
    /// about 1/width of the multiply-adds' time, so narrower blocks would cost idle speed.
    @usableFromInline static let minimumWidth = 256
    /// Multiply-adds a block holds at least (about 0.1 ms on one core), far above a claim's cost.
    @usableFromInline static let minimumWork = 1 << 22
    /// At most this many blocks: four for each of 4 threads.
    @usableFromInline static let maximumCount = 16

    /// Whether the blocks are rows of c (else columns): the longer side is cut.
    @usableFromInline let alongRows: Bool
    /// Rows (or columns) of c in all, in each block but the last (a multiple of 32, the
    /// kernels' widest unroll), and the number of blocks.
    @usableFromInline let extent: Int
    @usableFromInline let width: Int
    @usableFromInline let count: Int

    /// The blocks of an m×n product over k.
    @inlinable
    init(m: Int, n: Int, k: Int) {
        alongRows = m >= n
        extent = alongRows ? m : n
        let wanted = Swift.min(Self.maximumCount, extent / Self.minimumWidth, m * n * k / Self.minimumWork)
        guard wanted > 1 else {
            width = extent
            count = 1
            return
        }
        width = ((extent + wanted - 1) / wanted + 31) / 32 * 32
        count = (extent + width - 1) / width
    }

    /// The rows (or columns) of c in block `p`.
    @inlinable
    func range(_ p: Int) -> Range<Int> { (p * width)..<Swift.min(extent, (p + 1) * width) }
}
