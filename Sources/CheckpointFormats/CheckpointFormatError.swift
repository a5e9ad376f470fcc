/// Why a foreign checkpoint (safetensors, a Hugging Face directory) cannot be read or written,
/// naming the file and the tensor or config field, and what would fix it.
public enum CheckpointFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file ends before the part named in `part` does.
    case truncated(file: String, part: String, needed: Int, size: Int)
    /// The header length is above safetensors' limit (100 MB) or past the end of the file.
    case headerLength(file: String, length: UInt64, fileSize: Int)
    /// The header is not the JSON object safetensors writes.
    case header(file: String, problem: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// data_offsets that disagree with the dtype and shape, run past the data, or overlap, leave
    /// holes between or after the tensors.
    case offsets(file: String, tensor: String, problem: String)
    case missingTensor(file: String, tensor: String)
    /// A tensor whose dtype or shape contradicts what the config implies.
    case tensorContradictsConfig(file: String, tensor: String, problem: String)
    /// A config field we cannot represent, or one missing or malformed.
    case config(file: String, field: String, problem: String)
    case io(file: String, problem: String)
    /// A pickle (in a torch.save file) that is damaged or uses what torch.save never writes.
    case pickle(file: String, offset: Int, problem: String)
    /// A pickle that names a global outside the allow-list: loading it would run its code.
    case forbiddenGlobal(file: String, global: String)
    /// A torch.save zip archive that is damaged, compressed or lacks an entry.
    case archive(file: String, problem: String)
    /// A Megatron-LM checkpoint directory whose layout or shards do not fit together.
    case layout(directory: String, problem: String)

    public var description: String {
        switch self {
        case let .truncated(file, part, needed, size):
            return "\(file): truncated: the \(part) needs \(needed) bytes, the file has \(size); copy the file again"
        case let .headerLength(file, length, size):
            return "\(file): header length \(length) is impossible (file of \(size) bytes, limit 100000000); not a safetensors file, or a damaged one"
        case let .header(file, problem):
            return "\(file): safetensors header: \(problem); not a safetensors file, or a damaged one"
        case let .unsupportedDType(file, tensor, dtype):
            return "\(file): tensor \(tensor) has dtype \(dtype); only F64, F32, F16 and BF16 weights (and I64, I32 integers) are read"
        case let .offsets(file, tensor, problem):
            return "\(file): tensor \(tensor): \(problem); the file is damaged or was not written by a safetensors writer"
        case let .missingTensor(file, tensor):
            return "\(file): no tensor \(tensor); the checkpoint is incomplete or of another model class"
        case let .tensorContradictsConfig(file, tensor, problem):
            return "\(file): tensor \(tensor): \(problem); the weights and the config describe different models"
        case let .config(file, field, problem):
            return "\(file): \(field): \(problem)"
        case let .io(file, problem):
            return "\(file): \(problem)"
        case let .pickle(file, offset, problem):
            return "\(file): pickle at byte \(offset): \(problem); the file is damaged or was not written by torch.save"
        case let .forbiddenGlobal(file, global):
            return "\(file): the pickle names \(global), which is not a tensor, a dict, a list or a scalar; "
                + "it is refused rather than run (save the state_dict alone, or the checkpoint as safetensors)"
        case let .archive(file, problem):
            return "\(file): torch.save archive: \(problem)"
        case let .layout(directory, problem):
            return "\(directory): \(problem)"
        }
    }
}
