import CHDF5
import Foundation

/// An HDF5 file opened for reading, or being written. A file being written lives under a
/// temporary name next to its final one and is renamed only by `commit()`, so a crash or an
/// error never leaves a half-written file under the name readers look for. HDF5's own file
/// locks (`flock`) are off: the rename already keeps readers from half-written files, and a
/// child process started meanwhile (`git`, `mpirun`, a shell) inherits the descriptor and with it
/// the lock, so that a later open of the finished file failed at random.
public final class HDF5File {
    public let path: String
    public let root: HDF5Group
    private let fileID: hid_t
    private let temporaryPath: String?
    private var isClosed = false

    /// Opens an existing file read-only. `remedy` is what the user should do when the file is
    /// missing or unusable (e.g. "re-run `megatron prepare wikitext`"); it ends every error.
    public init(reading path: String, remedy: String = "re-create the file") throws {
        let location = HDF5Location(file: path, remedy: remedy)
        guard FileManager.default.fileExists(atPath: path) else {
            throw location.error(.fileNotFound, "/", "no such file")
        }
        let id: hid_t = try HDF5Library.locked {
            guard H5Fis_hdf5(path) > 0 else {
                throw location.error(.notHDF5, "/", "not an HDF5 file (no HDF5 signature)")
            }
            let fapl = H5Pcreate(chdf5_file_access_plist())
            defer { _ = H5Pclose(fapl) }
            _ = H5Pset_file_locking(fapl, false, true)
            let id = H5Fopen(path, chdf5_acc_rdonly(), fapl)
            guard id >= 0 else {
                throw location.error(.notHDF5, "/", "not a readable HDF5 file, or truncated")
            }
            return id
        }
        self.path = path
        self.fileID = id
        self.temporaryPath = nil
        do {
            self.root = try HDF5Group(opening: "/", in: id, path: "/", location: location)
        } catch {
            HDF5Library.locked { _ = H5Fclose(id) }
            throw error
        }
    }

    /// Starts a new file that will appear at `path` when `commit()` succeeds. Object
    /// modification times are not recorded, so the same content gives the same bytes.
    public init(creating path: String, remedy: String = "check the directory exists and is writable") throws {
        let location = HDF5Location(file: path, remedy: remedy)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)").path
        let id: hid_t = try HDF5Library.locked {
            let fcpl = H5Pcreate(chdf5_file_create_plist())
            let fapl = H5Pcreate(chdf5_file_access_plist())
            defer { _ = H5Pclose(fcpl); _ = H5Pclose(fapl) }
            _ = H5Pset_obj_track_times(fcpl, false)
            _ = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
            _ = H5Pset_file_locking(fapl, false, true)
            let id = H5Fcreate(temporary, chdf5_acc_trunc(), fcpl, fapl)
            guard id >= 0 else {
                throw location.error(.writeFailed, "/", "cannot create \(temporary)")
            }
            return id
        }
        self.path = path
        self.fileID = id
        self.temporaryPath = temporary
        do {
            self.root = try HDF5Group(opening: "/", in: id, path: "/", location: location)
        } catch {
            HDF5Library.locked { _ = H5Fclose(id) }
            unlink(temporary)
            throw error
        }
    }

    /// Finishes a file being written: flushes, closes, and renames it to its final name.
    public func commit() throws {
        guard let temporaryPath, !isClosed else {
            preconditionFailure("commit() on a file opened for reading or already closed")
        }
        isClosed = true
        let status = HDF5Library.locked { H5Fclose(fileID) }
        let location = HDF5Location(file: path, remedy: "check free disk space and permissions")
        guard status >= 0 else {
            unlink(temporaryPath)
            throw location.error(.writeFailed, "/", "closing the file failed")
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw location.error(.writeFailed, "/", "cannot rename \(temporaryPath) to the final name: \(reason)")
        }
    }

    /// Closes the file now. A file being written that was never committed is discarded.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        HDF5Library.locked { _ = H5Fclose(fileID) }
        if let temporaryPath { unlink(temporaryPath) }
    }

    deinit { close() }
}
