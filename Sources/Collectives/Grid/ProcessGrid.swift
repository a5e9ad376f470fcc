/// One rank's place in the `tp × pp × dp` grid (`GridLayout`'s rank order) and the
/// communicators of its groups.
///
/// Building it is a collective over `world` (four splits), so every rank builds it together.
public struct ProcessGrid: Sendable {
    public let layout: GridLayout
    public let world: any Communicator
    /// This rank's tensor-parallel group ("tp"): contiguous world ranks, ordered by tp rank.
    public let tensorParallel: any Communicator
    /// This rank's data-parallel group ("dp"): world ranks `tp` apart within its stage, ordered by dp rank.
    public let dataParallel: any Communicator
    /// This rank's pipeline ("pp"): one rank per stage, ordered by stage; activations and their
    /// gradients travel between neighbours of it.
    public let pipeline: any Communicator
    /// The first and last stage of this rank's pipeline ("emb"), which hold the tied word
    /// embedding and sum its gradient; every other rank is alone in its own.
    public let embedding: any Communicator

    /// Splits `world` into TP, DP, pipeline and embedding groups. Throws `ParallelConfigError`
    /// (before any communication) unless `world.size == tp × pp × dp` with all three positive.
    public init(world: any Communicator, tensorParallel: Int, dataParallel: Int, pipelineParallel: Int = 1) throws {
        try ParallelConfig(worldSize: world.size, tensorParallel: tensorParallel, dataParallel: dataParallel,
                           pipelineParallel: pipelineParallel).validate()
        let layout = GridLayout(tensorParallel: tensorParallel, dataParallel: dataParallel,
                                pipelineParallel: pipelineParallel)
        let tpRank = layout.tensorParallelRank(of: world.rank)
        let dpRank = layout.dataParallelRank(of: world.rank)
        let ppRank = layout.pipelineParallelRank(of: world.rank)
        let pipelineIndex = world.rank % layout.stageSize
        self.layout = layout
        self.world = world
        self.tensorParallel = try world.split(color: ppRank * dataParallel + dpRank, key: tpRank, name: "tp")
        self.dataParallel = try world.split(color: ppRank * tensorParallel + tpRank, key: dpRank, name: "dp")
        pipeline = try world.split(color: pipelineIndex, key: ppRank, name: "pp")
        let holdsEmbedding = layout.embeddingGroup(containing: world.rank).contains(world.rank)
        embedding = try world.split(color: holdsEmbedding ? pipelineIndex : layout.stageSize + world.rank,
                                    key: ppRank, name: "emb")
    }

    public var worldRank: Int { world.rank }
    public var tensorParallelRank: Int { tensorParallel.rank }
    public var dataParallelRank: Int { dataParallel.rank }
    public var pipelineParallelRank: Int { pipeline.rank }
}
