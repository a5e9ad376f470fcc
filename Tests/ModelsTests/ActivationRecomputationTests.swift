import Collectives
import Models
import Testing
import TensorCore
import TensorParallel

/// The bytes of every tensor storage reachable from `root` through stored properties (private ones
/// included), each storage once: what a model holds, counted rather than estimated. The walk stops
/// at the tensor-parallel group, whose communicator is the world's, not the model's.
func reachableTensorBytes(_ root: Any) -> Int {
    var seen = Set<ObjectIdentifier>()
    var bytes = 0
    func visit(_ value: Any) {
        if value is TensorParallelGroup { return }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .class {
            let object = value as AnyObject
            guard seen.insert(ObjectIdentifier(object)).inserted else { return }
            if let storage = object as? TensorStorage<Float> { bytes += 4 * storage.count }
            if let storage = object as? TensorStorage<Double> { bytes += 8 * storage.count }
        }
        var level: Mirror? = mirror
        while let current = level {
            for child in current.children { visit(child.value) }
            level = current.superclassMirror
        }
    }
    visit(root)
    return bytes
}

@Suite struct ActivationRecomputationTests {
    static let (batch, sequence) = (2, 9)

    /// The bytes a GPT of `layers` layers holds after one training step (dropout on), less those of
    /// its parameters and their gradients: the activation and activation-gradient buffers, which
    /// stay from step to step.
    static func activationBytes(layers: Int, recompute: Bool) throws -> Int {
        var config = tinyGPT
        config.layers = layers
        let gpt = config
        return try InProcessWorld.run(worldSize: 1) { world in
            let model = GPTModel<Float>(config: gpt, seed: 5, group: TensorParallelGroup(world),
                                        recomputeActivations: recompute)
            let input = gptInput(first: 0, count: batch, sequence: sequence, vocab: gpt.vocabSize)
            let context = StepContext(step: 1, batch: batch, sequence: sequence, dropoutSeed: 2)
            _ = try model.forwardBackward(input, context: context, lossScale: 1)
            return reachableTensorBytes(model) - reachableTensorBytes(model.parameters)
        }[0]
    }

    /// Issue 4: lower activation memory with recomputation, counted. Without it every layer adds
    /// its own workspace W; with it the layers share one and each adds only its kept [b·s, h]
    /// input, so at L layers the model holds (L − 1)·W − L·input bytes less.
    @Test func layersShareOneWorkspaceAndKeepOnlyTheirInputs() throws {
        let input = Self.batch * Self.sequence * tinyGPT.hidden * MemoryLayout<Float>.size
        let kept = (two: try Self.activationBytes(layers: 2, recompute: false),
                    four: try Self.activationBytes(layers: 4, recompute: false))
        let recomputed = (two: try Self.activationBytes(layers: 2, recompute: true),
                          four: try Self.activationBytes(layers: 4, recompute: true))
        let workspace = (kept.four - kept.two) / 2
        #expect((recomputed.four - recomputed.two) / 2 == input, "a recomputed layer must add only its input")
        #expect(recomputed.four == kept.four - 3 * workspace + 4 * input)
        #expect(workspace > 10 * input, "a layer's workspace (\(workspace) bytes) against its input (\(input))")
    }

    /// The multiple-choice model recomputes its body too: one step's loss and every gradient are
    /// bit-identical with and without recomputation (GPT and BERT pretraining: TrainingTests).
    @Test func multipleChoiceGradientsAreBitIdentical() throws {
        let results = try [false, true].map { recompute in
            try InProcessWorld.run(worldSize: 1) { world in
                let model = BERTMultipleChoiceModel<Float>(config: tinyBERT, seed: 3, group: TensorParallelGroup(world),
                                                          recomputeActivations: recompute)
                let input = choiceInput(first: 0, count: 2, sequence: 8, vocab: tinyBERT.vocabSize)
                let context = StepContext(step: 2, batch: 8, sequence: 8, dropoutSeed: 6)
                let loss = try model.forwardBackward(input, context: context, lossScale: 1).total
                return (loss: loss, gradients: model.parameters.gradients.array.map(\.bitPattern))
            }[0]
        }
        let (kept, recomputed) = (results[0], results[1])
        #expect(recomputed.loss == kept.loss)
        let differing = zip(kept.gradients, recomputed.gradients).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(kept.gradients.count) gradient elements differ")
        #expect(kept.gradients.contains { $0 != 0 })
    }
}
