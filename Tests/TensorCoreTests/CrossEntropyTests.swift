import Testing
import TensorCore

@Suite struct CrossEntropyTests {
    let rows = 21, classes = 37
    var targets: [Int32] { (0..<rows).map { Int32(($0 * 11 + 3) % classes) } }
    var ignore: [Bool] { (0..<rows).map { $0 % 5 == 2 } }

    func losses<T: TensorScalar>(_ logits: Tensor<T>, ignore: [Bool]?) -> (Tensor<T>, Tensor<T>) {
        let l = Tensor<T>(zeros: [rows]), lse = Tensor<T>(zeros: [rows])
        CrossEntropy.forward(losses: l, logSumExp: lse, logits: logits, targets: targets, ignore: ignore)
        return (l, lse)
    }

    func logits<T: TensorScalar>(seed: UInt64) -> Tensor<T> {
        let x: Tensor<T> = filled([rows, classes], seed: seed)
        for i in 0..<x.count { x.pointer[i] *= 8 }
        return x
    }

    @Test func forwardMatchesDefinitionAndIgnoresRows() {
        let x: Tensor<Double> = logits(seed: 1)
        let (l, _) = losses(x, ignore: ignore)
        for r in 0..<rows {
            let row = (0..<classes).map { x[index: [r, $0]] }
            let expected = Double.log(row.map { Double.exp($0) }.reduce(0, +)) - row[Int(targets[r])]
            #expect(abs(l.pointer[r] - (ignore[r] ? 0 : expected)) < 1e-12)
        }
    }

    @Test(arguments: [false, true])
    func backwardMatchesFiniteDifferences(withIgnore: Bool) {
        let x: Tensor<Double> = logits(seed: 2), dLosses: Tensor<Double> = filled([rows], seed: 3)
        let mask = withIgnore ? ignore : nil
        let (_, lse) = losses(x, ignore: mask)
        let d = Tensor<Double>(zeros: x.shape)
        CrossEntropy.backward(dLogits: d, dLosses: dLosses, logits: x, logSumExp: lse, targets: targets, ignore: mask)
        let numeric = numericGradient(of: x) { weightedSum(losses(x, ignore: mask).0, dLosses) }
        #expect(relativeError(d.array, numeric) <= 1e-6)
        if withIgnore {
            for r in 0..<rows where ignore[r] {
                #expect((0..<classes).allSatisfy { d[index: [r, $0]] == 0 })
            }
        }
    }

    @Test func backwardInPlaceAndFloatMatchesDouble() {
        let x: Tensor<Double> = logits(seed: 4), dLosses: Tensor<Double> = filled([rows], seed: 5)
        let (l, lse) = losses(x, ignore: ignore)
        let xF = x.converted(to: Float.self)
        let (lF, lseF) = losses(xF, ignore: ignore)
        #expect(relativeError(lF, l) <= 1e-5)
        let d = Tensor<Double>(zeros: x.shape)
        CrossEntropy.backward(dLogits: d, dLosses: dLosses, logits: x, logSumExp: lse, targets: targets, ignore: ignore)
        CrossEntropy.backward(dLogits: xF, dLosses: dLosses.converted(to: Float.self), logits: xF, logSumExp: lseF,
                              targets: targets, ignore: ignore)
        #expect(relativeError(xF, d) <= 1e-5)
    }
}
