import Collectives
import Datasets
import Foundation
import HDF5Files
import TensorCore
import TensorParallel

/// Where a run stands, besides its tensors: what a resumed run needs to continue exactly.
public struct TrainingState: Codable, Sendable, Equatable {
    /// Optimizer steps taken.
    public var step: Int
    /// The loader position of the next step's first micro-batch.
    public var dataPosition: LoaderPosition
    /// Dropout masks are a function of (seed, step, site, element), so the seed and the step are
    /// the whole RNG state.
    public var dropoutSeed: UInt64
    /// Step → mean loss, for the records.
    public var lossCurve: [LossPoint]

    public init(step: Int, dataPosition: LoaderPosition, dropoutSeed: UInt64, lossCurve: [LossPoint]) {
        self.step = step
        self.dataPosition = dataPosition
        self.dropoutSeed = dropoutSeed
        self.lossCurve = lossCurve
    }
}

public struct LossPoint: Codable, Sendable, Equatable {
    /// The step number, counting from 1.
    public var step: Int
    public var loss: Double

    public init(step: Int, loss: Double) {
        self.step = step
        self.loss = loss
    }
}

/// What a checkpoint says about the model besides its tensors.
public struct CheckpointModelInfo: Sendable, Equatable {
    /// The run's config as JSON (`TrainingConfig.json()`), recorded for people and tools.
    public var configJSON: String
    public var paddedVocabSize: Int
    /// The vocabulary of the data it was trained on; nil in checkpoints written before it was recorded.
    public var vocabulary: CheckpointVocabulary?

    public init(configJSON: String, paddedVocabSize: Int, vocabulary: CheckpointVocabulary? = nil) {
        self.configJSON = configJSON
        self.paddedVocabSize = paddedVocabSize
        self.vocabulary = vocabulary
    }
}

/// A checkpoint is one HDF5 file holding the full logical (tp = 1) tensors, so any tp × dp layout
/// loads it by slicing (`Partition.shard`) with no conversion tool:
///
///     /model/<parameter name>                     the parameter, e.g. /model/layers.0.attention.query_key_value.weight
///     /optimizer/first_moment/<parameter name>    AdamW's m, full logical shape
///     /optimizer/second_moment/<parameter name>   AdamW's v
///     /training/loss_steps, /training/losses      the loss curve so far
///     attributes of /: format, format_version, scalar_type, config (JSON), padded_vocab_size,
///                      step, data_position (JSON), dropout_seed (decimal), and the vocabulary
///                      of the training data: tokenizer, vocab_sha256 (`CheckpointVocabulary`;
///                      absent from checkpoints written before they were recorded)
///
/// Written under a temporary name and renamed when complete, so a crash mid-write never
/// replaces or corrupts an earlier checkpoint.
public enum Checkpoint {
    public static let format = "megatron-swift checkpoint"
    public static let formatVersion = 1

