/// A rank that does not see the files rank 0 sees, found before the first step; every rank of
/// the job throws the same error, so none waits for the others in a collective.
public enum SharedFilesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `rank` on `host` cannot open or read `path`.
    case unreadable(path: String, host: String, rank: Int, reason: String)
    /// `rank` on `host` reads another file under `path` than rank 0 on `rankZeroHost`.
    case differs(path: String, host: String, rank: Int, seen: String, rankZeroHost: String, rankZeroSees: String)
    /// Rank 0 on `host` cannot create or write the checkpoint directory.
    case checkpointDirectoryNotWritable(path: String, host: String, reason: String)
    /// `rank` on `host` does not see what rank 0 wrote into the checkpoint directory, so it could
    /// not resume from the checkpoints rank 0 writes there.
    case checkpointDirectoryNotShared(path: String, host: String, rank: Int, reason: String)

    public var description: String {
        let shared = "every host must see the same files: put them on storage the hosts share, or copy them identically"
        switch self {
        case let .unreadable(path, host, rank, reason):
            return "\(path): rank \(rank) on host \(host) cannot read it (\(reason)); \(shared)"
        case let .differs(path, host, rank, seen, rankZeroHost, rankZeroSees):
            return "\(path): rank \(rank) on host \(host) reads another file (\(seen)) than rank 0 on host "
                + "\(rankZeroHost) (\(rankZeroSees)); \(shared)"
        case let .checkpointDirectoryNotWritable(path, host, reason):
            return "\(path): rank 0 on host \(host) cannot write the checkpoint directory (\(reason)); "
                + "choose a directory it can write (training.checkpoint_dir)"
        case let .checkpointDirectoryNotShared(path, host, rank, reason):
            return "\(path): rank \(rank) on host \(host) does not see what rank 0 writes into the checkpoint "
                + "directory (\(reason)), so it could not resume from its checkpoints; put the directory on storage "
                + "every host shares"
        }
    }
}
