import Datasets
import Foundation

/// The tiny data set, generated once per test process into a fresh temporary directory.
enum TinyFixture {
    private static let generated: Result<TinyData.Files, any Error> = Result {
        try TinyData.write(to: freshDirectory("tiny"))
    }

    static func files() throws -> TinyData.Files { try generated.get() }

    static func freshDirectory(_ label: String) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("datasets-\(label)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}
