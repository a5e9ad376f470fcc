import Foundation

/// What one run of a named experiment leaves in `results/NAME/run.json`: enough to rerun it
/// (the config and the command), to trust it (commit, machine, date, wall time) and to tabulate
/// it (metrics, loss curves, what was shrunk relative to the paper).
public struct RunRecord: Codable, Sendable, Equatable {
    public var experiment: String
    public var command: String
    public var gitCommit: String
    public var machine: MachineDescription
    /// ISO-8601, UTC.
    public var date: String
    public var wallSeconds: Double
    /// One entry per trained or evaluated model of the experiment, in run order.
    public var runs: [RunResult]
    /// How this differs from the paper's setting (sequence length, stride, steps, data).
    public var shrunk: [String]
    /// Runs of the experiment not finished yet (an experiment recorded part way).
    public var pending: [String] = []

    public init(experiment: String, command: String, gitCommit: String, machine: MachineDescription,
                date: String, wallSeconds: Double, runs: [RunResult], shrunk: [String]) {
        self.experiment = experiment
        self.command = command
        self.gitCommit = gitCommit
        self.machine = machine
        self.date = date
        self.wallSeconds = wallSeconds
        self.runs = runs
        self.shrunk = shrunk
    }

    /// Reads `results/NAME/run.json`.
    public static func load(_ path: String) throws -> RunRecord {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ExperimentError.unreadable(path: path, reason: error.localizedDescription)
        }
        do {
            return try recordDecoder().decode(RunRecord.self, from: data)
        } catch {
            throw ExperimentError.malformedRecord(path: path, reason: "\(error)")
        }
    }

    /// Writes the record as sorted, pretty JSON, through a temporary file renamed when complete.
    public func save(_ path: String) throws {
        try writeJSON(self, to: path)
    }
}

/// One model's outcome within an experiment run.
public struct RunResult: Codable, Sendable, Equatable {
    /// The run's id within the experiment ("gpt-small", "bert-post-ln-deep").
    public var id: String
    /// The training config as JSON, or the benchmark's settings.
    public var config: String
    public var metrics: [String: Double]
    /// (step, loss) pairs, in step order.
    public var lossCurve: [[Double]]
    public var wallSeconds: Double
    /// Why the run did not run on this machine (a timing run needing more cores than it has);
    /// its metrics then hold only its settings and the paper's figures.
    public var skipped: String?
    /// Evaluations repeated later from the run's final checkpoint (`megatron run NAME
    /// --reevaluate TASK`), whose metrics replaced the first ones; in the order they ran.
    public var reevaluations: [Reevaluation]?
    /// The machine the run ran on, with the GEMM peak measured at the start of its sitting: its
    /// model FLOP/s are read as a fraction of that peak. Nil in records made before it was kept.
    public var machine: MachineDescription?

    public init(id: String, config: String, metrics: [String: Double], lossCurve: [[Double]], wallSeconds: Double,
                skipped: String? = nil) {
        self.id = id
        self.config = config
        self.metrics = metrics
        self.lossCurve = lossCurve
        self.wallSeconds = wallSeconds
        self.skipped = skipped
    }
}

/// One later evaluation of a finished run: which tasks, and when, at which commit and how long.
public struct Reevaluation: Codable, Sendable, Equatable {
    public var tasks: [EvaluationTask]
    public var gitCommit: String
    /// ISO-8601, UTC.
    public var date: String
    public var wallSeconds: Double

    public init(tasks: [EvaluationTask], gitCommit: String, date: String, wallSeconds: Double) {
        self.tasks = tasks
        self.gitCommit = gitCommit
        self.date = date
        self.wallSeconds = wallSeconds
    }
}

/// A diverged run's NaN or infinite loss, as records write it (JSON has no such numbers).
let nonFiniteNames = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

/// Reads records and kept runs, non-finite numbers included.
func recordDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: nonFiniteNames.positiveInfinity, negativeInfinity: nonFiniteNames.negativeInfinity,
        nan: nonFiniteNames.nan)
    return decoder
}

/// Writes `value` as sorted, pretty JSON, atomically; a non-finite number as a string ("nan").
func writeJSON<V: Encodable>(_ value: V, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: nonFiniteNames.positiveInfinity, negativeInfinity: nonFiniteNames.negativeInfinity,
        nan: nonFiniteNames.nan)
    try writeAtomically(try encoder.encode(value), to: path)
}

/// Writes `data` to a temporary name beside `path` and renames it, so a reader never sees half a file.
func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: temporary)
        // rename(2) replaces an existing file atomically; Foundation's replaceItemAt fails here on Linux.
        guard rename(temporary.path, path) == 0 else {
            throw ExperimentError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    } catch let error as ExperimentError {
        throw error
    } catch {
        throw ExperimentError.unwritable(path: path, reason: error.localizedDescription)
    }
}
