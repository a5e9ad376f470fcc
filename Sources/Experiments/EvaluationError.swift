/// Why a checkpoint cannot be evaluated (or fine-tuned) as asked, naming the checkpoint, the
/// task or flag at fault and what would fix it.
public enum EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No checkpoint at the path: no such file or directory, or a directory without one.
    case noCheckpoint(path: String, reason: String)
    /// The task evaluates another model family than the checkpoint holds.
    case wrongFamily(task: EvaluationTask, checkpoint: String, family: String)
    /// The checkpoint lacks weights the task's model needs (RACE on a BERT not fine-tuned).
    case missingWeights(task: EvaluationTask, checkpoint: String, names: [String])
    /// A task given no data file, or several where it takes one.
    case dataFiles(task: EvaluationTask, count: Int)
    /// The checkpoint's model cannot be split as asked.
    case layout(checkpoint: String, tensorParallel: Int, dataParallel: Int, problems: [String])

    public var description: String {
        switch self {
        case let .noCheckpoint(path, reason):
            return "\(path): no checkpoint (\(reason)); pass --checkpoint a checkpoint directory written by "
                + "`megatron train` (its training.checkpoint_dir) or one of its checkpoint-NNNNNNNN.h5 files"
        case let .wrongFamily(task, checkpoint, family):
            return "\(checkpoint) holds a \(family) model, but \(task.rawValue) evaluates a \(task.family.rawValue) model; "
                + "evaluate it with --task \(EvaluationTask.allCases.filter { $0.family.rawValue == family }.map(\.rawValue).joined(separator: " or --task ")), "
                + "or pass a \(task.family.rawValue) checkpoint"
        case let .missingWeights(task, checkpoint, names):
            let fix = task == .race
                ? "fine-tune it first: `megatron finetune race --checkpoint DIR --train FILE --eval FILE…`"
                : "pass a checkpoint written by `megatron train` for this model"
            return "\(checkpoint) lacks \(names.joined(separator: ", ")), which \(task.rawValue) needs; \(fix)"
        case let .dataFiles(task, count):
            return "--task \(task.rawValue) takes \(task.takesSeveralFiles ? "one or more --data files" : "one --data file"), "
                + "got \(count); pass files made by `\(task.prepareCommand)`"
        case let .layout(checkpoint, tp, dp, problems):
            return "\(checkpoint) cannot be evaluated at --tp \(tp) --dp \(dp):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
                + "\n  choose a --tp that divides the model's heads and padded vocabulary"
        }
    }
}
