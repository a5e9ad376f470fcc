import Collectives
import Models
import TensorCore
import TensorParallel
import Testing

/// Our BERT in the original post-LN order, given the weights of Hugging Face's
/// BertForPreTraining (bert.h5) and BertForMultipleChoice (bert_multiple_choice.h5), must give
/// their logits, losses and every parameter gradient, at any tensor-parallel size.
@Suite("BERT against the Hugging Face reference")
struct BERTReferenceTests {
    @Test(arguments: [1, 2, 4])
    func pretrainingMatchesInDouble(tp: Int) throws {
        expect(try BERTReferenceTests.pretraining(Double.self, tp: tp), outputs: 1e-12, gradients: 1e-10)
    }

    @Test(arguments: [1, 2])
    func pretrainingMatchesInFloat(tp: Int) throws {
        expect(try BERTReferenceTests.pretraining(Float.self, tp: tp), outputs: 1e-5, gradients: 1e-4)
    }

    @Test(arguments: [1, 2, 4])
    func multipleChoiceMatchesInDouble(tp: Int) throws {
        expect(try BERTReferenceTests.multipleChoice(Double.self, tp: tp), outputs: 1e-12, gradients: 1e-10)
    }

    @Test(arguments: [1, 2])
    func multipleChoiceMatchesInFloat(tp: Int) throws {
        expect(try BERTReferenceTests.multipleChoice(Float.self, tp: tp), outputs: 1e-5, gradients: 1e-4)
    }

    private func expect(_ agreement: ReferenceAgreement, outputs: Double, gradients: Double) {
        for (name, difference) in agreement.outputs { #expect(difference <= outputs, "\(name): \(difference)") }
        for (name, difference) in agreement.gradients { #expect(difference <= gradients, "\(name): \(difference)") }
    }

    static func config(_ file: ReferenceFile) -> BERTConfig {
        let c = file.config
        #expect(c.gelu == "erf" && c.ffnHidden == 4 * c.hidden && c.layerOrder.hasPrefix("post-LN"))
        return BERTConfig(layers: c.layers, hidden: c.hidden, heads: c.heads, maxPositions: c.maxPositions,
                          vocabSize: c.vocab, paddedVocabSize: c.paddedVocab, tokenTypes: c.tokentypes ?? 2,
                          gelu: .erf, attentionDropout: 0, hiddenDropout: 0,
                          layerNormEpsilon: c.layernormEpsilon, postLayerNorm: true)
    }

    static func pretraining<T: TensorScalar>(_: T.Type, tp: Int) throws -> ReferenceAgreement {
        let file = try ReferenceFile(.bert)
        let config = config(file)
        let reference = try ReferenceTensors(file)
        let (tokens, shape) = try file.input("tokens")
        let input = BERTInput(tokens: tokens, tokenTypes: try file.input("token_types").values,
                              paddingMask: try file.input("padding_mask").values.map(Float.init),
                              maskedLabels: try file.input("masked_labels").values,
                              maskedLossMask: try file.input("loss_mask").values.map(Float.init),
                              binaryLabels: try file.input("sentence_order_labels").values)
        let mlmLogits = try file.output("mlm_logits").reshaped([shape[0] * shape[1], config.paddedVocabSize])
        let binaryLogits = try file.output("binary_logits")
        let losses = (mlm: try file.scalar("mlm_loss"), binary: try file.scalar("binary_loss"),
                      total: try file.scalar("loss"))
        let ranks = try InProcessWorld.run(worldSize: tp) { world in
            let model = BERTModel<T>(config: config, seed: 1, group: TensorParallelGroup(world))
            try reference.load(into: model.parameters, rank: world.rank, size: tp)
            model.parameters.zeroGradients()
            let context = StepContext(step: 0, batch: shape[0], sequence: shape[1], dropoutSeed: 0)
            let out = try model.forward(input, context: context)
            let ours = (mlm: out.maskedLogits.converted(to: Double.self), binary: out.binaryLogits.converted(to: Double.self))
            // Our LM head runs on the scored positions only: compare the reference's rows there.
            let scored = input.maskedLossMask.indices.filter { input.maskedLossMask[$0] != 0 }
            let shard = Partition.split(dimension: 1, stride: 1).shard(mlmLogits, rank: world.rank, size: tp)
            let expectedMLM = Tensor<Double>(shape: [scored.count, shard.lastDimension],
                                             values: scored.flatMap { shard[$0].array })
            let report = try model.forwardBackward(input, context: context, lossScale: 1)
            return ReferenceAgreement(
                outputs: ["mlm_logits": relativeDifference(ours.mlm, expectedMLM),
                          "binary_logits": relativeDifference(ours.binary, binaryLogits),
                          "mlm_loss": relativeDifference(report.parts["mlm"] ?? .nan, losses.mlm),
                          "binary_loss": relativeDifference(report.parts["binary"] ?? .nan, losses.binary),
                          "loss": relativeDifference(report.total, losses.total)],
                gradients: reference.gradientDifferences(model.parameters, rank: world.rank, size: tp))
        }
        return ReferenceAgreement.worst(ranks)
    }

    static func multipleChoice<T: TensorScalar>(_: T.Type, tp: Int) throws -> ReferenceAgreement {
        let file = try ReferenceFile(.bertMultipleChoice)
        let config = config(file)
        let reference = try ReferenceTensors(file)
        let (tokens, shape) = try file.input("tokens")          // [questions, choices, sequence]
        let input = MultipleChoiceInput(tokens: tokens, tokenTypes: try file.input("token_types").values,
                                        paddingMask: try file.input("padding_mask").values.map(Float.init),
                                        labels: try file.input("labels").values, choices: shape[1])
        let logits = try file.output("logits")
        let loss = try file.scalar("loss")
        let ranks = try InProcessWorld.run(worldSize: tp) { world in
            let model = BERTMultipleChoiceModel<T>(config: config, seed: 1, group: TensorParallelGroup(world))
            try reference.load(into: model.parameters, rank: world.rank, size: tp)
            model.parameters.zeroGradients()
            let context = StepContext(step: 0, batch: shape[0] * shape[1], sequence: shape[2], dropoutSeed: 0)
            let ours = try model.forward(input, context: context).converted(to: Double.self)
            let report = try model.forwardBackward(input, context: context, lossScale: 1)
            // A bias shared by all choices cancels in their softmax: its exact gradient is 0.
            return ReferenceAgreement(
                outputs: ["logits": relativeDifference(ours, logits), "loss": relativeDifference(report.total, loss)],
                gradients: reference.gradientDifferences(model.parameters, rank: world.rank, size: tp,
                                                         vanishing: ["multiple_choice_head.bias"]))
        }
        return ReferenceAgreement.worst(ranks)
    }
}
