/// Embedding lookup: row t of the output is row ids[t] of the table.
///
/// The table holds rows [firstRow, firstRow + table.rows) of the full vocabulary: a token whose
/// id lies outside gets a zero row and no gradient. With firstRow 0 and a full table that never
/// happens; a vocabulary-parallel shard passes its first id and sums the ranks' outputs.
public enum Embedding {
    // out: [tokens, h]; table: [rows, h]; ids: [tokens].
    @inlinable
    public static func forward<T: TensorScalar>(out: Tensor<T>, table: Tensor<T>, ids: [Int32], firstRow: Int = 0) {
        let h = table.lastDimension, rows = table.rows
        precondition(out.lastDimension == h && out.rows == ids.count,
                     "Embedding.forward: out \(out.shape) for \(ids.count) ids and table \(table.shape)")
        let o = out.pointer, tp = table.pointer
        ids.withUnsafeBufferPointer { ids in
            parallelChunks(ids.count, grain: rowGrain(h)) { range in
                for t in range {
                    let row = Int(ids[t]) - firstRow
                    if row >= 0 && row < rows {
                        (o + t * h).update(from: tp + row * h, count: h)
                    } else {
                        (o + t * h).update(repeating: 0, count: h)
                    }
                }
            }
        }
    }

    // dTable: [rows, h] accumulates dOut: [tokens, h] row by row at ids: [tokens].
    // Threads split the columns, not the tokens: repeated ids never race, and the sum order
    // is the token order whatever the thread count.
    @inlinable
    public static func backward<T: TensorScalar>(dTable: Tensor<T>, dOut: Tensor<T>, ids: [Int32], firstRow: Int = 0) {
        let h = dTable.lastDimension, rows = dTable.rows
        precondition(dOut.lastDimension == h && dOut.rows == ids.count,
                     "Embedding.backward: dOut \(dOut.shape) for \(ids.count) ids and dTable \(dTable.shape)")
        let dt = dTable.pointer, g = dOut.pointer
        ids.withUnsafeBufferPointer { ids in
            parallelChunks(h, grain: Swift.max(8, (1 << 15) / Swift.max(ids.count, 1))) { cols in
                for t in 0..<ids.count {
                    let row = Int(ids[t]) - firstRow
                    guard row >= 0 && row < rows else { continue }
                    let target = dt + row * h + cols.lowerBound
                    map8(cols.count, target, target, g + t * h + cols.lowerBound) { $0 + $1 }
                }
            }
        }
    }
}
