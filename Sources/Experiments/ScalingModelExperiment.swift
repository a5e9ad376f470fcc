import Foundation
import PerformanceModel
import Training

/// `experiments/scaling-model.json`: the performance model against the paper and against our
/// measurements. For the paper's Table 1 configurations it predicts the weak-scaling efficiency
/// on the paper's machine description; for every timed run of the given records it predicts
/// the step time on the description of the machine that ran it. Nothing is trained or timed:
/// the record (`results/scaling-model/run.json`) holds predictions, the figures they are
/// compared with, and the errors (mean and max absolute) of each group.
public struct ScalingModelExperiment: Sendable {
    public struct Spec: Decodable, Sendable {
        public var name: String
        public var description: String
        public var shrunk: [String]
        public var paper: Paper
        public var measured: [Measured]

        public struct Paper: Decodable, Sendable {
            public var machine: String
            public var sequence: Int, vocabulary: Int, microBatch: Int, elementBytes: Int
            public var recompute: Bool
            public var runs: [PaperRun]
        }

        public struct PaperRun: Decodable, Sendable {
            public var id: String
            public var hidden: Int, heads: Int, layers: Int, tp: Int, dp: Int
            public var efficiency: Double
        }

        /// The timed runs of `record`, predicted on `machine`; runs listed in `calibration` set the
        /// machine's compute and are left out of the error.
        public struct Measured: Decodable, Sendable {
            public var label: String
            public var record: String
            public var machine: String
            public var calibration: [String]
        }
    }

    public let spec: Spec
    public let command: String

    public init(spec: Spec, command: String) {
        self.spec = spec
        self.command = command
    }

    /// Whether `path` is such an experiment (it has a `paper` prediction section).
    public static func describes(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        return root["paper"] != nil && root["measured"] != nil
    }

