import Testing
import TensorCore

@Suite struct EmbeddingTests {
    let vocabulary = 11, hidden = 37
    let ids: [Int32] = (0..<23).map { Int32(($0 * 7 + 2) % 11) }   // repeats every id

    func lookup<T: TensorScalar>(_ table: Tensor<T>, firstRow: Int = 0) -> Tensor<T> {
        let out = Tensor<T>(zeros: [ids.count, hidden])
        Embedding.forward(out: out, table: table, ids: ids, firstRow: firstRow)
        return out
    }

    @Test func forwardCopiesRowsAndShardsMaskOthers() {
        let table: Tensor<Double> = filled([vocabulary, hidden], seed: 1)
        let out = lookup(table)
        for (t, id) in ids.enumerated() {
            #expect(out[t].array == table[Int(id)].array)
        }
        // A shard owning ids 4..<9: its rows where owned, zeros elsewhere.
        let shard = table.narrowed(dimension: 0, start: 4, length: 5)
        let partial = lookup(shard, firstRow: 4)
        for (t, id) in ids.enumerated() {
            #expect(partial[t].array == ((4..<9).contains(Int(id)) ? table[Int(id)].array : [Double](repeating: 0, count: hidden)))
        }
    }

    @Test(arguments: [1, 2])
    func backwardAccumulatesAndMatchesFiniteDifferences(threads: Int) {
        let table: Tensor<Double> = filled([vocabulary, hidden], seed: 2), w: Tensor<Double> = filled([ids.count, hidden], seed: 3)
        let start: Tensor<Double> = filled([vocabulary, hidden], seed: 4)
        let dTable = start.copy()
        withComputeThreads(threads) { Embedding.backward(dTable: dTable, dOut: w, ids: ids) }
        let numeric = numericGradient(of: table) { weightedSum(lookup(table), w) }
        #expect(relativeError(dTable.array, zip(start.array, numeric).map { $0 + $1 }) <= 1e-6)

        let dTableF = Tensor<Float>(zeros: [vocabulary, hidden])
        Embedding.backward(dTable: dTableF, dOut: w.converted(to: Float.self), ids: ids)
        #expect(relativeError(dTableF.array.map { Double($0) }, numeric) <= 1e-5)

        // A shard's gradient is the full gradient's rows it owns.
        let dShard = Tensor<Double>(zeros: [5, hidden])
        Embedding.backward(dTable: dShard, dOut: w, ids: ids, firstRow: 4)
        #expect(relativeError(dShard.array, Array(numeric[(4 * hidden)..<(9 * hidden)])) <= 1e-6)
    }
}
