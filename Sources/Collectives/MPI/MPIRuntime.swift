import CMPI
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// MPI's process-wide lifetime: `MPI_Init` on first use, `MPI_Finalize` when the process exits,
/// errors returned (`MPI_ERRORS_RETURN`) so they surface as thrown `CollectiveError.mpi`.
public enum MPIRuntime {
    /// Whether this process was started by `mpirun`/`mpiexec` (Open MPI sets these variables).
    public static var isLaunchedByMPI: Bool {
        getenv("OMPI_COMM_WORLD_SIZE") != nil || getenv("PMI_SIZE") != nil
    }

    private static let initialization: Result<Void, CollectiveError> = {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            let code = MPI_Init(nil, nil)
            if code != cmpi_success() {
                return .failure(.mpi(function: "MPI_Init", code: code, message: errorString(code)))
            }
            atexit {
                var finalized: Int32 = 0
                MPI_Finalized(&finalized)
                if finalized == 0 { MPI_Finalize() }
            }
        }
        let code = MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return())
        if code != cmpi_success() {
            return .failure(.mpi(function: "MPI_Comm_set_errhandler", code: code, message: errorString(code)))
        }
        return .success(())
    }()

    /// Initialises MPI if needed; safe to call any number of times.
    public static func initialize() throws {
        try initialization.get()
    }

    /// This process's rank in `MPI_COMM_WORLD`.
    public static func worldRank() throws -> Int {
        try initialize()
        var rank: Int32 = 0
        try check(MPI_Comm_rank(cmpi_comm_world(), &rank), "MPI_Comm_rank")
        return Int(rank)
    }

    /// A communicator over all processes of the MPI job (a duplicate of `MPI_COMM_WORLD`, so its
    /// traffic never mixes with another library's). Sets this process's threads as the in-process
    /// engine sets a rank thread's: its share of the machine's cores for the kernels and products.
    public static func world(timeout: Double = InProcessWorld.defaultTimeout) throws -> MPICommunicator {
        try initialize()
        let local = try processesOnThisMachine()
        ComputeThreads.set(Swift.max(1, ComputeThreads.available / local))
        var duplicate = cmpi_comm_null()
        try check(MPI_Comm_dup(cmpi_comm_world(), &duplicate), "MPI_Comm_dup")
        var size: Int32 = 0
        try check(MPI_Comm_size(duplicate, &size), "MPI_Comm_size")
        return try MPICommunicator(
            handle: duplicate!, label: GroupLabel(name: "world", worldRanks: Array(0..<Int(size))),
            timeout: timeout, counters: CommunicationCounters())
    }

    /// How many processes of the job share this machine (its shared-memory node).
    static func processesOnThisMachine() throws -> Int {
        var node = cmpi_comm_null()
        try check(MPI_Comm_split_type(cmpi_comm_world(), cmpi_comm_type_shared(), 0, cmpi_info_null(), &node),
                  "MPI_Comm_split_type")
        defer { MPI_Comm_free(&node) }
        var size: Int32 = 0
        try check(MPI_Comm_size(node, &size), "MPI_Comm_size")
        return Int(size)
    }

    /// Ends every process of the job with `code`: what a rank does after an error its peers cannot
    /// see, so that they do not wait in a collective for it.
    public static func abort(code: Int32) -> Never {
        var initialized: Int32 = 0
        var finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0 && finalized == 0 { MPI_Abort(cmpi_comm_world(), code) }
        exit(code)
    }

    static func errorString(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func check(_ code: Int32, _ function: String) throws {
        if code != cmpi_success() {
            throw CollectiveError.mpi(function: function, code: code, message: errorString(code))
        }
    }
}
