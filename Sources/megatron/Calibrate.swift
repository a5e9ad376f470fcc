import ArgumentParser
import Experiments
import Foundation
import PerformanceModel

/// `megatron calibrate`: measure this machine for the performance model.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine (GEMM by shape, elementwise bandwidth, all-reduce α and β) into a machine description.")

    @Option(help: "Where to write the description, e.g. machines/NAME.json.")
    var out: String

    @Option(help: "The machine's name in the file (default: the file's name).")
    var name: String?

    func run() throws {
        let calibration = MachineCalibration(log: { print($0) })
        let name = self.name ?? URL(fileURLWithPath: out).deletingPathExtension().lastPathComponent
        let machine = try calibration.measure(name: name)
        try machine.json().write(to: URL(fileURLWithPath: out), options: .atomic)
        print("wrote \(out)")
    }
}
