/// A torch storage's element type, as the `torch.XStorage` class a pickle names it by.
public enum TorchStorageType: String, Sendable, Equatable {
    case Float, Half, BFloat16, Double, Long, Int, Short, Char, Byte, Bool

    public var itemSize: Swift.Int {
        switch self {
        case .Double, .Long: return 8
        case .Float, .Int: return 4
        case .Half, .BFloat16, .Short: return 2
        case .Char, .Byte, .Bool: return 1
        }
    }

    /// The weight types, read as safetensors reads the same encodings; nil for integer storages.
    var floatingPoint: SafetensorsDType? {
        switch self {
        case .Float: return .F32
        case .Half: return .F16
        case .BFloat16: return .BF16
        case .Double: return .F64
        default: return nil
        }
    }
}

/// A storage a pickle refers to by persistent id: its bytes live outside the pickle, under `key`.
public struct TorchStorage: Sendable, Equatable {
    public var type: TorchStorageType
    public var key: String
    public var count: Int
}

/// A tensor as `_rebuild_tensor_v2(storage, offset, size, stride, …)` describes it, in elements.
public struct TorchTensor: Sendable, Equatable {
    public var storage: TorchStorage
    public var offset: Int
    public var shape: [Int]
    public var strides: [Int]
}
