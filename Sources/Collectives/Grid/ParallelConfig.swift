/// The parallel layout of a run, checked against the model before anything is allocated.
public struct ParallelConfig: Sendable, Equatable {
    public var worldSize: Int
    public var tensorParallel: Int
    public var dataParallel: Int
    /// Sequence parallelism across the tensor-parallel ranks (needs tp > 1).
    public var sequenceParallel = false
    public var pipelineParallel: Int

    public init(worldSize: Int, tensorParallel: Int, dataParallel: Int, pipelineParallel: Int = 1) {
        self.worldSize = worldSize
        self.tensorParallel = tensorParallel
        self.dataParallel = dataParallel
        self.pipelineParallel = pipelineParallel
    }

    /// Throws one `ParallelConfigError` listing every violation, or returns the padded
    /// vocabulary size (nil without a model).
    @discardableResult
    public func validate(_ model: ModelDimensions? = nil) throws -> Int? {
        let found = violations(model)
        if !found.isEmpty { throw ParallelConfigError(violations: found) }
        return model.map { $0.vocabPadding.unchecked(vocabSize: $0.vocabSize, tensorParallel: tensorParallel) }
    }

    /// Every way this layout and `model` do not fit together; empty when they do.
    public func violations(_ model: ModelDimensions? = nil) -> [ParallelConfigViolation] {
        var found: [ParallelConfigViolation] = []
        func positive(_ field: String, _ value: Int) -> Bool {
            if value > 0 { return true }
            found.append(.notPositive(field: field, value: value))
            return false
        }
        func divisible(_ field: String, _ value: Int, _ divisor: String, _ by: Int) {
            if value % by != 0 {
                found.append(.notDivisible(field: field, value: value, divisor: divisor, by: by))
            }
        }
        let world = positive("world size", worldSize)
        let tp = positive("tensor-parallel size", tensorParallel)
        let dp = positive("data-parallel size", dataParallel)
        let pp = positive("pipeline-parallel size", pipelineParallel)
        if world && tp && dp && pp && worldSize != tensorParallel * pipelineParallel * dataParallel {
            found.append(.worldSizeMismatch(worldSize: worldSize, tensorParallel: tensorParallel,
                                            dataParallel: dataParallel, pipelineParallel: pipelineParallel))
        }
        guard let model else { return found }

        let hidden = positive("hidden size", model.hiddenSize)
        let heads = positive("attention heads", model.attentionHeads)
        let ffn = positive("FFN hidden size", model.ffnHiddenSize)
        let vocab = positive("vocab size", model.vocabSize)
        _ = positive("sequence length", model.sequenceLength)
        let batch = positive("global batch size", model.globalBatchSize)
        let micro = model.microBatchSize.map { positive("micro batch size", $0) } ?? false
        if hidden && heads { divisible("hidden size", model.hiddenSize, "attention heads", model.attentionHeads) }
        if tp {
            if hidden { divisible("hidden size", model.hiddenSize, "tensor-parallel size", tensorParallel) }
            if heads { divisible("attention heads", model.attentionHeads, "tensor-parallel size", tensorParallel) }
            if ffn { divisible("FFN hidden size", model.ffnHiddenSize, "tensor-parallel size", tensorParallel) }
            if vocab {
                let padding = model.vocabPadding.violations(vocabSize: model.vocabSize, tensorParallel: tensorParallel)
                found += padding
                if padding.isEmpty {
                    let padded = model.vocabPadding.unchecked(vocabSize: model.vocabSize, tensorParallel: tensorParallel)
                    divisible("padded vocab size", padded, "tensor-parallel size", tensorParallel)
                }
            }
        }
        if sequenceParallel && tp {
            if tensorParallel == 1 { found.append(.sequenceParallelWithoutTensorParallel) }
            if model.sequenceLength > 0 && model.sequenceLength % tensorParallel != 0 {
                found.append(.sequenceNotDivisibleForSequenceParallel(sequenceLength: model.sequenceLength,
                                                                      tensorParallel: tensorParallel))
            }
        }
        if dp && batch {
            divisible("global batch size", model.globalBatchSize, "data-parallel size", dataParallel)
            if micro, let microBatch = model.microBatchSize, model.globalBatchSize % dataParallel == 0 {
                divisible("global batch size / data-parallel size", model.globalBatchSize / dataParallel,
                          "micro batch size", microBatch)
                let microBatches = model.globalBatchSize / dataParallel / microBatch
                if pp && microBatch > 0 && microBatches < pipelineParallel {
                    found.append(.tooFewMicroBatches(microBatches: microBatches, pipelineParallel: pipelineParallel))
                }
            }
        }
        if pp, let layers = model.layers, positive("layers", layers) {
            divisible("layers", layers, "pipeline-parallel size", pipelineParallel)
        }
        return found
    }
}
