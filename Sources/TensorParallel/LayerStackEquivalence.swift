import Collectives
import TensorCore

/// The invariant every other result leans on, checked for a stack of transformer layers: run at
/// tp × dp, the stack computes what it computes at tp = dp = 1 — the same layer outputs, and
/// gradients that are exact slices of the serial gradients — up to float rounding.
///
/// Every rank builds the serial stack too (from the same seed, with a group of one) and compares
/// its own shards and batch rows against it, so nothing is gathered and the check runs the same
/// way on threads and under MPI; the worst differences are then reduced (max) over the world.
public struct LayerStackEquivalence: Sendable {
    public var config: TransformerConfig
    /// Sequences in the global batch, split evenly over the data-parallel ranks.
    public var batch: Int
    public var sequence: Int
    public var seed: UInt64
    /// Steps of forward and backward; dropout masks change from step to step.
    public var steps: Int
    /// Sequence parallelism in the parallel stack: its layers take and return sequence shards,
    /// compared with the same positions of the serial stack's.
    public var sequenceParallel = false

    public init(config: TransformerConfig, batch: Int, sequence: Int, seed: UInt64 = 1234, steps: Int = 1) {
        self.config = config
        self.batch = batch
        self.sequence = sequence
        self.seed = seed
        self.steps = steps
    }

    /// One compared quantity: a layer's output, an input gradient, or a parameter's gradient.
    public struct Difference: Sendable {
        public var name: String
        /// max |parallel − serial| / max |serial| over the tensor, the worst rank's.
        public var relative: Double
    }

    public struct Report: Sendable {
        public var differences: [Difference]
        /// Per layer and pass: the tensor-parallel all-reduces one rank issued and their elements.
        public var allReduces: [(scope: String, calls: Int, elements: Int)]
        /// Per layer and pass ("layer0/forward"; "layer0/backward/regather" for the inputs sequence
        /// parallelism gathers again): each kind of tensor-parallel collective one rank issued.
        public var collectives: [String: [CollectiveOp: CollectiveTally]]

        public var worst: Double { differences.map(\.relative).max() ?? 0 }
    }