    /// Collective over `grid.world`: the tensor-parallel ranks of data-parallel rank 0 gather each
    /// tensor and world rank 0 writes the file; `afterCommit` runs on world rank 0 once the file
    /// is in place (the directory prunes old checkpoints there). Every rank throws if rank 0 failed.
    /// With pipeline stages, tensor-parallel rank 0 of each later stage sends its gathered
    /// tensors to the first stage over the pipeline; `pipelineCopies` names the parameters a
    /// stage holds as a copy of another stage's (the last stage's tied embedding), written once.
    public static func write<T: TensorScalar & HDF5Scalar>(
        to path: String, optimizer: Optimizer<T>, grid: ProcessGrid, model: CheckpointModelInfo,
        state: TrainingState, pipelineCopies: Set<String> = [], afterCommit: () throws -> Void = {}
    ) throws {
        var failure: (any Error)?
        if grid.dataParallelRank == 0 {
            let group = TensorParallelGroup(grid.tensorParallel)
            var file: HDF5File?
            var groups: (model: HDF5Group, first: HDF5Group, second: HDF5Group)?
            if grid.worldRank == 0 {
                do {
                    let f = try HDF5File(creating: path)
                    try writeAttributes(f.root, model: model, state: state, scalar: T.self)
                    let optimizerGroup = try f.root.createGroup("optimizer")
                    groups = (try f.root.createGroup("model"), try optimizerGroup.createGroup("first_moment"),
                              try optimizerGroup.createGroup("second_moment"))
                    let training = try f.root.createGroup("training")
                    try training.createDataset("loss_steps", state.lossCurve.map { Int64($0.step) })
                    try training.createDataset("losses", state.lossCurve.map(\.loss))
                    file = f
                } catch {
                    failure = error
                }
            }
            // Every rank of the group takes part in each gather even when rank 0 already failed.
            let sendsToFirstStage = grid.pipelineParallelRank > 0 && grid.tensorParallelRank == 0
            let holding = optimizer.parameters.parameters.filter { !pipelineCopies.contains($0.name) }
            for p in holding {
                let moments = optimizer.moments(of: p)
                for (tensor, target) in [(p.value, groups?.model), (moments.first, groups?.first), (moments.second, groups?.second)] {
                    let full = try ParameterSet.gathered(tensor, of: p, group: group)
                    if sendsToFirstStage { try grid.pipeline.send(full, to: 0) }
                    guard let target, failure == nil else { continue }
                    do {
                        try target.createDataset(p.name, UnsafeBufferPointer(full.buffer), shape: full.shape)
                    } catch {
                        failure = error
                    }
                }
            }
            if grid.pipeline.size > 1 && grid.tensorParallelRank == 0 {
                try receiveOtherStages(holding, pipeline: grid.pipeline) { name, full in
                    guard let groups, failure == nil else { return }
                    do {
                        try [groups.model, groups.first, groups.second][name.which]
                            .createDataset(name.parameter, UnsafeBufferPointer(full.buffer), shape: full.shape)
                    } catch {
                        failure = error
                    }
                }
            }
            if let file, failure == nil {
                do {
                    try file.commit()
                    try afterCommit()
                } catch {
                    failure = error
                }
            }
        }
        let status = Tensor<Double>(shape: [1], values: [failure == nil ? 0 : 1])
        try grid.world.broadcast(status, root: 0)
        if let failure { throw failure }
        if status.pointer[0] != 0 { throw CheckpointError.writeFailedOnRankZero(file: path) }
    }

    /// On the first stage: receives every later stage's tensors (value, first and second moment
    /// of each parameter, in its order) and hands each to `write`; on a later stage: says which
    /// parameters it sends. Collective over the pipeline; `holding` is this stage's parameters.
    private static func receiveOtherStages<T: TensorScalar>(
        _ holding: [Parameter<T>], pipeline: any Communicator,
        write: ((parameter: String, which: Int), Tensor<T>) throws -> Void
    ) throws {
        let listing = holding.map { "\($0.name)\t\($0.fullShape.map(String.init).joined(separator: ","))" }
            .joined(separator: "\n")
        let lengths = Tensor<Double>(zeros: [pipeline.size])
        try pipeline.allGather(Tensor<Double>(shape: [1], values: [Double(listing.utf8.count)]), into: lengths)
        let listings = try pipeline.allGather(text: listing, maxBytes: Int(lengths.array.max() ?? 0))
        guard pipeline.rank == 0 else { return }
        for stage in 1..<pipeline.size {
            for line in listings[stage].split(separator: "\n") {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                let shape = fields[1].split(separator: ",").compactMap { Int($0) }
                for which in 0..<3 {
                    let full = Tensor<T>(zeros: shape)
                    try pipeline.recv(full, from: stage)
                    try write((String(fields[0]), which), full)
                }
            }
        }
    }

    /// What `read` found besides the tensors.
    public struct Contents: Sendable, Equatable {
        public var state: TrainingState
        public var model: CheckpointModelInfo
    }

