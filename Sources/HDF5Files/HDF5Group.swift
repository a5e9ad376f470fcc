import CHDF5

/// A group: a folder of named datasets and groups.
public final class HDF5Group: HDF5Object {
    init(opening name: String, in parent: hid_t, path: String, location: HDF5Location) throws {
        let id = HDF5Library.locked { H5Gopen2(parent, name, defaultPlist) }
        guard id >= 0 else {
            throw location.error(.objectNotFound, path, "group not found")
        }
        super.init(id: id, path: path, location: location, close: { H5Gclose($0) })
    }

    private init(creating name: String, in parent: hid_t, path: String, location: HDF5Location) throws {
        let id = HDF5Library.locked {
            let gcpl = H5Pcreate(chdf5_group_create_plist())
            defer { _ = H5Pclose(gcpl) }
            _ = H5Pset_obj_track_times(gcpl, false)
            return H5Gcreate2(parent, name, defaultPlist, gcpl, defaultPlist)
        }
        guard id >= 0 else {
            throw location.error(.writeFailed, path, "cannot create group (does it exist already?)")
        }
        super.init(id: id, path: path, location: location, close: { H5Gclose($0) })
    }

    /// Names of the members, in the file's name order.
    public func names() throws -> [String] {
        try HDF5Library.locked {
            var info = H5G_info_t()
            guard H5Gget_info(id, &info) >= 0 else {
                throw error(.readFailed, "cannot list the group")
            }
            return try (0..<info.nlinks).map { index in
                let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, defaultPlist)
                guard length >= 0 else { throw error(.readFailed, "cannot read member name \(index)") }
                var bytes = [CChar](repeating: 0, count: Int(length) + 1)
                _ = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &bytes, bytes.count, defaultPlist)
                return String(decoding: bytes.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    /// Whether a direct member called `name` exists.
    public func contains(_ name: String) -> Bool {
        HDF5Library.locked { H5Lexists(id, name, defaultPlist) > 0 }
    }

    public func group(_ name: String) throws -> HDF5Group {
        guard contains(name) else {
            throw error(.objectNotFound, "group not found", at: childPath(path, name))
        }
        return try HDF5Group(opening: name, in: id, path: childPath(path, name), location: location)
    }

    public func createGroup(_ name: String) throws -> HDF5Group {
        try HDF5Group(creating: name, in: id, path: childPath(path, name), location: location)
    }

    public func dataset(_ name: String) throws -> HDF5Dataset {
        guard contains(name) else {
            throw error(.objectNotFound, "dataset not found", at: childPath(path, name))
        }
        return try HDF5Dataset(opening: name, in: id, path: childPath(path, name), location: location)
    }

    /// Writes `values` as a new contiguous dataset of the given shape (default: 1-D).
    @discardableResult
    public func createDataset<T: HDF5Scalar>(_ name: String, _ values: [T], shape: [Int]? = nil) throws -> HDF5Dataset {
        try values.withUnsafeBufferPointer { try createDataset(name, $0, shape: shape) }
    }

    @discardableResult
    public func createDataset<T: HDF5Scalar>(_ name: String, _ values: UnsafeBufferPointer<T>,
                                             shape: [Int]? = nil) throws -> HDF5Dataset {
        let shape = shape ?? [values.count]
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        let objectPath = childPath(path, name)
        let id: hid_t = try HDF5Library.locked {
            var dims = shape.map { hsize_t($0) }
            let space = H5Screate_simple(Int32(dims.count), &dims, nil)
            let dcpl = H5Pcreate(chdf5_dataset_create_plist())
            defer { _ = H5Sclose(space); _ = H5Pclose(dcpl) }
            _ = H5Pset_obj_track_times(dcpl, false)
            let id = H5Dcreate2(self.id, name, T.fileType, space, defaultPlist, dcpl, defaultPlist)
            guard id >= 0 else {
                throw error(.writeFailed, "cannot create dataset (does it exist already?)", at: objectPath)
            }
            if values.count > 0, H5Dwrite(id, T.memoryType, H5S_ALL, H5S_ALL, defaultPlist, values.baseAddress) < 0 {
                _ = H5Dclose(id)
                throw error(.writeFailed, "writing \(values.count) values failed", at: objectPath,
                            fix: "check free disk space")
            }
            return id
        }
        return HDF5Dataset(id: id, path: objectPath, location: location, shape: shape,
                           storedType: HDF5StoredType.of(T.fileType)!)
    }
}
