import CHDF5
import Foundation

/// The serial HDF5 library is not thread-safe and ranks run as threads, so every call into it
/// goes through one lock. HDF5's own error printing is switched off on every call, because a
/// thread-safe build keeps that setting per thread: failures are reported as `HDF5Error`s
/// instead of a stack dump on stderr.
enum HDF5Library {
    private static let lock = NSLock()

    static func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        _ = chdf5_silence_errors()
        return try body()
    }
}

/// Where an object lives and what the user should do when it is unusable.
struct HDF5Location: Sendable {
    let file: String
    let remedy: String

    func error(_ kind: HDF5Error.Kind, _ object: String, _ problem: String, fix: String? = nil) -> HDF5Error {
        HDF5Error(kind, file: file, object: object, problem: problem, fix: fix ?? remedy)
    }
}

func childPath(_ parent: String, _ name: String) -> String {
    parent == "/" ? "/" + name : parent + "/" + name
}

/// `H5P_DEFAULT` imports as an `Int32` literal; the API takes `hid_t`.
let defaultPlist = hid_t(H5P_DEFAULT)
