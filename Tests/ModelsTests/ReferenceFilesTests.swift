import Foundation
import TensorCore
import Testing

/// The committed reference files hold every parameter, gradient, input and output our
/// comparison tests read, under our names and shapes, and their losses are what they say.
@Suite("Reference files")
struct ReferenceFilesTests {
    /// The batch the script writes: 2 sequences (questions) of 7 tokens.
    static let batch = 2
    static let sequence = 7

    @Test(arguments: ReferenceFile.Model.allCases)
    func holdsEveryParameterAndGradientUnderOurNames(_ model: ReferenceFile.Model) throws {
        let file = try ReferenceFile(model)
        let expected = ReferenceNames.parameters(model, file.config)
        #expect(Set(try file.parameterNames()) == Set(expected.keys))
        #expect(Set(try file.gradientNames()) == Set(expected.keys))
        for (name, shape) in expected {
            #expect(try file.shape("weights", name) == shape, "weights/\(name)")
            #expect(try file.shape("gradients", name) == shape, "gradients/\(name)")
        }
    }

    @Test(arguments: ReferenceFile.Model.allCases)
    func holdsInputsOutputsAndProvenance(_ model: ReferenceFile.Model) throws {
        let file = try ReferenceFile(model)
        let c = file.config
        let inputs = ReferenceNames.inputs(model, batch: Self.batch, sequence: Self.sequence, choices: c.choices ?? 0)
        let outputs = ReferenceNames.outputs(model, batch: Self.batch, sequence: Self.sequence,
                                             choices: c.choices ?? 0, vocab: c.paddedVocab)
        #expect(Set(try file.inputNames()) == Set(inputs.keys))
        #expect(Set(try file.outputNames()) == Set(outputs.keys))
        for (name, shape) in inputs { #expect(try file.input(name).shape == shape, "inputs/\(name)") }
        for (name, shape) in outputs { #expect(try file.shape("outputs", name) == shape, "outputs/\(name)") }
        let tokens = try file.input("tokens").values
        #expect(tokens.allSatisfy { $0 >= 0 && Int($0) < c.vocab })
        #expect(c.gelu == (model == .gpt2 ? "tanh" : "erf"))
        for name in ["hf_config", "name_map", "torch_version", "transformers_version", "generated_by"] {
            #expect(try !file.stringAttribute(name).isEmpty, "\(name)")
        }
        #expect(try file.seed() > 0)
    }

    @Test func gptLabelsAreTheNextTokensAndTheLossTheirMeanCrossEntropy() throws {
        let file = try ReferenceFile(.gpt2)
        let tokens = try file.input("tokens").values
        let labels = try file.input("labels").values
        for b in 0..<Self.batch {
            let row = b * Self.sequence
            #expect(Array(labels[row..<(row + Self.sequence - 1)]) == Array(tokens[(row + 1)..<(row + Self.sequence)]))
        }
        let logits = try file.output("logits")
        let loss = meanCrossEntropy(logits, labels: labels, mask: nil)
        #expect(abs(loss - (try file.scalar("loss"))) <= 1e-12 * loss)
    }

    @Test func bertLossIsMaskedLanguageModelPlusBinary() throws {
        let file = try ReferenceFile(.bert)
        let labels = try file.input("masked_labels").values
        let mask = try file.input("loss_mask").values
        #expect(zip(labels, mask).allSatisfy { ($0 >= 0) == ($1 == 1) })
        let mlm = meanCrossEntropy(try file.output("mlm_logits"), labels: labels, mask: mask)
        let binary = meanCrossEntropy(try file.output("binary_logits"),
                                      labels: try file.input("sentence_order_labels").values, mask: nil)
        #expect(abs(mlm - (try file.scalar("mlm_loss"))) <= 1e-12 * mlm)
        #expect(abs(binary - (try file.scalar("binary_loss"))) <= 1e-12 * binary)
        #expect(abs(mlm + binary - (try file.scalar("loss"))) <= 1e-12 * (mlm + binary))
        #expect(try file.input("padding_mask").values.contains(0), "the second sequence is padded")
    }

    @Test func multipleChoiceLossIsTheMeanOverQuestions() throws {
        let file = try ReferenceFile(.bertMultipleChoice)
        let loss = meanCrossEntropy(try file.output("logits"), labels: try file.input("labels").values, mask: nil)
        #expect(abs(loss - (try file.scalar("loss"))) <= 1e-12 * loss)
    }

    @Test func loadsFloatCopiesOfTheStoredDoubles() throws {
        let file = try ReferenceFile(.gpt2)
        let name = "layers.1.attention.query_key_value.weight"
        let double = try file.weight(name)
        let float = try file.weight(name, as: Float.self)
        #expect(float.shape == double.shape)
        #expect(float.array == double.array.map { Float($0) })
    }

    /// Mean over the rows whose mask is 1 (all rows without a mask) of -log softmax(row)[label].
    private func meanCrossEntropy(_ logits: Tensor<Double>, labels: [Int32], mask: [Int32]?) -> Double {
        let width = logits.lastDimension
        var total = 0.0, counted = 0
        for row in 0..<logits.rows where mask?[row] ?? 1 == 1 {
            let values = Array(logits.buffer[(row * width)..<((row + 1) * width)])
            let largest = values.max()!
            let logSum = largest + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - largest) })
            total += logSum - values[Int(labels[row])]
            counted += 1
        }
        return total / Double(counted)
    }
}
