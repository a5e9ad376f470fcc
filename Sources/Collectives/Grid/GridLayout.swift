/// Megatron's rank layout for `world = tp × dp`: tensor-parallel ranks vary fastest, so a TP
/// group is contiguous ranks ({0, 1}, {2, 3} at tp = 2) and a DP group is strided ({0, 2, 4, 6}
/// and {1, 3, 5, 7} at tp = 2, dp = 4). TP groups then share a node's fast links.
public struct GridLayout: Sendable, Equatable {
    public let tensorParallel: Int
    public let dataParallel: Int

    public init(tensorParallel: Int, dataParallel: Int) {
        precondition(tensorParallel > 0 && dataParallel > 0,
                     "GridLayout: sizes must be positive (tp \(tensorParallel), dp \(dataParallel)); validate with ParallelConfig first")
        self.tensorParallel = tensorParallel
        self.dataParallel = dataParallel
    }

    public var worldSize: Int { tensorParallel * dataParallel }

    /// tp_rank = rank % tp.
    public func tensorParallelRank(of worldRank: Int) -> Int { worldRank % tensorParallel }

    /// dp_rank = rank / tp.
    public func dataParallelRank(of worldRank: Int) -> Int { worldRank / tensorParallel }

    /// The world rank at a (tp, dp) position of the grid.
    public func worldRank(tensorParallelRank: Int, dataParallelRank: Int) -> Int {
        dataParallelRank * tensorParallel + tensorParallelRank
    }

    /// The TP group holding `worldRank`: its `tp` contiguous ranks.
    public func tensorParallelGroup(containing worldRank: Int) -> [Int] {
        let dp = dataParallelRank(of: worldRank)
        return (0..<tensorParallel).map { self.worldRank(tensorParallelRank: $0, dataParallelRank: dp) }
    }

    /// The DP group holding `worldRank`: the ranks with its tp rank, `tp` apart.
    public func dataParallelGroup(containing worldRank: Int) -> [Int] {
        let tp = tensorParallelRank(of: worldRank)
        return (0..<dataParallel).map { self.worldRank(tensorParallelRank: tp, dataParallelRank: $0) }
    }

    /// All TP groups, by dp rank.
    public var tensorParallelGroups: [[Int]] {
        (0..<dataParallel).map { tensorParallelGroup(containing: $0 * tensorParallel) }
    }

    /// All DP groups, by tp rank.
    public var dataParallelGroups: [[Int]] {
        (0..<tensorParallel).map { dataParallelGroup(containing: $0) }
    }
}
