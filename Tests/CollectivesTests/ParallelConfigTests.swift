import Collectives
import Testing

@Suite struct ParallelConfigTests {
    let gpt = ModelDimensions(hiddenSize: 768, attentionHeads: 12, vocabSize: 50257,
                              sequenceLength: 1024, globalBatchSize: 8)

    @Test func aFittingLayoutPassesAndPadsTheVocab() throws {
        let padded = try ParallelConfig(worldSize: 8, tensorParallel: 4, dataParallel: 2).validate(gpt)
        #expect(padded == 50688)  // the next multiple of 128 × 4 above 50257
        #expect(try ParallelConfig(worldSize: 2, tensorParallel: 1, dataParallel: 2).validate() == nil)
    }

    @Test func everyViolationIsReportedAtOnce() {
        var model = ModelDimensions(hiddenSize: 100, attentionHeads: 6, ffnHiddenSize: 401, vocabSize: 1000,
                                    vocabPadding: .fixed(1001), sequenceLength: 0, globalBatchSize: 7,
                                    microBatchSize: 2)
        let config = ParallelConfig(worldSize: 7, tensorParallel: 4, dataParallel: 2)
        let found = config.violations(model)
        let expected: [ParallelConfigViolation] = [
            .worldSizeMismatch(worldSize: 7, tensorParallel: 4, dataParallel: 2, pipelineParallel: 1),
            .notPositive(field: "sequence length", value: 0),
            .notDivisible(field: "hidden size", value: 100, divisor: "attention heads", by: 6),
            .notDivisible(field: "attention heads", value: 6, divisor: "tensor-parallel size", by: 4),
            .notDivisible(field: "FFN hidden size", value: 401, divisor: "tensor-parallel size", by: 4),
            .notDivisible(field: "padded vocab size", value: 1001, divisor: "tensor-parallel size", by: 4),
            .notDivisible(field: "global batch size", value: 7, divisor: "data-parallel size", by: 2),
        ]
        #expect(found == expected)
        #expect(throws: ParallelConfigError(violations: expected)) { try config.validate(model) }
        let message = "\(ParallelConfigError(violations: found))"
        #expect(message.contains("7 problems") && message.contains("hidden size 100"))

        model = ModelDimensions(hiddenSize: 96, attentionHeads: 6, vocabSize: 1000, vocabPadding: .fixed(500),
                                sequenceLength: 16, globalBatchSize: 12, microBatchSize: 4)
        #expect(ParallelConfig(worldSize: 4, tensorParallel: 2, dataParallel: 2).violations(model) == [
            .paddedVocabTooSmall(padded: 500, vocab: 1000),
            .notDivisible(field: "global batch size / data-parallel size", value: 6, divisor: "micro batch size", by: 4),
        ])
    }

    @Test func nonPositiveSizesAreNamed() {
        let found = ParallelConfig(worldSize: 0, tensorParallel: -1, dataParallel: 0).violations()
        #expect(found == [
            .notPositive(field: "world size", value: 0),
            .notPositive(field: "tensor-parallel size", value: -1),
            .notPositive(field: "data-parallel size", value: 0),
        ])
    }

    @Test(arguments: [1, 2, 3, 4, 8])
    func megatronPaddingIsTheSmallestMultipleOf128TimesTP(tp: Int) throws {
        for vocab in [1, 127, 128, 129, 30522, 50257] {
            let padded = try VocabPadding.megatron.paddedSize(vocabSize: vocab, tensorParallel: tp)
            #expect(padded >= vocab && padded % (128 * tp) == 0 && padded - vocab < 128 * tp)
        }
    }

    @Test func aFixedPaddedSizeMustHoldTheVocabAndSplitEvenly() throws {
        #expect(try VocabPadding.fixed(1024).paddedSize(vocabSize: 1000, tensorParallel: 4) == 1024)
        #expect(throws: ParallelConfigError(violations: [
            .notDivisible(field: "padded vocab size", value: 1026, divisor: "tensor-parallel size", by: 4),
        ])) { try VocabPadding.fixed(1026).paddedSize(vocabSize: 1000, tensorParallel: 4) }
    }

    @Test func vocabRangesTileThePaddedVocabulary() {
        for tp in [1, 2, 4] {
            let ranges = (0..<tp).map { VocabUtility.range(paddedVocabSize: 1024, rank: $0, worldSize: tp) }
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 1024)
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            #expect(Set(ranges.map(\.count)) == [1024 / tp])
        }
    }
}

@Suite struct SequenceParallelConfigTests {
    let model = ModelDimensions(hiddenSize: 64, attentionHeads: 4, vocabSize: 256, sequenceLength: 18, globalBatchSize: 8)

    /// Sequence parallelism shards the sequence across the tensor-parallel ranks: it needs more
    /// than one, and a sequence that splits evenly. Each violation is reported, with the fix.
    @Test func needsTensorParallelismAndADivisibleSequence() {
        var serial = ParallelConfig(worldSize: 1, tensorParallel: 1, dataParallel: 1)
        serial.sequenceParallel = true
        #expect(serial.violations(model) == [.sequenceParallelWithoutTensorParallel])
        #expect("\(ParallelConfigViolation.sequenceParallelWithoutTensorParallel)".contains("set tp ≥ 2"))

        var uneven = ParallelConfig(worldSize: 4, tensorParallel: 4, dataParallel: 1)
        uneven.sequenceParallel = true
        let violation = ParallelConfigViolation.sequenceNotDivisibleForSequenceParallel(sequenceLength: 18, tensorParallel: 4)
        #expect(uneven.violations(model) == [violation])
        #expect("\(violation)".contains("sequence length 18") && "\(violation)".contains("choose a multiple of 4"))

        var fitting = ParallelConfig(worldSize: 2, tensorParallel: 2, dataParallel: 1)
        fitting.sequenceParallel = true
        #expect(fitting.violations(model).isEmpty)
        uneven.sequenceParallel = false
        #expect(uneven.violations(model).isEmpty, "without sequence parallelism the sequence need not split")
    }
}
