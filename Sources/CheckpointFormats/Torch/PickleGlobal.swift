/// The globals a checkpoint's pickle may name: the ones torch.save writes for tensors and state
/// dicts, argparse.Namespace as a bag of attributes, dtype constants, and classes of training
/// state that importing never reads (numpy arrays of RNG state, Megatron's loss scalers), which
/// become inert placeholders. Any other global is refused by name: a pickle names a global to
/// have it called, and this reader never calls anything.
public enum PickleGlobal: Sendable, Equatable {
    case orderedDict
    case rebuildTensor
    case rebuildTensorV2
    case rebuildParameter
    case storageType(TorchStorageType)
    case dtype(String)
    case namespace
    /// `_codecs.encode(text, "latin1")`: how protocol 2 writes Python 3 bytes (numpy arrays'
    /// data); built here from the string, nothing called.
    case latin1Bytes
    case placeholder(String)

    static func named(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("argparse", "Namespace"): return .namespace
        case ("_codecs", "encode"): return .latin1Bytes
        case ("torch", _) where name.hasSuffix("Storage"):
            return TorchStorageType(rawValue: String(name.dropLast("Storage".count))).map { .storageType($0) }
        case ("torch", _) where dtypes.contains(name): return .dtype(name)
        default:
            let qualified = "\(module).\(name)"
            return placeholders.contains(qualified) ? .placeholder(qualified) : nil
        }
    }

    static let dtypes: Set<String> = ["float16", "float32", "float64", "bfloat16", "half", "float", "double",
                                      "int64", "int32", "int8", "uint8", "bool"]

    static let placeholders: Set<String> = [
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.ndarray", "numpy.dtype",
        "megatron.fp16.loss_scaler.DynamicLossScaler", "megatron.fp16.loss_scaler.LossScaler",
        "megatron.fp16_deprecated.loss_scaler.DynamicLossScaler", "megatron.fp16_deprecated.loss_scaler.LossScaler",
    ]
}
