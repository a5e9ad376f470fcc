import Collectives
import Datasets
import Foundation
import Models
import TensorCore
import TensorParallel

/// The tiny data set, generated once per test process into a fresh temporary directory.
enum TinyFixture {
    private static let generated: Result<TinyData.Files, any Error> = Result {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tasks-tiny-\(UUID().uuidString)")
        return try TinyData.write(to: url.path)
    }

    static func files() throws -> TinyData.Files { try generated.get() }
}

/// Runs `body` on every rank of a tp × dp grid of threads; results by world rank.
func onGrid<R: Sendable>(tp: Int, dp: Int, _ body: @escaping @Sendable (ProcessGrid) throws -> R) throws -> [R] {
    try InProcessWorld.run(worldSize: tp * dp, timeout: 120) { world in
        try body(try ProcessGrid(world: world, tensorParallel: tp, dataParallel: dp))
    }
}

/// A two-layer GPT for a vocabulary of `vocabSize`, padded to a multiple of 8 (any tp ≤ 8).
func tinyGPT(vocabSize: Int, positions: Int) -> GPTConfig {
    GPTConfig(layers: 2, hidden: 16, heads: 4, maxPositions: positions, vocabSize: vocabSize,
              paddedVocabSize: (vocabSize + 7) / 8 * 8, initStd: 0.2)
}

func tinyBERT(vocabSize: Int, positions: Int) -> BERTConfig {
    BERTConfig(layers: 2, hidden: 16, heads: 4, maxPositions: positions, vocabSize: vocabSize,
               paddedVocabSize: (vocabSize + 7) / 8 * 8, initStd: 0.2)
}

extension ParameterSet {
    func named(_ name: String) -> Parameter<T> {
        guard let p = parameters.first(where: { $0.name == name }) else { preconditionFailure("no parameter \(name)") }
        return p
    }
}

/// Makes every logit of `model` the same function of nothing but the vocabulary: the final
/// layer norm outputs its bias `u` (weight 0), so logits[v] = u · E[v] at every position; with
/// E[favourite] = 10·u the favourite wins everywhere by a wide margin.
func makeFavour<T: TensorScalar>(_ model: GPTModel<T>, token favourite: Int) {
    let parameters = model.parameters
    parameters.named("final_layernorm.weight").value.fill(0)
    parameters.named("final_layernorm.bias").value.fill(1)
    let embedding = parameters.named("embedding.word_embeddings.weight").value
    let range = VocabUtility.range(paddedVocabSize: model.config.paddedVocabSize, rank: model.tensorParallel.rank,
                                   worldSize: model.tensorParallel.size)
    if range.contains(favourite) {
        let row = embedding.rows((favourite - range.lowerBound)..<(favourite - range.lowerBound + 1))
        row.fill(10)
    }
}
