/// Layer normalization over the last dimension: out = (x − mean)·rstd·γ + β, with
/// rstd = 1/√(var + ε) and the biased variance, as torch.nn.LayerNorm.
public enum LayerNorm {
    // out, x: [rows, h]; mean, rstd: [rows] (saved for backward); gamma, beta: [h]. out may be x.
    @inlinable
    public static func forward<T: TensorScalar>(
        out: Tensor<T>, mean: Tensor<T>, rstd: Tensor<T>,
        x: Tensor<T>, gamma: Tensor<T>, beta: Tensor<T>, epsilon: T = 1e-5
    ) {
        let h = x.lastDimension, rows = x.rows
        precondition(out.count == x.count && mean.count == rows && rstd.count == rows
                     && gamma.count == h && beta.count == h,
                     "LayerNorm.forward: out \(out.shape), mean \(mean.shape), rstd \(rstd.shape), gamma \(gamma.shape), beta \(beta.shape) for x \(x.shape)")
        let o = out.pointer, xp = x.pointer, mp = mean.pointer, rp = rstd.pointer
        let gp = gamma.pointer, bp = beta.pointer
        parallelChunks(rows, grain: rowGrain(h)) { range in
            for r in range {
                let row = xp + r * h
                let mu = rowSum(row, h) { $0 } / T(h)
                // Two passes (mean, then squared deviations): one-pass E[x²] − mean² cancels badly.
                let variance = rowSum(row, h) { ($0 - mu) * ($0 - mu) } / T(h)
                let s = 1 / (variance + epsilon).squareRoot()
                mp[r] = mu
                rp[r] = s
                let y = o + r * h
                var j = 0
                while j + 8 <= h {
                    store8((load8(row + j) - mu) * s * load8(gp + j) + load8(bp + j), y + j)
                    j += 8
                }
                while j < h {
                    y[j] = (row[j] - mu) * s * gp[j] + bp[j]
                    j += 1
                }
            }
        }
    }

    // dx, dOut, x: [rows, h]; mean, rstd: [rows]; gamma, dGamma, dBeta: [h].
    // dx is written and may be dOut; dGamma and dBeta accumulate.
    @inlinable
    public static func backward<T: TensorScalar>(
        dx: Tensor<T>, dGamma: Tensor<T>, dBeta: Tensor<T>,
        dOut: Tensor<T>, x: Tensor<T>, mean: Tensor<T>, rstd: Tensor<T>, gamma: Tensor<T>
    ) {
        let h = x.lastDimension, rows = x.rows
        precondition(dx.count == x.count && dOut.count == x.count && mean.count == rows
                     && rstd.count == rows && gamma.count == h && dGamma.count == h && dBeta.count == h,
                     "LayerNorm.backward: dx \(dx.shape), dOut \(dOut.shape), gamma \(gamma.shape), dGamma \(dGamma.shape), dBeta \(dBeta.shape) for x \(x.shape)")
        let d = dx.pointer, g = dOut.pointer, xp = x.pointer, mp = mean.pointer, rp = rstd.pointer
        let gp = gamma.pointer, dg = dGamma.pointer, db = dBeta.pointer
        parallelPartialSums(rows, grain: rowGrain(h), width: 2 * h, { range, partial in
            // partial[0..<h] collects this chunk's dγ, partial[h..<2h] its dβ.
            for r in range {
                let xr = xp + r * h, gr = g + r * h, dr = d + r * h
                let mu = mp[r], s = rp[r]
                // dx = s·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with x̂ = (x − μ)·s and ĝ = dOut·γ.
                var sumG0 = SIMD8<T>(), sumG1 = SIMD8<T>(), sumGX0 = SIMD8<T>(), sumGX1 = SIMD8<T>()
                var j = 0
                while j + 16 <= h {
                    let xh0 = (load8(xr + j) - mu) * s, xh1 = (load8(xr + j + 8) - mu) * s
                    let o0 = load8(gr + j), o1 = load8(gr + j + 8)
                    let gh0 = o0 * load8(gp + j), gh1 = o1 * load8(gp + j + 8)
                    sumG0 += gh0; sumG1 += gh1
                    sumGX0 += gh0 * xh0; sumGX1 += gh1 * xh1
                    store8(load8(partial + j) + o0 * xh0, partial + j)
                    store8(load8(partial + j + 8) + o1 * xh1, partial + j + 8)
                    store8(load8(partial + h + j) + o0, partial + h + j)
                    store8(load8(partial + h + j + 8) + o1, partial + h + j + 8)
                    j += 16
                }
                var sumG = (sumG0 + sumG1).sum(), sumGX = (sumGX0 + sumGX1).sum()
                while j < h {
                    let xh = (xr[j] - mu) * s, o = gr[j], gh = o * gp[j]
                    sumG += gh
                    sumGX += gh * xh
                    partial[j] += o * xh
                    partial[h + j] += o
                    j += 1
                }
                let meanG = sumG / T(h), meanGX = sumGX / T(h)
                j = 0
                while j + 8 <= h {
                    let xh = (load8(xr + j) - mu) * s
                    store8((load8(gr + j) * load8(gp + j) - meanG - xh * meanGX) * s, dr + j)
                    j += 8
                }
                while j < h {
                    let xh = (xr[j] - mu) * s
                    dr[j] = (gr[j] * gp[j] - meanG - xh * meanGX) * s
                    j += 1
                }
            }
        }, combine: { partial in
            for j in 0..<h {
                dg[j] += partial[j]
                db[j] += partial[h + j]
            }
        })
    }

    /// Σ f(row[j]) over j < n, with four vector accumulators so the adds pipeline.
    @inlinable @inline(__always)
    static func rowSum<T: TensorScalar>(_ row: UnsafePointer<T>, _ n: Int, _ f: (SIMD8<T>) -> SIMD8<T>) -> T {
        var a0 = SIMD8<T>(), a1 = SIMD8<T>(), a2 = SIMD8<T>(), a3 = SIMD8<T>()
        var j = 0
        while j + 32 <= n {
            a0 += f(load8(row + j)); a1 += f(load8(row + j + 8))
            a2 += f(load8(row + j + 16)); a3 += f(load8(row + j + 24))
            j += 32
        }
        while j + 8 <= n {
            a0 += f(load8(row + j))
            j += 8
        }
        var total = ((a0 + a1) + (a2 + a3)).sum()
        if j < n {
            let tail = f(load8(row + j, count: n - j, padding: 0))
            for i in 0..<(n - j) { total += tail[i] }
        }
        return total
    }
}
