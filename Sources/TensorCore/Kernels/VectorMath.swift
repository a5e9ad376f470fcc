import RealModule

/// The transcendental functions the kernels need, on eight lanes.
///
/// Float lanes use branch-free polynomial approximations that compile to AVX2 (libm's expf and
/// erff are scalar calls and would stop the loops from vectorizing); Double lanes call libm, so
/// the Double kernels are exact references. The approximations' relative error is about 1e-7
/// (`exp` 2 ulp from Cephes' expf; `normalCDF` 1.2e-7 from Numerical Recipes' erfcc), far
/// inside the 1e-5 at which the Float kernels must match the Double ones.
/// After specialization the `T.self == Float.self` test is a constant and the other branch vanishes.
@usableFromInline
enum VectorMath {
    /// e^x.
    @inlinable @inline(__always)
    static func exp<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T> {
        if T.self == Float.self {
            return unsafeBitCast(FloatLanes.exp(unsafeBitCast(x, to: SIMD8<Float>.self)), to: SIMD8<T>.self)
        }
        var r = x
        for i in 0..<8 { r[i] = T.exp(x[i]) }
        return r
    }

    /// Φ(x) = P(N(0,1) ≤ x) = ½·erfc(−x/√2), the factor of the exact GeLU.
    @inlinable @inline(__always)
    static func normalCDF<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T> {
        if T.self == Float.self {
            return unsafeBitCast(FloatLanes.normalCDF(unsafeBitCast(x, to: SIMD8<Float>.self)), to: SIMD8<T>.self)
        }
        var r = x
        for i in 0..<8 { r[i] = T.erfc(-x[i] * T(0.70710678118654752440)) / 2 }
        return r
    }

    /// The lane-wise larger of `a` and `b`. (Comparisons and `squareRoot` on generic SIMD
    /// types compile lane by lane even after specialization, so both go through Float lanes here.)
    @inlinable @inline(__always)
    static func maximum<T: TensorScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
        if T.self == Float.self {
            let fa = unsafeBitCast(a, to: SIMD8<Float>.self), fb = unsafeBitCast(b, to: SIMD8<Float>.self)
            return unsafeBitCast(fa.replacing(with: fb, where: fb .> fa), to: SIMD8<T>.self)
        }
        var r = a
        for i in 0..<8 where b[i] > a[i] { r[i] = b[i] }
        return r
    }

    /// √x for x ≥ 0.
    @inlinable @inline(__always)
    static func squareRoot<T: TensorScalar>(_ x: SIMD8<T>) -> SIMD8<T> {
        if T.self == Float.self {
            return unsafeBitCast(FloatLanes.squareRoot(unsafeBitCast(x, to: SIMD8<Float>.self)), to: SIMD8<T>.self)
        }
        var r = x
        for i in 0..<8 { r[i] = x[i].squareRoot() }
        return r
    }

    /// ½·(1 + tanh(u)), the factor of the tanh GeLU. Float lanes use the identity
    /// ½·(1 + tanh u) = 1 / (1 + e^(−2u)), which needs only `exp`.
    @inlinable @inline(__always)
    static func halfOnePlusTanh<T: TensorScalar>(_ u: SIMD8<T>) -> SIMD8<T> {
        if T.self == Float.self {
            let f = unsafeBitCast(u, to: SIMD8<Float>.self)
            return unsafeBitCast(1 / (1 + FloatLanes.exp(-2 * f)), to: SIMD8<T>.self)
        }
        var r = u
        for i in 0..<8 { r[i] = (1 + T.tanh(u[i])) / 2 }
        return r
    }
}

/// Float approximations on AVX2-sized vectors.
@usableFromInline
enum FloatLanes {
    /// e^x for x ≤ 88 (larger x gives e^88). Cephes' expf: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-7 polynomial.
    @inlinable @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let input = x
        var x = x.replacing(with: 88, where: x .> 88)
        x.replace(with: -87.33654, where: x .< -87.33654)
        // Adding 1.5·2^23 rounds to an integer that sits in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = SIMD8(repeating: magic).addingProduct(x, 1.442_695_04)
        let n = shifted - magic
        var r = x.addingProduct(n, -0.693_359_375)
        r = r.addingProduct(n, 2.121_944_40e-4)
        // The polynomial by Estrin's scheme: independent pairs joined by powers of r, a
        // dependency chain of 3 fused multiply-adds instead of Horner's 6.
        let r2 = r * r
        let c01 = horner(SIMD8(repeating: 1.666_666_545_9e-1), r, 5.000_000_120_1e-1)
        let c23 = horner(SIMD8(repeating: 8.333_451_907_3e-3), r, 4.166_579_589_4e-2)
        let c45 = horner(SIMD8(repeating: 1.987_569_150_0e-4), r, 1.398_199_950_7e-3)
        let p = c01.addingProduct(r2, c23.addingProduct(r2, c45))
        let y = (r + 1).addingProduct(p, r2) * unsafeBitCast(
            (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23, to: SIMD8<Float>.self)
        // Below the clamp the true value is under Float's normal range: give 0, so e^−∞ = 0 and
        // masks can be additive −∞.
        return y.replacing(with: 0, where: input .< -87.33654)
    }

    /// √x for x ≥ 0 as x·(1/√x), the reciprocal root from the bit-level estimate refined by three
    /// Newton steps (relative error ≈ 1e−7). Swift's Float.squareRoot compiles to a libm call
    /// per lane on Linux; this stays in vector registers. √0 = 0.
    @inlinable @inline(__always)
    static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let bits = 0x5F37_5A86 &- (unsafeBitCast(x, to: SIMD8<UInt32>.self) &>> 1)
        var y = unsafeBitCast(bits, to: SIMD8<Float>.self)
        let half = x * 0.5
        y = y * (1.5 - half * y * y)
        y = y * (1.5 - half * y * y)
        y = y * (1.5 - half * y * y)
        return x * y
    }

    /// Φ(x) = ½·erfc(−x/√2) with erfc(z) = t·e^(−z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes'
    /// erfcc, relative error < 1.2e−7 for all z ≥ 0). Negative x uses ½·erfc(|z|) directly and
    /// positive x its complement, so the left tail keeps its relative accuracy.
    @inlinable @inline(__always)
    static func normalCDF(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let scaled = x * 0.707_106_781
        let z = scaled.replacing(with: -scaled, where: x .< 0)
        let t = 1 / (1 + 0.5 * z)
        // Estrin's scheme, as in `exp`: chain depth 4 instead of 9.
        let t2 = t * t, t4 = t2 * t2, t8 = t4 * t4
        let c01 = horner(SIMD8(repeating: 1.000_023_68), t, -1.265_512_23)
        let c23 = horner(SIMD8(repeating: 0.096_784_18), t, 0.374_091_96)
        let c45 = horner(SIMD8(repeating: 0.278_868_07), t, -0.186_288_06)
        let c67 = horner(SIMD8(repeating: 1.488_515_87), t, -1.135_203_98)
        let c89 = horner(SIMD8(repeating: 0.170_872_77), t, -0.822_152_23)
        let p = c01.addingProduct(t2, c23).addingProduct(t4, c45.addingProduct(t2, c67)).addingProduct(t8, c89)
        let half = 0.5 * t * exp(p.addingProduct(-z, z))
        return half.replacing(with: 1 - half, where: x .>= 0)
    }

    /// p·x + c in one fused multiply-add per lane: a Horner step.
    @inlinable @inline(__always)
    static func horner(_ p: SIMD8<Float>, _ x: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
        SIMD8<Float>(repeating: c).addingProduct(p, x)
    }
}
