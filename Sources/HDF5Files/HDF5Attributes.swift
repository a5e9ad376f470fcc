import CHDF5

/// Attributes: small named values (strings, numbers, short numeric arrays) on a group or dataset.
extension HDF5Object {
    public func attributeNames() throws -> [String] {
        try HDF5Library.locked {
            var info = H5O_info_t()
            guard H5Oget_info2(id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else {
                throw error(.readFailed, "cannot list attributes")
            }
            return (0..<info.num_attrs).map { index in
                let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, defaultPlist)
                var bytes = [CChar](repeating: 0, count: max(Int(length), 0) + 1)
                _ = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &bytes, bytes.count, defaultPlist)
                return String(decoding: bytes.prefix(max(Int(length), 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    public func hasAttribute(_ name: String) -> Bool {
        HDF5Library.locked { H5Aexists(id, name) > 0 }
    }

    /// Stores a UTF-8 string (variable length, which h5py reads back as `str`).
    public func setAttribute(_ name: String, _ value: String) throws {
        try HDF5Library.locked {
            let type = H5Tcopy(chdf5_c_s1())
            _ = H5Tset_size(type, chdf5_variable())
            _ = H5Tset_cset(type, H5T_CSET_UTF8)
            let space = H5Screate(H5S_SCALAR)
            defer { _ = H5Tclose(type); _ = H5Sclose(space) }
            let attribute = try createAttribute(name, type: type, space: space)
            defer { _ = H5Aclose(attribute) }
            let status = value.withCString { pointer -> herr_t in
                var pointers: [UnsafePointer<CChar>?] = [pointer]
                return H5Awrite(attribute, type, &pointers)
            }
            guard status >= 0 else { throw error(.writeFailed, "cannot write attribute", at: attributePath(name)) }
        }
    }

    public func setAttribute<T: HDF5Scalar>(_ name: String, _ value: T) throws {
        try setAttribute(name, [value], scalar: true)
    }

    public func setAttribute<T: HDF5Scalar>(_ name: String, _ values: [T]) throws {
        try setAttribute(name, values, scalar: false)
    }

    private func setAttribute<T: HDF5Scalar>(_ name: String, _ values: [T], scalar: Bool) throws {
        try HDF5Library.locked {
            var dims = [hsize_t(values.count)]
            let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
            defer { _ = H5Sclose(space) }
            let attribute = try createAttribute(name, type: T.fileType, space: space)
            defer { _ = H5Aclose(attribute) }
            let status = values.withUnsafeBufferPointer { H5Awrite(attribute, T.memoryType, $0.baseAddress) }
            guard status >= 0 else { throw error(.writeFailed, "cannot write attribute", at: attributePath(name)) }
        }
    }

    public func stringAttribute(_ name: String) throws -> String {
        try HDF5Library.locked {
            let attribute = try openAttribute(name)
            let type = H5Aget_type(attribute)
            defer { _ = H5Tclose(type); _ = H5Aclose(attribute) }
            guard H5Tget_class(type) == H5T_STRING else {
                throw error(.wrongType, "is not a string", at: attributePath(name))
            }
            if H5Tis_variable_str(type) > 0 {
                let memoryType = H5Tcopy(chdf5_c_s1())
                _ = H5Tset_size(memoryType, chdf5_variable())
                _ = H5Tset_cset(memoryType, H5Tget_cset(type))
                defer { _ = H5Tclose(memoryType) }
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attribute, memoryType, &pointer) >= 0, let pointer else {
                    throw error(.readFailed, "cannot read string", at: attributePath(name))
                }
                defer { _ = H5free_memory(pointer) }
                return String(cString: pointer)
            }
            let size = H5Tget_size(type)
            var bytes = [UInt8](repeating: 0, count: size + 1)
            guard H5Aread(attribute, type, &bytes) >= 0 else {
                throw error(.readFailed, "cannot read string", at: attributePath(name))
            }
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Reads a numeric attribute holding exactly one value.
    public func attribute<T: HDF5Scalar>(_ name: String, as type: T.Type = T.self) throws -> T {
        let values = try arrayAttribute(name, as: type)
        guard values.count == 1 else {
            throw error(.wrongShape, "holds \(values.count) values, expected one", at: attributePath(name))
        }
        return values[0]
    }

    public func arrayAttribute<T: HDF5Scalar>(_ name: String, as _: T.Type = T.self) throws -> [T] {
        try HDF5Library.locked {
            let attribute = try openAttribute(name)
            let type = H5Aget_type(attribute)
            let space = H5Aget_space(attribute)
            defer { _ = H5Tclose(type); _ = H5Sclose(space); _ = H5Aclose(attribute) }
            guard let stored = HDF5StoredType.of(type), stored.losslesslyConverts(to: T.self) else {
                throw error(.wrongType, "cannot be read as \(T.self) without loss", at: attributePath(name))
            }
            let count = Int(H5Sget_simple_extent_npoints(space))
            guard count >= 0, count <= 1 << 24 else {
                throw error(.invalidContent, "claims \(count) values", at: attributePath(name))
            }
            return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0, H5Aread(attribute, T.memoryType, buffer.baseAddress) < 0 {
                    throw error(.readFailed, "cannot read values", at: attributePath(name))
                }
                initialized = count
            }
        }
    }

    private func attributePath(_ name: String) -> String { path + "@" + name }

    /// Caller holds the library lock.
    private func createAttribute(_ name: String, type: hid_t, space: hid_t) throws -> hid_t {
        if H5Aexists(id, name) > 0 { _ = H5Adelete(id, name) }
        let attribute = H5Acreate2(id, name, type, space, defaultPlist, defaultPlist)
        guard attribute >= 0 else { throw error(.writeFailed, "cannot create attribute", at: attributePath(name)) }
        return attribute
    }

    /// Caller holds the library lock.
    private func openAttribute(_ name: String) throws -> hid_t {
        guard H5Aexists(id, name) > 0 else {
            throw error(.objectNotFound, "attribute not found", at: attributePath(name))
        }
        let attribute = H5Aopen(id, name, defaultPlist)
        guard attribute >= 0 else { throw error(.readFailed, "cannot open attribute", at: attributePath(name)) }
        return attribute
    }
}
