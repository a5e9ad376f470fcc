import Collectives
import Models
import Testing
import TensorCore
import TensorParallel

/// Evaluation's forward: a forward-only model (no activations kept for a backward) with the
/// output layer at the scored positions only gives, at those positions, what the training
/// model's full forward gives, at any tp: the same up to the rounding of a GEMM over fewer rows
/// (BLAS blocks the M rows differently), and the same bits when run again.
@Suite struct ForwardOnlyTests {
    @Test(arguments: [1, 2, 4])
    func scoredForwardEqualsFullForward(tp: Int) throws {
        try check(Double.self, tp: tp, tolerance: 1e-13)
        try check(Float.self, tp: tp, tolerance: 1e-6)
    }

    func check<T: TensorScalar>(_: T.Type, tp: Int, tolerance: Double) throws {
        let (batch, sequence) = (3, 9)
        let input = gptInput(first: 0, count: batch, sequence: sequence, vocab: tinyGPT.vocabSize)
        let rows = [0, 5, 8, 9, 17, 20, 26]
        let context = StepContext(step: 0, batch: batch, sequence: sequence, dropoutSeed: 0, training: false)
        let results = try InProcessWorld.run(worldSize: tp) { world in
            let group = TensorParallelGroup(world)
            let full = try GPTModel<T>(config: tinyGPT, seed: 5, group: group).forward(input, context: context)
            let model = GPTModel<T>(config: tinyGPT, seed: 5, group: group, forwardOnly: true)
            var runs: [(losses: [Double], logits: [Double])] = []
            for _ in 0..<2 {   // again: the shared buffers leave nothing behind
                let scored = try model.scoredForward(input, rows: rows, context: context)
                runs.append((scored.losses.array.map(Double.init), scored.logits.array.map(Double.init)))
            }
            let width = full.logits.lastDimension
            let expectedLogits = rows.flatMap { Array(full.logits.array[($0 * width)..<(($0 + 1) * width)]) }
            return (rows.map { Double(full.losses.array[$0]) }, expectedLogits.map(Double.init), runs)
        }
        for (losses, logits, runs) in results {
            #expect(runs[0].losses == runs[1].losses && runs[0].logits == runs[1].logits)
            #expect(maxRelative(runs[0].losses, losses) <= tolerance)
            #expect(maxRelative(runs[0].logits, logits) <= tolerance)
        }
    }
}

/// max |a − b| / max |b|.
func maxRelative(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
}
