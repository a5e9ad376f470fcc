import ArgumentParser
import Foundation
import Training

/// `megatron verify checkpoints A B`: two checkpoints must hold the same bits, e.g. one run
/// under the in-process engine and one under mpirun.
struct VerifyCheckpoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "Compare two checkpoints bit for bit (every tensor, optimizer moment, and the training state).")

    @Argument(help: "The first checkpoint file (.h5).")
    var first: String

    @Argument(help: "The second checkpoint file (.h5).")
    var second: String

    func run() throws {
        let comparison = try CheckpointComparison.compare(first, second)
        for difference in comparison.differences {
            print("\(difference.name): \(difference.differing) of \(difference.elements) elements differ, "
                  + "largest relative difference \(String(format: "%.1e", difference.largestRelative))")
        }
        for name in comparison.unmatched { print(name) }
        if !comparison.stateDifferences.isEmpty {
            print("training state differs: \(comparison.stateDifferences.joined(separator: ", "))")
        }
        if comparison.identical {
            print("identical: \(comparison.tensors) tensors bit for bit, and the training state")
        } else {
            print("DIFFERENT: \(comparison.differences.count) of \(comparison.tensors) tensors differ")
            throw ExitCode.failure
        }
    }
}
