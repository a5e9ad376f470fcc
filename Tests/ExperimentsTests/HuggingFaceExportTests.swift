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
    static let classes = ["gpt2-tiny": "GPT2LMHeadModel", "bert-tiny": "BertForPreTraining",
                          "megatron-bert-tiny": "MegatronBertForPreTraining"]

    /// import(export(import(fixture))) holds the very bits of import(fixture).
    @Test(arguments: ["gpt2-tiny", "bert-tiny", "megatron-bert-tiny"])
    func importOfExportIsBitIdentical(fixture: String) throws {
        let first = try ImportFixtures.imported(fixture)
        let directory = NSTemporaryDirectory() + "export-\(UUID().uuidString)"
        let second = directory + ".h5"
        defer { for p in [first, directory, second] { try? FileManager.default.removeItem(atPath: p) } }
        let summary = try HuggingFaceExport.run(checkpoint: first, to: directory, tokenizerDirectory: nil)
        #expect(summary.architecture == Self.classes[fixture])
        _ = try HuggingFaceImport.run(from: directory, to: second)
        let (a, b) = (try modelTensors(first), try modelTensors(second))
        #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
        for (name, tensor) in a {
            #expect(tensor.shape == b[name]?.shape && tensor.bits == b[name]?.bits, "\(name)")
        }
    }

    /// Checkpoints we trained, the GPT and the default pre-LN BERT (as MegatronBertForPreTraining):
    /// every real row comes back bit for bit; the padded rows (which take no probability) come
    /// back as zeros.
    @Test func trainedCheckpointsRoundTripTheirRealRows() throws {
        let fixtures = try CheckpointFixtures.get()
        for (checkpoint, vocab, architecture) in [(fixtures.gpt, 657, "GPT2LMHeadModel"), (fixtures.bert, 229, "MegatronBertForPreTraining")] {
            let directory = NSTemporaryDirectory() + "export-\(UUID().uuidString)"
            let imported = directory + ".h5"
            defer { for p in [directory, imported] { try? FileManager.default.removeItem(atPath: p) } }
            let summary = try HuggingFaceExport.run(checkpoint: checkpoint, to: directory, tokenizerDirectory: nil)
            #expect(summary.architecture == architecture)
            _ = try HuggingFaceImport.run(from: directory, to: imported)
            let (a, b) = (try modelTensors(summary.checkpoint), try modelTensors(imported))
            #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
            for (name, tensor) in a {
                guard TransformerDescription.vocabularyRows.contains(name), let back = b[name]?.bits else {
                    #expect(tensor.bits == b[name]?.bits, "\(name)")
                    continue
                }
                let real = vocab * tensor.bits.count / tensor.shape[0]
                #expect(tensor.shape == b[name]?.shape && tensor.shape[0] > vocab, "\(name)")
                #expect(Array(tensor.bits[..<real]) == Array(back[..<real]), "\(name)")
                #expect(back[real...].allSatisfy { $0 == 0 }, "\(name)")
            }
        }
    }

    /// A Megatron-LM BERT (pre-LN, as NVIDIA's BERT 345M), imported and exported, is the
    /// MegatronBertForPreTraining that transformers saved with the same weights, tensor for tensor
    /// and bit for bit (the random padded rows of the Megatron file dropped).
    @Test func importedMegatronBERTExportsAsTransformersSavesIt() throws {
        let directory = NSTemporaryDirectory() + "export-\(UUID().uuidString)"
        let checkpoint = directory + ".h5"
        defer { for p in [directory, checkpoint] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try MegatronImport.run(from: "\(MegatronImportTests.directory)/bert-tiny-v3", to: checkpoint, options: .init(vocabSize: 100))
        let summary = try HuggingFaceExport.run(checkpoint: checkpoint, to: directory, tokenizerDirectory: nil)
        #expect(summary.architecture == "MegatronBertForPreTraining")
        let ours = try SafetensorsFile(path: directory + "/model.safetensors")
        let theirs = try SafetensorsFile(path: "\(ImportFixtures.directory)/megatron-bert-tiny/model.safetensors")
        #expect(ours.names == theirs.names)
        for name in theirs.names {
            let (x, y) = (try ours.tensor(name, as: Float.self), try theirs.tensor(name, as: Float.self))
            #expect(x.shape == y.shape && x.array.map(\.bitPattern) == y.array.map(\.bitPattern), "\(name)")
        }
    }
}
