import CHDF5

/// Element types a dataset or attribute can hold. Files always store little-endian standard
/// types, so a file written here reads the same on any machine and in h5py.
public protocol HDF5Scalar: Sendable {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
    static var isFloatingPoint: Bool { get }
    static var isSigned: Bool { get }
}

extension Float: HDF5Scalar {
    public static var memoryType: hid_t { chdf5_native_float() }
    public static var fileType: hid_t { chdf5_ieee_f32le() }
    public static var isFloatingPoint: Bool { true }
    public static var isSigned: Bool { true }
}

extension Double: HDF5Scalar {
    public static var memoryType: hid_t { chdf5_native_double() }
    public static var fileType: hid_t { chdf5_ieee_f64le() }
    public static var isFloatingPoint: Bool { true }
    public static var isSigned: Bool { true }
}

extension Int32: HDF5Scalar {
    public static var memoryType: hid_t { chdf5_native_int32() }
    public static var fileType: hid_t { chdf5_std_i32le() }
    public static var isFloatingPoint: Bool { false }
    public static var isSigned: Bool { true }
}

extension Int64: HDF5Scalar {
    public static var memoryType: hid_t { chdf5_native_int64() }
    public static var fileType: hid_t { chdf5_std_i64le() }
    public static var isFloatingPoint: Bool { false }
    public static var isSigned: Bool { true }
}

extension UInt16: HDF5Scalar {
    public static var memoryType: hid_t { chdf5_native_uint16() }
    public static var fileType: hid_t { chdf5_std_u16le() }
    public static var isFloatingPoint: Bool { false }
    public static var isSigned: Bool { false }
}

extension UInt8: HDF5Scalar {
    public static var memoryType: hid_t { chdf5_native_uint8() }
    public static var fileType: hid_t { chdf5_std_u8le() }
    public static var isFloatingPoint: Bool { false }
    public static var isSigned: Bool { false }
}

/// What a stored dataset or attribute holds, as read from the file.
public struct HDF5StoredType: Equatable, Sendable, CustomStringConvertible {
    public let isFloatingPoint: Bool
    public let isSigned: Bool
    public let byteCount: Int

    public var description: String {
        (isFloatingPoint ? "float" : (isSigned ? "int" : "uint")) + String(byteCount * 8)
    }

    /// HDF5 converts on read; only conversions that cannot lose a value are allowed.
    public func losslesslyConverts<T: HDF5Scalar>(to _: T.Type) -> Bool {
        let size = MemoryLayout<T>.size
        if isFloatingPoint != T.isFloatingPoint { return false }
        if isFloatingPoint { return size >= byteCount }
        if isSigned && !T.isSigned { return false }
        if isSigned == T.isSigned { return size >= byteCount }
        return size > byteCount
    }

    static func of(_ typeID: hid_t) -> HDF5StoredType? {
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_FLOAT:
            return HDF5StoredType(isFloatingPoint: true, isSigned: true, byteCount: size)
        case H5T_INTEGER:
            return HDF5StoredType(isFloatingPoint: false, isSigned: H5Tget_sign(typeID) == H5T_SGN_2,
                                  byteCount: size)
        default:
            return nil
        }
    }
}
