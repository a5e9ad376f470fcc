import CheckpointFormats
import Foundation
import HDF5Files
import Testing
import Training

/// Every /model tensor of a checkpoint file, as Float bit patterns by name.
func modelTensors(_ path: String) throws -> [String: (shape: [Int], bits: [UInt32])] {
    let file = try HDF5File(reading: path, remedy: "")
    defer { file.close() }
    let group = try file.root.group("model")
    var out: [String: (shape: [Int], bits: [UInt32])] = [:]
    for name in try group.names() {
        let dataset = try group.dataset(name)
        out[name] = (dataset.shape, try dataset.read(as: Float.self).map(\.bitPattern))
    }
    return out
}

@Suite("megatron export hf")
struct HuggingFaceExportTests {
    /// import(export(import(fixture))) holds the very bits of import(fixture).
    @Test(arguments: ["gpt2-tiny", "bert-tiny"])
    func importOfExportIsBitIdentical(fixture: String) throws {
        let first = try ImportFixtures.imported(fixture)
        let directory = NSTemporaryDirectory() + "export-\(UUID().uuidString)"
        let second = directory + ".h5"
        defer { for p in [first, directory, second] { try? FileManager.default.removeItem(atPath: p) } }
        let summary = try HuggingFaceExport.run(checkpoint: first, to: directory, tokenizerDirectory: nil)
        #expect(summary.architecture == (fixture == "gpt2-tiny" ? "GPT2LMHeadModel" : "BertForPreTraining"))
        _ = try HuggingFaceImport.run(from: directory, to: second)
        let (a, b) = (try modelTensors(first), try modelTensors(second))
        #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
        for (name, tensor) in a {
            #expect(tensor.shape == b[name]?.shape && tensor.bits == b[name]?.bits, "\(name)")
        }
    }

    /// A checkpoint we trained: every real row comes back bit for bit; the padded rows (which
    /// take no probability) come back as zeros. Its pre-LN BERT has no Hugging Face class.
    @Test func trainedCheckpointRoundTripsItsRealRows() throws {
        let fixtures = try CheckpointFixtures.get()
        let directory = NSTemporaryDirectory() + "export-\(UUID().uuidString)"
        let imported = directory + ".h5"
        defer { for p in [directory, imported] { try? FileManager.default.removeItem(atPath: p) } }
        let summary = try HuggingFaceExport.run(checkpoint: fixtures.gpt, to: directory, tokenizerDirectory: nil)
        _ = try HuggingFaceImport.run(from: directory, to: imported)
        let (a, b) = (try modelTensors(summary.checkpoint), try modelTensors(imported))
        #expect(a.keys.sorted() == b.keys.sorted())
        let vocab = 657, hidden = 32
        for (name, tensor) in a {
            guard name == "embedding.word_embeddings.weight" else {
                #expect(tensor.bits == b[name]?.bits, "\(name)")
                continue
            }
            let back = b[name]!.bits
            #expect(Array(tensor.bits[..<(vocab * hidden)]) == Array(back[..<(vocab * hidden)]))
            #expect(back[(vocab * hidden)...].allSatisfy { $0 == 0 } && tensor.shape == [768, hidden])
        }

        do {
            _ = try HuggingFaceExport.run(checkpoint: fixtures.bert, to: directory + "-bert", tokenizerDirectory: nil)
            Issue.record("a pre-LN BERT must be refused")
        } catch let CheckpointFormatError.config(_, field, _) {
            #expect(field == "model.post_layernorm")
        }
    }
}