    /// Loads the checkpoint at `path` into `optimizer`'s parameters and moments, each rank taking
    /// its shard of every full tensor. Needs no communication. Every tensor's stored shape is
    /// checked against the model before anything is read; all mismatches are reported together.
    /// A pipeline stage (`oneStageOfMany`) reads its own tensors and leaves the other stages'.
    public static func read<T: TensorScalar & HDF5Scalar>(
        from path: String, into optimizer: Optimizer<T>, group: TensorParallelGroup,
        expectedPaddedVocabSize: Int? = nil, oneStageOfMany: Bool = false
    ) throws -> Contents {
        let file = try HDF5File(reading: path, remedy: "resume from another checkpoint (an earlier one is kept)")
        defer { file.close() }
        let root = file.root
        let contents = try readAttributes(root, path: path)
        if let expected = expectedPaddedVocabSize, expected != contents.model.paddedVocabSize {
            throw CheckpointError.settingMismatch(file: path, setting: "padded_vocab_size",
                                                  checkpoint: "\(contents.model.paddedVocabSize)", run: "\(expected)")
        }

        let groups = try ["model", "optimizer/first_moment", "optimizer/second_moment"].map { name in
            try name.split(separator: "/").reduce(root) { try $0.group(String($1)) }
        }
        var mismatches: [TensorMismatch] = []
        var datasets: [[HDF5Dataset]] = []
        let names = Set(optimizer.parameters.parameters.map(\.name))
        for (groupName, group) in zip(["/model", "/optimizer/first_moment", "/optimizer/second_moment"], groups) {
            var found: [HDF5Dataset] = []
            for p in optimizer.parameters.parameters {
                guard group.contains(p.name) else {
                    mismatches.append(TensorMismatch(name: "\(groupName)/\(p.name)", checkpointShape: nil, modelShape: p.fullShape))
                    continue
                }
                let dataset = try group.dataset(p.name)
                if dataset.shape != p.fullShape {
                    mismatches.append(TensorMismatch(name: "\(groupName)/\(p.name)", checkpointShape: dataset.shape,
                                                     modelShape: p.fullShape))
                }
                found.append(dataset)
            }
            for extra in try group.names().sorted() where !names.contains(extra) && !oneStageOfMany {
                let shape = try group.dataset(extra).shape
                mismatches.append(TensorMismatch(name: "\(groupName)/\(extra)", checkpointShape: shape, modelShape: nil))
            }
            datasets.append(found)
        }
        if !mismatches.isEmpty { throw CheckpointError.tensorMismatch(file: path, mismatches: mismatches) }

        for (i, p) in optimizer.parameters.parameters.enumerated() {
            let moments = optimizer.moments(of: p)
            for (which, target) in [p.value, moments.first, moments.second].enumerated() {
                let full = Tensor<T>(shape: p.fullShape, values: try datasets[which][i].read(as: T.self))
                target.assign(p.partition.shard(full, rank: group.rank, size: group.size))
            }
        }
        optimizer.stepsTaken = contents.state.step
        return contents
    }

    /// Loads only the weights of the checkpoint at `path` into `parameters`, by name: how a
    /// fine-tuning run starts from a pretrained model (RACE from a BERT checkpoint). Parameters
    /// the checkpoint lacks keep their initialisation (the new head) and tensors the model lacks
    /// are skipped (the pretraining heads); both lists come back so the caller can say so.
    /// Shapes must match; every mismatch is reported together.
    public static func readWeights<T: TensorScalar & HDF5Scalar>(
        from path: String, into parameters: ParameterSet<T>, group: TensorParallelGroup
    ) throws -> (initialized: [String], skipped: [String]) {
        let file = try HDF5File(reading: path, remedy: "point at a checkpoint written by megatron train")
        defer { file.close() }
        let root = file.root
        guard root.hasAttribute("format"), try root.stringAttribute("format") == format else {
            throw CheckpointError.notACheckpoint(file: path, reason: "no `format` attribute saying \"\(format)\"")
        }
        let weights = try root.group("model")
        let stored = Set(try weights.names())
        var mismatches: [TensorMismatch] = []
        for p in parameters.parameters where stored.contains(p.name) {
            let shape = try weights.dataset(p.name).shape
            if shape != p.fullShape {
                mismatches.append(TensorMismatch(name: "/model/\(p.name)", checkpointShape: shape, modelShape: p.fullShape))
            }
        }
        if !mismatches.isEmpty { throw CheckpointError.tensorMismatch(file: path, mismatches: mismatches) }
        for p in parameters.parameters where stored.contains(p.name) {
            let full = Tensor<T>(shape: p.fullShape, values: try weights.dataset(p.name).read(as: T.self))
            p.value.assign(p.partition.shard(full, rank: group.rank, size: group.size))
        }
        let names = Set(parameters.parameters.map(\.name))
        return (parameters.parameters.map(\.name).filter { !stored.contains($0) }, stored.subtracting(names).sorted())
    }

