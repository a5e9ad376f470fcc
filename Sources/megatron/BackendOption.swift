import ArgumentParser
import Collectives
import Training

/// `--backend`: which engine carries the collectives.
enum BackendOption: String, ExpressibleByArgument, CaseIterable {
    case inprocess, mpi

    var engine: CollectiveEngine {
        switch self {
        case .inprocess: .inProcess
        case .mpi: .mpi
        }
    }

    /// Under MPI, before anything is read: every rank confirms it sees the `files` rank 0 sees
    /// (`SharedFilesCheck`), so a host without them fails the job naming itself, not a hang.
    func confirmSharedFiles(worldSize: Int, files: [String]) throws {
        guard self == .mpi else { return }
        _ = try engine.run(worldSize: worldSize) { try SharedFilesCheck.confirm(world: $0, files: files) }
    }
}