    public static func load(_ path: String) throws -> ScalingModelExperiment.Spec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError.unreadable(path: path, reason: "no such file")
        }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Spec.self, from: data)
        } catch {
            throw ExperimentError.malformedSpec(path: path, reason: "\(error)")
        }
    }

    /// Predicts every row and writes `results/NAME/run.json`.
    @discardableResult
    public func run(resultsDirectory: String = "results") throws -> RunRecord {
        let started = Date()
        var runs = try paperRuns()
        for measured in spec.measured { runs += try measuredRuns(measured) }
        let record = RunRecord(experiment: spec.name, command: command, gitCommit: ExperimentRunner.gitCommit(),
                               machine: .current(), date: ISO8601DateFormatter().string(from: Date()),
                               wallSeconds: Date().timeIntervalSince(started), runs: runs,
                               shrunk: spec.shrunk + machinesUsed)
        let directory = "\(resultsDirectory)/\(spec.name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try record.save("\(directory)/run.json")
        return record
    }

    /// Which machine description each group of rows was predicted on, for the table.
    var machinesUsed: [String] {
        ["machine descriptions: paper rows \(spec.paper.machine); "
            + spec.measured.map { "\"\($0.label)\" rows \($0.machine) (calibration runs: "
                + ($0.calibration.isEmpty ? "none" : $0.calibration.joined(separator: ", ")) + ")" }.joined(separator: "; ")]
    }

    func paperRuns() throws -> [RunResult] {
        let p = spec.paper
        let simulator = try StepSimulator(machine: try MachineModel.load(p.machine))
        let predictions = try p.runs.map { run in
            try simulator.simulate(StepTraceConfig(
                model: .init(layers: run.layers, hidden: run.hidden, heads: run.heads, maxPositions: p.sequence,
                             vocabSize: p.vocabulary, paddedVocabSize: p.vocabulary, attentionDropout: 0, hiddenDropout: 0),
                tensorParallel: run.tp, dataParallel: run.dp, microBatch: p.microBatch, sequence: p.sequence,
                recomputeActivations: p.recompute, loop: .trainer, elementBytes: p.elementBytes))
        }
        guard let baseline = predictions.first(where: { $0.config.ranks == 1 }) else {
            throw ExperimentError.malformedSpec(path: spec.name, reason: "paper.runs needs a tp = dp = 1 run as the baseline")
        }
        var results: [RunResult] = []
        var errors: [String: [Double]] = [:]
        for (run, prediction) in zip(p.runs, predictions) {
            let efficiency = prediction.modelFLOPsPerSecondPerRank / baseline.modelFLOPsPerSecondPerRank
            var metrics = Self.split(prediction)
            metrics["model.efficiency"] = efficiency
            metrics["paper.efficiency"] = run.efficiency
            if prediction.config.ranks > 1 {
                let error = efficiency - run.efficiency
                metrics["model.error_points"] = 100 * error
                errors[run.dp == 1 ? "paper, model parallel (2–8 GPUs)" : "paper, model + data parallel (64–512 GPUs)", default: []]
                    .append(100 * error)
            }
            results.append(RunResult(id: run.id, config: Self.describe(prediction.config), metrics: metrics, lossCurve: [],
                                     wallSeconds: 0))
        }
        return results + errors.keys.sorted().map { Self.summary($0, errors[$0]!, unit: "points") }
    }

    func measuredRuns(_ measured: Spec.Measured) throws -> [RunResult] {
        let record = try RunRecord.load(measured.record)
        let simulator = try StepSimulator(machine: try MachineModel.load(measured.machine))
        var results: [RunResult] = []
        var errors: [Double] = []
        var baseline: Double?
        for run in record.runs {
            guard let stepSeconds = run.metrics["timing.step_s"] else { continue }
            let sizes = try JSONDecoder().decode(TrainBenchSizes.self, from: Data(run.config.utf8))
            let prediction = try simulator.simulate(sizes.stepTrace)
            if sizes.ranks == 1 { baseline = baseline ?? prediction.modelFLOPsPerSecondPerRank }
            var metrics = Self.split(prediction)
            metrics["measured.step_s"] = stepSeconds
            metrics["measured.efficiency"] = run.metrics["timing.efficiency"]
            metrics["model.efficiency"] = baseline.map { prediction.modelFLOPsPerSecondPerRank / $0 }
            let error = prediction.stepSeconds / stepSeconds - 1
            metrics["model.error_percent"] = 100 * error
            if measured.calibration.contains(run.id) {
                metrics["model.calibration_point"] = 1
            } else {
                errors.append(100 * error)
            }
            results.append(RunResult(id: "\(measured.label) \(run.id)", config: Self.describe(prediction.config),
                                     metrics: metrics, lossCurve: [], wallSeconds: 0))
        }
        return results + [Self.summary(measured.label, errors, unit: "percent")]
    }

    /// The prediction's step and its split.
    static func split(_ p: StepPrediction) -> [String: Double] {
        ["model.tp": Double(p.config.tensorParallel), "model.dp": Double(p.config.dataParallel),
         "model.step_s": p.stepSeconds, "model.compute_s": p.computeSeconds,
         "model.exposed_communication_s": p.exposedCommunicationSeconds, "model.rest_s": p.restSeconds]
    }

    /// A row of the group's mean and max absolute error.
    static func summary(_ group: String, _ errors: [Double], unit: String) -> RunResult {
        let absolute = errors.map(abs)
        let metrics = absolute.isEmpty ? [:] : [
            "error.mean_abs_\(unit)": absolute.reduce(0, +) / Double(absolute.count),
            "error.max_abs_\(unit)": absolute.max()!,
            "error.count": Double(absolute.count),
        ]
        return RunResult(id: "error: \(group)", config: "", metrics: metrics, lossCurve: [], wallSeconds: 0)
    }

    static func describe(_ c: StepTraceConfig) -> String {
        "{\"layers\":\(c.model.layers),\"hidden\":\(c.model.hidden),\"heads\":\(c.model.heads),\"seq\":\(c.sequence),"
            + "\"vocab\":\(c.model.paddedVocabSize),\"micro_batch\":\(c.microBatch),\"tp\":\(c.tensorParallel),"
            + "\"dp\":\(c.dataParallel),\"recompute\":\(c.recomputeActivations),\"element_bytes\":\(c.elementBytes),"
            + "\"loop\":\"\(c.loop.rawValue)\"}"
    }
}
