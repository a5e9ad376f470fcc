import TensorCore

/// The elementwise reduction behind both engines' allReduce and reduceScatter: combines
/// `sources` in their order (rank 0 first) and writes the result to every destination. Both
/// engines call it with the ranks' blocks in rank order, so they give the same bits.
///
/// Works in chunks through `scratch` so that the destinations may alias the sources and each
/// chunk is summed once, then copied while still in cache. Each element's value depends only
/// on the sources' order, never on how the work is split across ranks or chunks.
@_specialize(where T == Float)
@_specialize(where T == Double)
func reduceElementwise<T: TensorScalar>(
    _ sources: [UnsafePointer<T>], count: Int, op: ReduceOp,
    into destinations: [UnsafeMutablePointer<T>], scratch: UnsafeMutableRawPointer, scratchBytes: Int
) {
    let chunk = Swift.max(1, scratchBytes / MemoryLayout<T>.stride)
    let acc = scratch.bindMemory(to: T.self, capacity: chunk)
    var start = 0
    while start < count {
        let n = Swift.min(chunk, count - start)
        if sources.count == 1 {
            acc.update(from: sources[0] + start, count: n)
        } else {
            combine(acc, sources[0] + start, sources[1] + start, n, op)
            for k in 2..<sources.count { combine(acc, acc, sources[k] + start, n, op) }
        }
        for d in destinations {
            (d + start).update(from: acc, count: n)
        }
        start += n
    }
}

/// The balanced block of `count` elements that rank `r` of `parts` reduces in an all-reduce:
/// both engines split the work this way, though each element's value depends only on the order.
func balancedBlock(_ r: Int, of count: Int, parts: Int) -> Range<Int> {
    (r * count / parts)..<((r + 1) * count / parts)
}

/// out[i] = a[i] ⊕ b[i]; `out` may be `a`. Max propagates NaN so a diverged rank is seen by all.
@inline(__always)
func combine<T: TensorScalar>(
    _ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int, _ op: ReduceOp
) {
    switch op {
    case .sum:
        for i in 0..<n { out[i] = a[i] + b[i] }
    case .max:
        for i in 0..<n {
            let x = a[i], y = b[i]
            out[i] = (x > y || x.isNaN) ? x : y
        }
    }
}
