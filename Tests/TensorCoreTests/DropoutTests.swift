import Testing
import TensorCore

@Suite struct DropoutTests {
    let rng = CounterRNG(seed: 1234, stream: 7)

    func dropped<T: TensorScalar>(_ x: Tensor<T>, p: Double = 0.3, offset: Int = 0, rng: CounterRNG? = nil) -> Tensor<T> {
        let out = Tensor<T>(zeros: x.shape)
        Dropout.forward(out: out, x: x, probability: p, rng: rng ?? self.rng, offset: offset)
        return out
    }

    @Test func wholeEqualsHalvesAndThreadCounts() {
        let x: Tensor<Float> = filled([100_003], seed: 1)
        let whole = withComputeThreads(1) { dropped(x) }
        for threads in [2, 3, 5] {
            #expect(withComputeThreads(threads) { dropped(x) }.array == whole.array)
        }
        let cut = 41_017
        let first = dropped(x.rows(0..<cut)), second = dropped(x.rows(cut..<x.count), offset: cut)
        #expect(first.array + second.array == whole.array)
        // Another stream or seed gives another mask.
        #expect(dropped(x, rng: CounterRNG(seed: 1234, stream: 8)).array != whole.array)
        #expect(dropped(x, rng: CounterRNG(seed: 1235, stream: 7)).array != whole.array)
    }

    @Test(arguments: [0.1, 0.5, 0.9])
    func keepsOneMinusPAndScales(p: Double) {
        let n = 1 << 20
        let x = Tensor<Float>(zeros: [n])
        x.fill(1)
        let out = dropped(x, p: p)
        let kept = out.array.filter { $0 != 0 }
        let fraction = Double(kept.count) / Double(n)
        let sigma = (p * (1 - p) / Double(n)).squareRoot()
        #expect(abs(fraction - (1 - p)) < 5 * sigma)
        #expect(kept.allSatisfy { abs(Double($0) - 1 / (1 - p)) < 1e-6 })
    }

    @Test func zeroProbabilityIsIdentity() {
        let x: Tensor<Double> = filled([1001], seed: 2)
        #expect(dropped(x, p: 0).array == x.array)
    }

    @Test func backwardMatchesFiniteDifferencesAndFloat() {
        let x: Tensor<Double> = filled([7, 23, 37], seed: 3), w: Tensor<Double> = filled([7, 23, 37], seed: 4)
        let dx = Tensor<Double>(zeros: x.shape)
        Dropout.backward(dx: dx, dOut: w, probability: 0.3, rng: rng, offset: 11)
        let numeric = numericGradient(of: x) { weightedSum(dropped(x, offset: 11), w) }
        #expect(relativeError(dx.array, numeric) <= 1e-6)

        #expect(relativeError(dropped(x.converted(to: Float.self), offset: 11), dropped(x, offset: 11)) <= 1e-6)
        let dxF = Tensor<Float>(zeros: x.shape)
        Dropout.backward(dx: dxF, dOut: w.converted(to: Float.self), probability: 0.3, rng: rng, offset: 11)
        #expect(relativeError(dxF, dx) <= 1e-6)
    }
}

@Suite struct CounterRNGTests {
    @Test func drawsArePureFunctionsOfSeedStreamIndex() {
        let a = CounterRNG(seed: 5, stream: 1), b = CounterRNG(seed: 5, stream: 1)
        #expect((0..<1000).map { a.bits(at: $0) } == (0..<1000).map { b.bits(at: $0) })
        let c = CounterRNG(seed: 5, stream: 2)
        #expect((0..<1000).filter { a.bits(at: $0) == c.bits(at: $0) }.isEmpty)
    }

    @Test func uniformAndNormalMoments() {
        let rng = CounterRNG(seed: 9)
        let n = 200_000
        let u = (0..<n).map { rng.uniform(at: $0) }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let uMean = u.reduce(0, +) / Double(n)
        #expect(abs(uMean - 0.5) < 5 * (1.0 / 12 / Double(n)).squareRoot())
        let z = (0..<n).map { rng.normal(at: $0) }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 5 / Double(n).squareRoot())
        #expect(abs(variance - 1) < 5 * (2 / Double(n)).squareRoot())
        // Tail mass beyond 2σ: 4.55 %.
        let tail = Double(z.filter { abs($0) > 2 }.count) / Double(n)
        #expect(abs(tail - 0.0455) < 0.003)
    }

    @Test func fillOfShardEqualsSliceOfMasterFill() {
        let master = Tensor<Float>(zeros: [12, 10])
        RandomFill.normal(master, seed: 3, stream: 4, std: 0.02)
        let shard = Tensor<Float>(zeros: [5, 10])
        RandomFill.normal(shard, seed: 3, stream: 4, std: 0.02, offset: 4 * 10)
        #expect(master.rows(4..<9).array == shard.array)
        let masterD = Tensor<Double>(zeros: [12, 10])
        RandomFill.normal(masterD, seed: 3, stream: 4, std: 0.02)
        #expect(masterD.array.map { Float($0) } == master.array)
        let threads = withComputeThreads(1) { () -> [Float] in
            let t = Tensor<Float>(zeros: [12, 10])
            RandomFill.normal(t, seed: 3, stream: 4, std: 0.02)
            return t.array
        }
        #expect(threads == master.array)

        let uniform = Tensor<Double>(zeros: [1000])
        RandomFill.uniform(uniform, seed: 1, low: -2, high: 3)
        #expect(uniform.array.allSatisfy { $0 >= -2 && $0 < 3 })
    }
}
