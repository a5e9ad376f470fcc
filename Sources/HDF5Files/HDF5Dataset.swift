import CHDF5

/// A stored n-dimensional array. Reads check the stored type and the stored extent first, so
/// a file that claims more than it holds fails with an error before anything is allocated.
public final class HDF5Dataset: HDF5Object {
    public let shape: [Int]
    public let storedType: HDF5StoredType
    public var count: Int { shape.reduce(1, *) }

    init(id: hid_t, path: String, location: HDF5Location, shape: [Int], storedType: HDF5StoredType) {
        self.shape = shape
        self.storedType = storedType
        super.init(id: id, path: path, location: location, close: { H5Dclose($0) })
    }

    convenience init(opening name: String, in parent: hid_t, path: String, location: HDF5Location) throws {
        let (id, shape, type) = try HDF5Library.locked { () throws -> (hid_t, [Int], HDF5StoredType) in
            let id = H5Dopen2(parent, name, defaultPlist)
            guard id >= 0 else { throw location.error(.objectNotFound, path, "not a dataset") }
            let space = H5Dget_space(id)
            let typeID = H5Dget_type(id)
            defer { _ = H5Sclose(space); _ = H5Tclose(typeID) }
            let rank = Int(H5Sget_simple_extent_ndims(space))
            var dims = [hsize_t](repeating: 0, count: max(rank, 0))
            guard rank >= 0, H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else {
                _ = H5Dclose(id)
                throw location.error(.invalidContent, path, "unreadable dataspace")
            }
            guard let type = HDF5StoredType.of(typeID) else {
                _ = H5Dclose(id)
                throw location.error(.wrongType, path, "holds neither integers nor floats")
            }
            return (id, dims.map { Int($0) }, type)
        }
        self.init(id: id, path: path, location: location, shape: shape, storedType: type)
    }

    /// Reads the whole dataset.
    public func read<T: HDF5Scalar>(as type: T.Type = T.self) throws -> [T] {
        try checkReadable(as: type, elements: count)
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                let status = HDF5Library.locked {
                    H5Dread(id, T.memoryType, H5S_ALL, H5S_ALL, defaultPlist, buffer.baseAddress)
                }
                guard status >= 0 else { throw error(.readFailed, "reading \(count) values failed") }
            }
            initialized = count
        }
    }

    /// Reads elements `range` of a 1-D dataset.
    public func read<T: HDF5Scalar>(_ range: Range<Int>, as type: T.Type = T.self) throws -> [T] {
        try [T](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            try read(range, into: buffer)
            initialized = range.count
        }
    }

    /// Reads elements `range` of a 1-D dataset into `buffer` (which must hold `range.count`).
    public func read<T: HDF5Scalar>(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        precondition(buffer.count >= range.count, "buffer of \(buffer.count) for \(range.count) values")
        guard shape.count == 1 else {
            throw error(.wrongShape, "a range read needs a 1-D dataset, this one has shape \(shape)")
        }
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw error(.outOfRange, "elements \(range) requested, the dataset has \(count)",
                        fix: "the index or offsets that point here are inconsistent with the data; re-create the file")
        }
        try checkReadable(as: T.self, elements: count)
        guard !range.isEmpty else { return }
        let status = HDF5Library.locked { () -> herr_t in
            let fileSpace = H5Dget_space(id)
            var start = [hsize_t(range.lowerBound)]
            var length = [hsize_t(range.count)]
            let memorySpace = H5Screate_simple(1, &length, nil)
            defer { _ = H5Sclose(fileSpace); _ = H5Sclose(memorySpace) }
            guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &length, nil) >= 0 else { return -1 }
            return H5Dread(id, T.memoryType, memorySpace, fileSpace, defaultPlist, buffer.baseAddress)
        }
        guard status >= 0 else { throw error(.readFailed, "reading elements \(range) failed") }
    }

    private func checkReadable<T: HDF5Scalar>(as _: T.Type, elements: Int) throws {
        guard storedType.losslesslyConverts(to: T.self) else {
            throw error(.wrongType, "stores \(storedType), which cannot be read as \(T.self) without loss")
        }
        guard elements > 0 else { return }
        let needed = elements * storedType.byteCount
        let (stored, offset, fileSize) = HDF5Library.locked { () -> (Int, Int, Int) in
            var size: hsize_t = 0
            let fileID = H5Iget_file_id(id)
            defer { _ = H5Fclose(fileID) }
            _ = H5Fget_filesize(fileID, &size)
            let offset = H5Dget_offset(id)
            return (Int(H5Dget_storage_size(id)), offset == haddr_t.max ? -1 : Int(offset), Int(size))
        }
        guard stored >= needed, offset >= 0, offset + needed <= fileSize else {
            throw error(.invalidContent,
                        "claims \(elements) values (\(needed) bytes) but the file holds only \(max(0, min(stored, fileSize - offset))) of them")
        }
    }
}
