import TensorCore
import TensorParallel

/// Word (vocabulary-parallel) + learned position (+ token type, for BERT) embeddings, then
/// embedding dropout. Position and token-type tables are replicated.
final class LanguageModelEmbedding<T: TensorScalar> {
    let wordEmbeddings: VocabParallelEmbedding<T>
    let positionEmbeddings: Parameter<T>      // [max positions, h]
    let tokenTypeEmbeddings: Parameter<T>?    // [types, h]
    let dropout: HiddenDropout<T>

    private var context: StepContext?
    private var tokenTypes: [Int32] = []
    private var output = Reusable<T>(), typeRows = Reusable<T>()

    init(paddedVocabSize: Int, hidden: Int, maxPositions: Int, tokenTypes: Int?, dropout: Double,
         initStd: Double, initializer: ParameterInitializer, group: TensorParallelGroup) {
        wordEmbeddings = VocabParallelEmbedding(name: "embedding.word_embeddings", paddedVocabSize: paddedVocabSize,
                                                hidden: hidden, initStd: initStd, initializer: initializer, group: group)
        positionEmbeddings = Parameter(
            name: "embedding.position_embeddings.weight",
            full: initializer.normal("embedding.position_embeddings.weight", shape: [maxPositions, hidden], std: initStd),
            partition: .replicated, weightDecay: true, group: group)
        tokenTypeEmbeddings = tokenTypes.map {
            Parameter(name: "embedding.tokentype_embeddings.weight",
                      full: initializer.normal("embedding.tokentype_embeddings.weight", shape: [$0, hidden], std: initStd),
                      partition: .replicated, weightDecay: true, group: group)
        }
        self.dropout = HiddenDropout(site: "embedding.dropout", probability: dropout)
    }

    var parameters: [Parameter<T>] {
        wordEmbeddings.parameters + [positionEmbeddings] + (tokenTypeEmbeddings.map { [$0] } ?? [])
    }

    // tokens, tokenTypes: [b·s] → [b·s, h]
    func forward(tokens: [Int32], tokenTypes: [Int32]?, context: StepContext) throws -> Tensor<T> {
        precondition(context.sequence <= positionEmbeddings.value.rows,
                     "LanguageModelEmbedding: sequence \(context.sequence) beyond \(positionEmbeddings.value.rows) positions")
        self.context = context
        let words = try wordEmbeddings.forward(tokens)
        let h = words.lastDimension, s = context.sequence
        let out = output(words.shape)
        let positions = positionEmbeddings.value.rows(0..<s)
        for b in 0..<context.batch {
            ResidualAdd.forward(out: out.rows((b * s)..<((b + 1) * s)), a: words.rows((b * s)..<((b + 1) * s)), b: positions)
        }
        if let table = tokenTypeEmbeddings, let tokenTypes {
            self.tokenTypes = tokenTypes
            let types = typeRows([tokens.count, h])
            Embedding.forward(out: types, table: table.value, ids: tokenTypes)
            ResidualAdd.forward(out: out, a: out, b: types)
        }
        dropout.forward(out, context: context)
        return out
    }

    // dOut: [b·s, h] (consumed: it is scaled in place by the dropout mask)
    func backward(_ dOut: Tensor<T>) {
        guard let context else { preconditionFailure("LanguageModelEmbedding.backward before forward") }
        dropout.backward(dOut, context: context)
        let s = context.sequence
        let positions = positionEmbeddings.gradient.rows(0..<s)
        for b in 0..<context.batch {
            ResidualAdd.forward(out: positions, a: positions, b: dOut.rows((b * s)..<((b + 1) * s)))
        }
        if let table = tokenTypeEmbeddings {
            Embedding.backward(dTable: table.gradient, dOut: dOut, ids: tokenTypes)
        }
        wordEmbeddings.backward(dOut)
    }
}

extension LanguageModelEmbedding {
    /// The word embedding the tied output layer of `stage` uses: the embedding's own where the
    /// stage holds it; on a last stage without it a copy built from the same seed, so the copies
    /// start equal as Megatron's initial all-reduce over the embedding group makes them; none
    /// on the stages between.
    static func tiedWordEmbeddings(stage: PipelineStage, embedding: LanguageModelEmbedding?, paddedVocabSize: Int,
                                   hidden: Int, initStd: Double, initializer: ParameterInitializer,
                                   group: TensorParallelGroup) -> VocabParallelEmbedding<T>? {
        guard stage.isLast else { return nil }
        return embedding?.wordEmbeddings ?? VocabParallelEmbedding(
            name: "embedding.word_embeddings", paddedVocabSize: paddedVocabSize, hidden: hidden,
            initStd: initStd, initializer: initializer, group: group)
    }
}
