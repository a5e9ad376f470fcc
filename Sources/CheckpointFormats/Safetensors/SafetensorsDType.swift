/// The safetensors element types we read: the floating-point weights checkpoints hold, and the
/// integer ids reference files carry. All little-endian.
public enum SafetensorsDType: String, Sendable, Equatable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32

    public var itemSize: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16: return 2
        }
    }

    /// Element `index` of `bytes` as a Double, exact for every type here but I64 beyond 2⁵³.
    @inline(__always)
    func value(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Double {
        let at = index * itemSize
        switch self {
        case .F64: return Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        case .F32: return Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
        case .F16: return Double(Self.half(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
        case .BF16:
            let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))
            return Double(Float(bitPattern: UInt32(bits) << 16))
        case .I64: return Double(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case .I32: return Double(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        }
    }

    /// IEEE binary16 → Float, subnormals, infinities and NaN included.
    static func half(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), fraction = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
