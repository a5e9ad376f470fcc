/// What can go wrong reading, running or recording a named experiment, with what would fix it.
public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    case unknownExperiment(name: String, known: [String])
    case unreadable(path: String, reason: String)
    case malformedSpec(path: String, reason: String)
    case malformedRecord(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case nothingToReevaluate(experiment: String, reason: String)
    case nothingToSelect(run: String, candidate: String, metric: String)
    case keptRunOfAnotherDesign(path: String, checkpoints: String, differences: [String])

    public var description: String {
        switch self {
        case let .unknownExperiment(name, known):
            "no experiment named \(name) in experiments/; known: \(known.joined(separator: ", "))"
        case let .unreadable(path, reason):
            "cannot read \(path): \(reason)"
        case let .malformedSpec(path, reason):
            "\(path) is not a valid experiment: \(reason); fix the file (see experiments/README.md)"
        case let .malformedRecord(path, reason):
            "\(path) is not a valid run record: \(reason); delete it and rerun the experiment"
        case let .unwritable(path, reason):
            "cannot write \(path): \(reason); check the folder's permissions and free space"
        case let .nothingToReevaluate(experiment, reason):
            "cannot re-evaluate \(experiment): \(reason)"
        case let .nothingToSelect(run, candidate, metric):
            "\(run) cannot choose: candidate \(candidate) recorded no \(metric); give the swept run an evaluate that measures it"
        case let .keptRunOfAnotherDesign(path, checkpoints, differences):
            "\(path) was trained with another config than the experiment now gives the run (\(differences.joined(separator: "; "))); "
                + "delete it and \(checkpoints) to train the run again, or restore the experiment's config"
        }
    }
}
