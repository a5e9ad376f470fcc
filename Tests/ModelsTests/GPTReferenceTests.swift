import Collectives
import Models
import TensorCore
import TensorParallel
import Testing

/// Our GPT-2, given the weights of Hugging Face's GPT2LMHeadModel (gpt2.h5), must give its
/// logits, loss and every parameter gradient, at any tensor-parallel size.
@Suite("GPT-2 against the Hugging Face reference")
struct GPTReferenceTests {
    @Test(arguments: [1, 2, 4])
    func matchesInDouble(tp: Int) throws {
        let agreement = try GPTReferenceTests.agreement(Double.self, tp: tp)
        for (name, difference) in agreement.outputs { #expect(difference <= 1e-12, "\(name): \(difference)") }
        for (name, difference) in agreement.gradients { #expect(difference <= 1e-10, "\(name): \(difference)") }
    }

    @Test(arguments: [1, 2])
    func matchesInFloat(tp: Int) throws {
        let agreement = try GPTReferenceTests.agreement(Float.self, tp: tp)
        for (name, difference) in agreement.outputs { #expect(difference <= 1e-5, "\(name): \(difference)") }
        for (name, difference) in agreement.gradients { #expect(difference <= 1e-4, "\(name): \(difference)") }
    }

    static func agreement<T: TensorScalar>(_: T.Type, tp: Int) throws -> ReferenceAgreement {
        let file = try ReferenceFile(.gpt2)
        let c = file.config
        #expect(c.gelu == "tanh" && c.ffnHidden == 4 * c.hidden)
        let config = GPTConfig(layers: c.layers, hidden: c.hidden, heads: c.heads, maxPositions: c.maxPositions,
                               vocabSize: c.vocab, paddedVocabSize: c.paddedVocab, gelu: .tanh,
                               attentionDropout: 0, hiddenDropout: 0, layerNormEpsilon: c.layernormEpsilon)
        let reference = try ReferenceTensors(file)
        let (tokens, shape) = try file.input("tokens")
        let input = GPTInput(tokens: tokens, labels: try file.input("labels").values)
        let logits = try file.output("logits").reshaped([shape[0] * shape[1], c.paddedVocab])
        let loss = try file.scalar("loss")
        let ranks = try InProcessWorld.run(worldSize: tp) { world in
            let model = GPTModel<T>(config: config, seed: 1, group: TensorParallelGroup(world))
            try reference.load(into: model.parameters, rank: world.rank, size: tp)
            model.parameters.zeroGradients()
            let context = StepContext(step: 0, batch: shape[0], sequence: shape[1], dropoutSeed: 0)
            let ours = try model.forward(input, context: context).logits.converted(to: Double.self)
            let expected = Partition.split(dimension: 1, stride: 1).shard(logits, rank: world.rank, size: tp)
            let report = try model.forwardBackward(input, context: context, lossScale: 1)
            return ReferenceAgreement(
                outputs: ["logits": relativeDifference(ours, expected), "loss": relativeDifference(report.total, loss)],
                gradients: reference.gradientDifferences(model.parameters, rank: world.rank, size: tp))
        }
        return ReferenceAgreement.worst(ranks)
    }
}
