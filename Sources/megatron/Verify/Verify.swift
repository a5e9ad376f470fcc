import ArgumentParser

/// Checks that the parallel machinery computes what the serial definition says, on this
/// machine and engine; each subcommand exits non-zero on any failure.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check parallel execution against serial references; exits non-zero on failure.",
        subcommands: [VerifyCollectives.self, VerifyLayers.self, VerifyModel.self, VerifyCheckpoints.self])
}
