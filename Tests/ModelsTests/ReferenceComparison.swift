import TensorCore
import TensorParallel

/// A reference file's parameters and gradients as plain tensors, which ranks (threads) can share.
struct ReferenceTensors: Sendable {
    let weights: [String: Tensor<Double>]
    let gradients: [String: Tensor<Double>]

    init(_ file: ReferenceFile) throws {
        var weights: [String: Tensor<Double>] = [:], gradients: [String: Tensor<Double>] = [:]
        for name in try file.parameterNames() {
            weights[name] = try file.weight(name)
            gradients[name] = try file.gradient(name)
        }
        self.weights = weights
        self.gradients = gradients
    }

    /// Sets every parameter of `parameters` to this rank's shard of the reference weight of the
    /// same name. Every reference weight must find its parameter, and every parameter its weight.
    func load<T: TensorScalar>(into parameters: ParameterSet<T>, rank: Int, size: Int) throws {
        let names = Set(parameters.parameters.map(\.name))
        guard names == Set(weights.keys) else {
            throw ReferenceMismatch(problem: "parameters only in the model: \(names.subtracting(weights.keys).sorted()); "
                                        + "only in the reference: \(Set(weights.keys).subtracting(names).sorted())")
        }
        for p in parameters.parameters {
            let full = weights[p.name]!
            guard full.shape == p.fullShape else {
                throw ReferenceMismatch(problem: "\(p.name): the model's full shape is \(p.fullShape), the reference's \(full.shape)")
            }
            p.value.assign(p.partition.shard(full, rank: rank, size: size).converted(to: T.self))
        }
    }

    /// Each parameter's largest gradient difference relative to the largest reference entry of
    /// that parameter (this rank's shard against the same shard of the reference). A gradient
    /// that is exactly zero in exact arithmetic (`vanishing`) holds only rounding noise, so its
    /// difference is taken relative to the largest reference gradient of the whole model.
    func gradientDifferences<T: TensorScalar>(_ parameters: ParameterSet<T>, rank: Int, size: Int,
                                              vanishing: Set<String> = []) -> [String: Double] {
        let modelScale = gradients.values.map { $0.array.map(abs).max() ?? 0 }.max() ?? 0
        var differences: [String: Double] = [:]
        for p in parameters.parameters {
            let expected = p.partition.shard(gradients[p.name]!, rank: rank, size: size)
            let ours = p.gradient.converted(to: Double.self)
            if vanishing.contains(p.name) {
                let largest = zip(ours.array, expected.array).map { abs($0 - $1) }.max() ?? 0
                differences[p.name] = largest / modelScale
            } else {
                differences[p.name] = relativeDifference(ours, expected)
            }
        }
        return differences
    }
}

struct ReferenceMismatch: Error, CustomStringConvertible {
    let problem: String
    var description: String { "the model does not fit the reference file: \(problem)" }
}

/// Worst-case agreement of one rank's forward + backward with the reference.
struct ReferenceAgreement: Sendable {
    var outputs: [String: Double]
    var gradients: [String: Double]

    /// The worst of each name over the ranks.
    static func worst(_ ranks: [ReferenceAgreement]) -> ReferenceAgreement {
        ranks.dropFirst().reduce(ranks[0]) { worst, rank in
            ReferenceAgreement(outputs: worst.outputs.merging(rank.outputs, uniquingKeysWith: max),
                               gradients: worst.gradients.merging(rank.gradients, uniquingKeysWith: max))
        }
    }
}

/// |a − b| / |b| for scalars such as losses.
func relativeDifference(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }
