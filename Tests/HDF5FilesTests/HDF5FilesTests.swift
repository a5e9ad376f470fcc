import Foundation
import HDF5Files
import Testing

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5files-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func writeSample(_ path: String) throws {
    let file = try HDF5File(creating: path)
    try file.root.createDataset("floats", (0..<10).map { Float($0) * 0.5 })
    try file.root.createDataset("doubles", [Double.pi, -1e300])
    try file.root.createDataset("ints", (0..<1000).map { Int32($0 * 7 - 3000) })
    try file.root.createDataset("longs", [Int64.max, Int64.min, 0])
    try file.root.createDataset("shorts", [UInt16.max, 0, 42])
    try file.root.createDataset("bytes", [UInt8](repeating: 9, count: 6), shape: [2, 3])
    let group = try file.root.createGroup("meta")
    try group.createDataset("empty", [Int64]())
    try group.setAttribute("tokenizer", "gpt2 — BPE")
    try group.setAttribute("vocab_size", Int64(50257))
    try file.root.setAttribute("ratios", [1.5, 2.5])
    try file.commit()
}

@Suite("HDF5Files")
struct HDF5FilesTests {
    @Test func roundTripsEveryElementTypeAndAttribute() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("a.h5").path
        try writeSample(path)
        let file = try HDF5File(reading: path)
        #expect(try file.root.names() == ["bytes", "doubles", "floats", "ints", "longs", "meta", "shorts"])
        #expect(try file.root.dataset("floats").read(as: Float.self) == (0..<10).map { Float($0) * 0.5 })
        #expect(try file.root.dataset("doubles").read(as: Double.self) == [Double.pi, -1e300])
        #expect(try file.root.dataset("ints").read(as: Int32.self) == (0..<1000).map { Int32($0 * 7 - 3000) })
        #expect(try file.root.dataset("longs").read(as: Int64.self) == [Int64.max, Int64.min, 0])
        #expect(try file.root.dataset("shorts").read(as: UInt16.self) == [UInt16.max, 0, 42])
        let bytes = try file.root.dataset("bytes")
        #expect(bytes.shape == [2, 3])
        #expect(try bytes.read(as: UInt8.self) == [UInt8](repeating: 9, count: 6))
        let meta = try file.root.group("meta")
        #expect(try meta.dataset("empty").read(as: Int64.self).isEmpty)
        #expect(try meta.stringAttribute("tokenizer") == "gpt2 — BPE")
        #expect(try meta.attribute("vocab_size", as: Int64.self) == 50257)
        #expect(try meta.attributeNames() == ["tokenizer", "vocab_size"])
        #expect(try file.root.arrayAttribute("ratios", as: Double.self) == [1.5, 2.5])
    }

    @Test func readsRangesAndWidensLosslessly() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("a.h5").path
        try writeSample(path)
        let file = try HDF5File(reading: path)
        let ints = try file.root.dataset("ints")
        #expect(try ints.read(100..<105, as: Int32.self) == (100..<105).map { Int32($0 * 7 - 3000) })
        #expect(try ints.read(1000..<1000, as: Int32.self).isEmpty)
        #expect(try file.root.dataset("shorts").read(as: Int32.self) == [65535, 0, 42])
        #expect(throws: HDF5Error.self) { try ints.read(990..<1001, as: Int32.self) }
        #expect(throws: HDF5Error.self) { try ints.read(as: UInt16.self) }
        #expect(throws: HDF5Error.self) { try file.root.dataset("floats").read(as: Int64.self) }
    }

    @Test func missingObjectsNameTheirPath() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("a.h5").path
        try writeSample(path)
        let file = try HDF5File(reading: path)
        let error = #expect(throws: HDF5Error.self) { try file.root.group("meta").dataset("tokens") }
        #expect(error?.kind == .objectNotFound)
        #expect(error?.object == "/meta/tokens")
        #expect(error?.description.contains(path) == true)
        let attributeError = #expect(throws: HDF5Error.self) { try file.root.stringAttribute("nope") }
        #expect(attributeError?.object == "/@nope")
    }

    @Test func truncatedGarbageAndMissingFilesGiveClearErrors() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("a.h5").path
        try writeSample(path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = dir.appendingPathComponent("truncated.h5").path
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        let garbage = dir.appendingPathComponent("garbage.h5").path
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: garbage))
        let remedy = "re-run `megatron prepare`"

        let truncatedError = #expect(throws: HDF5Error.self) { try HDF5File(reading: truncated, remedy: remedy) }
        #expect(truncatedError?.kind == .notHDF5)
        #expect(truncatedError?.description.contains(remedy) == true)
        let garbageError = #expect(throws: HDF5Error.self) { try HDF5File(reading: garbage, remedy: remedy) }
        #expect(garbageError?.kind == .notHDF5)
        let missing = #expect(throws: HDF5Error.self) { try HDF5File(reading: dir.appendingPathComponent("none.h5").path) }
        #expect(missing?.kind == .fileNotFound)
    }

    @Test func uncommittedFileLeavesNothingBehind() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("a.h5").path
        do {
            let file = try HDF5File(creating: path)
            try file.root.createDataset("x", [Int32(1), 2, 3])
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func sameContentGivesIdenticalBytes() throws {
        let dir = try temporaryDirectory()
        let first = dir.appendingPathComponent("first.h5").path
        let second = dir.appendingPathComponent("second.h5").path
        try writeSample(first)
        Thread.sleep(forTimeInterval: 1.1)
        try writeSample(second)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)))
    }
}
