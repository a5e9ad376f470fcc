/// One rank's place in the `tp × dp` grid and the communicators of its groups.
///
/// Building it is a collective over `world` (two splits), so every rank builds it together.
public struct ProcessGrid: Sendable {
    public let layout: GridLayout
    public let world: any Communicator
    /// This rank's tensor-parallel group ("tp"): contiguous world ranks, ordered by tp rank.
    public let tensorParallel: any Communicator
    /// This rank's data-parallel group ("dp"): world ranks `tp` apart, ordered by dp rank.
    public let dataParallel: any Communicator

    /// Splits `world` into TP and DP groups. Throws `ParallelConfigError` (before any
    /// communication) unless `world.size == tensorParallel × dataParallel` with both positive.
    public init(world: any Communicator, tensorParallel: Int, dataParallel: Int) throws {
        try ParallelConfig(worldSize: world.size, tensorParallel: tensorParallel, dataParallel: dataParallel)
            .validate()
        let layout = GridLayout(tensorParallel: tensorParallel, dataParallel: dataParallel)
        let tpRank = layout.tensorParallelRank(of: world.rank)
        let dpRank = layout.dataParallelRank(of: world.rank)
        self.layout = layout
        self.world = world
        self.tensorParallel = try world.split(color: dpRank, key: tpRank, name: "tp")
        self.dataParallel = try world.split(color: tpRank, key: dpRank, name: "dp")
    }

    public var worldRank: Int { world.rank }
    public var tensorParallelRank: Int { tensorParallel.rank }
    public var dataParallelRank: Int { dataParallel.rank }
}