    /// Runs on every rank of `grid`; every rank returns the same report.
    public func run<T: TensorScalar>(_: T.Type, grid: ProcessGrid) throws -> Report {
        let dp = grid.dataParallel.size
        precondition(batch % dp == 0, "LayerStackEquivalence: batch \(batch) does not split over dp = \(dp)")
        let localBatch = batch / dp
        let offset = grid.dataParallelRank * localBatch
        let rows = (offset * sequence)..<((offset + localBatch) * sequence)
        let initializer = ParameterInitializer(seed: seed)
        let serialGroup = TensorParallelGroup(try grid.world.split(color: grid.worldRank, key: 0, name: "serial"))
        let parallelGroup = TensorParallelGroup(grid.tensorParallel, sequenceParallel: sequenceParallel)
        let serial = stack(T.self, initializer, serialGroup)
        let parallel = stack(T.self, initializer, parallelGroup)
        let serialParameters = ParameterSet(serial.flatMap(\.parameters))
        let parallelParameters = ParameterSet(parallel.flatMap(\.parameters))

        let counters = grid.tensorParallel.counters
        counters.reset()
        var differences: [Difference] = []
        for step in 0..<steps {
            let x: Tensor<T> = initializer.normal("verify.input.\(step)", shape: [batch * sequence, config.hidden], std: 1)
            let dy: Tensor<T> = initializer.normal("verify.output_gradient.\(step)", shape: [batch * sequence, config.hidden], std: 1)
            let serialContext = StepContext(step: step, batch: batch, sequence: sequence, dropoutSeed: seed)
            var parallelContext = serialContext
            parallelContext.batch = localBatch
            parallelContext.batchOffset = offset

            // The loss is mean over sequences of Σ y·dy, so a data-parallel rank's gradient is its
            // share of the batch mean and the dp average of the ranks' gradients is the serial one.
            serialParameters.zeroGradients()
            parallelParameters.zeroGradients()
            var serialOutputs: [Tensor<T>] = [], parallelOutputs: [Tensor<T>] = []
            // This rank's rows, or with sequence parallelism its shard of their positions.
            func local(_ t: Tensor<T>) -> Tensor<T> {
                guard parallelGroup.shardsSequence else { return t.rows(rows) }
                let part = Tensor<T>(zeros: [rows.count / parallelGroup.size, config.hidden])
                parallelGroup.sliceSequence(t.rows(rows), into: part, sequences: localBatch)
                return part
            }
            var hs = x, hp = local(x)
            for (i, (s, p)) in zip(serial, parallel).enumerated() {
                hs = try s.forward(hs, context: serialContext)
                hp = try counters.withScope("layer\(i)/forward") { try p.forward(hp, context: parallelContext) }
                serialOutputs.append(hs)
                parallelOutputs.append(hp)
            }
            for (i, (s, p)) in zip(serialOutputs, parallelOutputs).enumerated() {
                differences.append(Difference(name: "step\(step).layer\(i).output", relative: relativeDifference(p, local(s))))
            }
            var gs = dy.copy(), gp = local(dy).copy()
            scale(gs, 1 / T(batch))
            scale(gp, 1 / T(localBatch))
            for i in stride(from: serial.count - 1, through: 0, by: -1) {
                gs = try serial[i].backward(gs)
                gp = try counters.withScope("layer\(i)/backward") { try parallel[i].backward(gp) }
            }
            scale(gp, T(localBatch) / T(batch))
            differences.append(Difference(name: "step\(step).input.gradient", relative: relativeDifference(gp, local(gs))))
            try parallelParameters.reduceSequenceParallelGradients(over: parallelGroup)
            try parallelParameters.averageGradients(over: grid.dataParallel)
            for (s, p) in zip(serialParameters.parameters, parallelParameters.parameters) {
                let expected = p.partition.shard(s.gradient, rank: parallelGroup.rank, size: parallelGroup.size)
                differences.append(Difference(name: "step\(step).\(p.name).gradient",
                                              relative: relativeDifference(p.gradient, expected)))
            }
        }

        let worst = Tensor<Double>(shape: [differences.count], values: differences.map(\.relative))
        try grid.world.allReduce(worst, op: .max)
        for i in differences.indices { differences[i].relative = worst.pointer[i] }
        var allReduces: [(scope: String, calls: Int, elements: Int)] = []
        var collectives: [String: [CollectiveOp: CollectiveTally]] = [:]
        for i in 0..<config.layers {
            for pass in ["forward", "backward"] {
                let tally = counters.tally(.allReduce, scope: "layer\(i)/\(pass)", group: grid.tensorParallel.name)
                allReduces.append((scope: "layer\(i)/\(pass)", calls: tally.calls, elements: tally.elements))
            }
            for scope in ["layer\(i)/forward", "layer\(i)/backward", "layer\(i)/backward/regather"] {
                for op in [CollectiveOp.allReduce, .allGather, .reduceScatter] {
                    collectives[scope, default: [:]][op] = counters.tally(op, scope: scope, nested: false,
                                                                         group: grid.tensorParallel.name)
                }
            }
        }
        return Report(differences: differences, allReduces: allReduces, collectives: collectives)
    }

    func stack<T>(_: T.Type, _ initializer: ParameterInitializer, _ group: TensorParallelGroup) -> [ParallelTransformerLayer<T>] {
        (0..<config.layers).map {
            ParallelTransformerLayer(name: "layers.\($0)", config: config, initializer: initializer, group: group)
        }
    }
}

func scale<T: TensorScalar>(_ t: Tensor<T>, _ factor: T) {
    for i in 0..<t.count { t.pointer[i] *= factor }
}

/// max |a − b| / max |b|: the error relative to the tensor's scale, so that entries near zero
/// neither hide nor inflate it. Zero when both are zero.
public func relativeDifference<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    precondition(a.count == b.count, "relativeDifference: \(a.shape) against \(b.shape)")
    var diff = 0.0, magnitude = 0.0
    for i in 0..<a.count {
        diff = Swift.max(diff, Double(abs(a.pointer[i] - b.pointer[i])))
        magnitude = Swift.max(magnitude, Double(abs(b.pointer[i])))
    }
    return magnitude == 0 ? diff : diff / magnitude
}
