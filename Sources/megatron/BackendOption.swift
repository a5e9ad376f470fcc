import ArgumentParser
import Collectives

/// `--backend`: which engine carries the collectives.
enum BackendOption: String, ExpressibleByArgument, CaseIterable {
    case inprocess, mpi

    var engine: CollectiveEngine {
        switch self {
        case .inprocess: .inProcess
        case .mpi: .mpi
        }
    }
}
