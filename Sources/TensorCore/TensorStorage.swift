/// One zero-initialised, 64-byte-aligned allocation (a cache line, and an AVX-512 vector).
/// Tensors are views into a storage; the storage is freed when the last view goes away.
public final class TensorStorage<T: TensorScalar>: @unchecked Sendable {
    public static var alignment: Int { 64 }

    public let base: UnsafeMutablePointer<T>
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let bytes = Swift.max(count, 1) * MemoryLayout<T>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        // All-zero bits are 0.0 in Float and Double; one memset instead of a generic store per element.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: T.self, capacity: Swift.max(count, 1))
        self.count = count
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }
}