    /// What the checkpoint at `path` records besides its tensors (the config, the padded
    /// vocabulary, the step), without reading any tensor: how an evaluation builds its model.
    public static func contents(of path: String) throws -> Contents {
        let file = try HDF5File(reading: path, remedy: "point at a checkpoint written by megatron train")
        defer { file.close() }
        return try readAttributes(file.root, path: path)
    }

    private static func writeAttributes<T>(_ root: HDF5Group, model: CheckpointModelInfo, state: TrainingState,
                                           scalar: T.Type) throws {
        try root.setAttribute("format", format)
        try root.setAttribute("format_version", Int64(formatVersion))
        try root.setAttribute("scalar_type", "\(T.self)")
        try root.setAttribute("config", model.configJSON)
        try root.setAttribute("padded_vocab_size", Int64(model.paddedVocabSize))
        try root.setAttribute("step", Int64(state.step))
        // Sorted keys: the same state writes the same bytes in every process.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try root.setAttribute("data_position", String(decoding: try encoder.encode(state.dataPosition), as: UTF8.self))
        try root.setAttribute("dropout_seed", String(state.dropoutSeed))
        if let vocabulary = model.vocabulary {
            try root.setAttribute(vocabularyAttributes.tokenizer, vocabulary.tokenizer)
            try root.setAttribute(vocabularyAttributes.sha256, vocabulary.sha256)
        }
    }

    /// The root attributes that record the vocabulary, named as in the data files.
    public static let vocabularyAttributes = (tokenizer: "tokenizer", sha256: "vocab_sha256")

    /// Both vocabulary attributes, or neither (an older checkpoint).
    private static func readVocabulary(_ root: HDF5Group, path: String) throws -> CheckpointVocabulary? {
        let names = vocabularyAttributes
        switch (root.hasAttribute(names.tokenizer), root.hasAttribute(names.sha256)) {
        case (false, false):
            return nil
        case (true, true):
            return CheckpointVocabulary(tokenizer: try root.stringAttribute(names.tokenizer),
                                        sha256: try root.stringAttribute(names.sha256))
        case let (hasTokenizer, _):
            throw CheckpointError.notACheckpoint(
                file: path, reason: "`\(hasTokenizer ? names.tokenizer : names.sha256)` without "
                    + "`\(hasTokenizer ? names.sha256 : names.tokenizer)`: the vocabulary takes both")
        }
    }

    /// Checks the format and version, then reads the attributes.
    private static func readAttributes(_ root: HDF5Group, path: String) throws -> Contents {
        guard root.hasAttribute("format"), try root.stringAttribute("format") == format else {
            throw CheckpointError.notACheckpoint(file: path, reason: "no `format` attribute saying \"\(format)\"")
        }
        let version = Int(try root.attribute("format_version", as: Int64.self))
        guard version == formatVersion else {
            throw CheckpointError.unsupportedVersion(file: path, found: version, supported: formatVersion)
        }
        let positionText = try root.stringAttribute("data_position")
        guard let position = try? JSONDecoder().decode(LoaderPosition.self, from: Data(positionText.utf8)) else {
            throw CheckpointError.notACheckpoint(file: path, reason: "data_position \"\(positionText)\" is not a loader position")
        }
        let seedText = try root.stringAttribute("dropout_seed")
        guard let seed = UInt64(seedText) else {
            throw CheckpointError.notACheckpoint(file: path, reason: "dropout_seed \"\(seedText)\" is not an unsigned integer")
        }
        let training = try root.group("training")
        let steps = try training.dataset("loss_steps").read(as: Int64.self)
        let losses = try training.dataset("losses").read(as: Double.self)
        guard steps.count == losses.count else {
            throw CheckpointError.notACheckpoint(file: path, reason: "\(steps.count) loss steps for \(losses.count) losses")
        }
        let curve = zip(steps, losses).map { LossPoint(step: Int($0), loss: $1) }
        let state = TrainingState(step: Int(try root.attribute("step", as: Int64.self)), dataPosition: position,
                                  dropoutSeed: seed, lossCurve: curve)
        let model = CheckpointModelInfo(configJSON: try root.stringAttribute("config"),
                                        paddedVocabSize: Int(try root.attribute("padded_vocab_size", as: Int64.self)),
                                        vocabulary: try readVocabulary(root, path: path))
        return Contents(state: state, model: model)
    }
}
