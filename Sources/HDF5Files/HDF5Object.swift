import CHDF5

/// A group or dataset: something attributes can hang on. Holds its HDF5 id and closes it
/// when released (unless the file was closed first, which closes everything in it).
public class HDF5Object {
    /// Path inside the file, e.g. "/tokens".
    public let path: String
    let id: hid_t
    let location: HDF5Location
    private let closeID: @Sendable (hid_t) -> herr_t

    init(id: hid_t, path: String, location: HDF5Location, close: @escaping @Sendable (hid_t) -> herr_t) {
        self.id = id
        self.path = path
        self.location = location
        self.closeID = close
    }

    func error(_ kind: HDF5Error.Kind, _ problem: String, at object: String? = nil, fix: String? = nil) -> HDF5Error {
        location.error(kind, object ?? path, problem, fix: fix)
    }

    deinit {
        let id = self.id
        let closeID = self.closeID
        HDF5Library.locked {
            if H5Iis_valid(id) > 0 { _ = closeID(id) }
        }
    }
}
