import HDF5Files

/// Two checkpoints compared exactly: every tensor of /model and /optimizer bit for bit, and the
/// training state (step, data position, dropout seed, loss curve) and config. What shows that
/// two engines or two layouts trained to the same bits, where a tolerance would hide a
/// different reduction order.
public struct CheckpointComparison: Sendable, Equatable {
    /// One tensor present in both files whose elements differ.
    public struct TensorDifference: Sendable, Equatable {
        public var name: String
        public var elements: Int
        /// Elements whose bits differ (a shape mismatch counts all).
        public var differing: Int
        /// The largest |a − b| / max(|a|, |b|) over the differing elements.
        public var largestRelative: Double
    }

    /// Tensors compared (present in both files).
    public var tensors: Int = 0
    public var differences: [TensorDifference] = []
    /// Tensors one file has and the other lacks, as "/group/name (only in A|B)".
    public var unmatched: [String] = []
    /// Non-tensor fields that differ (step, data_position, dropout_seed, loss curve, config, vocab).
    public var stateDifferences: [String] = []

    public var identical: Bool { differences.isEmpty && unmatched.isEmpty && stateDifferences.isEmpty }

    /// Compares the checkpoints at `a` and `b`.
    public static func compare(_ a: String, _ b: String) throws -> CheckpointComparison {
        var result = CheckpointComparison()
        let (contentsA, contentsB) = (try Checkpoint.contents(of: a), try Checkpoint.contents(of: b))
        let fields: [(String, Bool)] = [
            ("step", contentsA.state.step == contentsB.state.step),
            ("data_position", contentsA.state.dataPosition == contentsB.state.dataPosition),
            ("dropout_seed", contentsA.state.dropoutSeed == contentsB.state.dropoutSeed),
            ("loss curve", contentsA.state.lossCurve.map { $0.loss.bitPattern } == contentsB.state.lossCurve.map { $0.loss.bitPattern }
                && contentsA.state.lossCurve.map(\.step) == contentsB.state.lossCurve.map(\.step)),
            ("config", contentsA.model.configJSON == contentsB.model.configJSON),
            ("padded_vocab_size", contentsA.model.paddedVocabSize == contentsB.model.paddedVocabSize),
        ]
        result.stateDifferences = fields.filter { !$0.1 }.map(\.0)

        let fileA = try HDF5File(reading: a, remedy: "point at a checkpoint written by megatron train")
        defer { fileA.close() }
        let fileB = try HDF5File(reading: b, remedy: "point at a checkpoint written by megatron train")
        defer { fileB.close() }
        for groupPath in ["model", "optimizer/first_moment", "optimizer/second_moment"] {
            let groupA = try open(groupPath, in: fileA.root), groupB = try open(groupPath, in: fileB.root)
            let namesA = Set(try groupA.names()), namesB = Set(try groupB.names())
            result.unmatched += namesA.subtracting(namesB).sorted().map { "/\(groupPath)/\($0) (only in \(a))" }
            result.unmatched += namesB.subtracting(namesA).sorted().map { "/\(groupPath)/\($0) (only in \(b))" }
            for name in namesA.intersection(namesB).sorted() {
                result.tensors += 1
                let datasetA = try groupA.dataset(name), datasetB = try groupB.dataset(name)
                guard datasetA.shape == datasetB.shape else {
                    result.differences.append(TensorDifference(
                        name: "/\(groupPath)/\(name)", elements: datasetA.count, differing: datasetA.count,
                        largestRelative: .infinity))
                    continue
                }
                // Float32 → Double is exact and keeps distinct bit patterns distinct.
                let valuesA = try datasetA.read(as: Double.self), valuesB = try datasetB.read(as: Double.self)
                var differing = 0, largest = 0.0
                for (x, y) in zip(valuesA, valuesB) where x.bitPattern != y.bitPattern {
                    differing += 1
                    largest = max(largest, abs(x - y) / max(abs(x), abs(y)))
                }
                if differing > 0 {
                    result.differences.append(TensorDifference(
                        name: "/\(groupPath)/\(name)", elements: valuesA.count, differing: differing,
                        largestRelative: largest))
                }
            }
        }
        return result
    }

    private static func open(_ path: String, in root: HDF5Group) throws -> HDF5Group {
        try path.split(separator: "/").reduce(root) { try $0.group(String($1)) }
    }
}
