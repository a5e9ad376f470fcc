#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One zero-initialised, 64-byte-aligned allocation (a cache line, and an AVX-512 vector).
/// Tensors are views into a storage; the storage is freed when the last view goes away.
///
/// Storages of `mappedBytes` or more get pages of their own from the kernel: they arrive zeroed,
/// and freeing one returns its memory at once, so the resident set follows the live tensors
/// (malloc keeps freed large blocks for reuse, and a model's initialization temporaries would
/// stay resident for the whole run).
public final class TensorStorage<T: TensorScalar>: @unchecked Sendable {
    public static var alignment: Int { 64 }
    static var mappedBytes: Int { 1 << 20 }

    public let base: UnsafeMutablePointer<T>
    public let count: Int
    private let mapped: Int

    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let bytes = Swift.max(count, 1) * MemoryLayout<T>.stride
        self.count = count
        if bytes >= Self.mappedBytes, let pages = TensorStorage.map(bytes) {
            mapped = bytes
            base = pages.bindMemory(to: T.self, capacity: count)
            return
        }
        mapped = 0
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        // All-zero bits are 0.0 in Float and Double; one memset instead of a generic store per element.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    deinit {
        if mapped > 0 {
            munmap(UnsafeMutableRawPointer(base), mapped)
        } else {
            UnsafeMutableRawPointer(base).deallocate()
        }
    }

    /// Fresh zero pages, or nil where the kernel refuses (the caller falls back to malloc).
    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let pages = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let pages, pages != MAP_FAILED else { return nil }
        return pages
    }
}
