/// Megatron's rank layout for `world = tp × pp × dp`, in the default order of
/// `megatron/core/parallel_state.py` ("tp-cp-ep-dp-pp": tensor-parallel ranks vary fastest, then
/// data-parallel, pipeline stages slowest):
///
///     world rank = pp_rank · (tp · dp) + dp_rank · tp + tp_rank
///
/// So a TP group is contiguous ranks ({0, 1}, {2, 3} at tp = 2) and shares a node's fast links;
/// a DP group is strided by tp within one stage ({0, 2, 4, 6} at tp = 2, dp = 4); a pipeline
/// is strided by tp · dp ({0, 4} at tp = 2, dp = 2, pp = 2), its stages far apart, since they
/// exchange one activation per micro-batch only. At pp = 1 this is the tp × dp layout.
public struct GridLayout: Sendable, Equatable {
    public let tensorParallel: Int
    public let dataParallel: Int
    public let pipelineParallel: Int

    public init(tensorParallel: Int, dataParallel: Int, pipelineParallel: Int = 1) {
        precondition(tensorParallel > 0 && dataParallel > 0 && pipelineParallel > 0,
                     "GridLayout: sizes must be positive (tp \(tensorParallel), dp \(dataParallel), pp \(pipelineParallel)); validate with ParallelConfig first")
        self.tensorParallel = tensorParallel
        self.dataParallel = dataParallel
        self.pipelineParallel = pipelineParallel
    }

    public var worldSize: Int { tensorParallel * dataParallel * pipelineParallel }

    /// Ranks of one pipeline stage: tp · dp.
    var stageSize: Int { tensorParallel * dataParallel }

    /// tp_rank = rank % tp.
    public func tensorParallelRank(of worldRank: Int) -> Int { worldRank % tensorParallel }

    /// dp_rank = (rank / tp) % dp.
    public func dataParallelRank(of worldRank: Int) -> Int { worldRank / tensorParallel % dataParallel }

    /// pp_rank = rank / (tp · dp).
    public func pipelineParallelRank(of worldRank: Int) -> Int { worldRank / stageSize }

    /// The world rank at a (tp, dp, pp) position of the grid.
    public func worldRank(tensorParallelRank: Int, dataParallelRank: Int, pipelineParallelRank: Int = 0) -> Int {
        pipelineParallelRank * stageSize + dataParallelRank * tensorParallel + tensorParallelRank
    }

    /// The TP group holding `worldRank`: its `tp` contiguous ranks.
    public func tensorParallelGroup(containing worldRank: Int) -> [Int] {
        let dp = dataParallelRank(of: worldRank), pp = pipelineParallelRank(of: worldRank)
        return (0..<tensorParallel).map {
            self.worldRank(tensorParallelRank: $0, dataParallelRank: dp, pipelineParallelRank: pp)
        }
    }

    /// The DP group holding `worldRank`: the ranks of its stage with its tp rank, `tp` apart.
    public func dataParallelGroup(containing worldRank: Int) -> [Int] {
        let tp = tensorParallelRank(of: worldRank), pp = pipelineParallelRank(of: worldRank)
        return (0..<dataParallel).map {
            self.worldRank(tensorParallelRank: tp, dataParallelRank: $0, pipelineParallelRank: pp)
        }
    }

    /// The pipeline holding `worldRank`: one rank per stage with its tp and dp ranks, by stage.
    public func pipelineGroup(containing worldRank: Int) -> [Int] {
        (0..<pipelineParallel).map { worldRank % stageSize + $0 * stageSize }
    }

    /// Megatron's embedding group of `worldRank`'s pipeline: its first and last stage, which
    /// both hold the tied word embedding (one rank at pp = 1).
    public func embeddingGroup(containing worldRank: Int) -> [Int] {
        let pipeline = pipelineGroup(containing: worldRank)
        return pipeline.count == 1 ? pipeline : [pipeline.first!, pipeline.last!]
    }

    /// All TP groups, by (pp rank, dp rank).
    public var tensorParallelGroups: [[Int]] {
        (0..<(dataParallel * pipelineParallel)).map { tensorParallelGroup(containing: $0 * tensorParallel) }
    }

    /// All DP groups, by (pp rank, tp rank).
    public var dataParallelGroups: [[Int]] {
        (0..<pipelineParallel).flatMap { pp in
            (0..<tensorParallel).map { dataParallelGroup(containing: pp * stageSize + $0) }
        }
    }

    /// All pipelines, by (dp rank, tp rank).
    public var pipelineGroups: [[Int]] {
        (0..<stageSize).map { pipelineGroup(containing: $0) }
    }
}
