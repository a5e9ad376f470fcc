import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Processes that do nothing but keep a core busy, as a user's other work would: each a shell
/// loop (`while :; do :; done`, checking between rounds that this process still lives, so that
/// none outlives it even if it is killed). `stop` kills and reaps them.
final class BusyProcesses {
    private(set) var pids: [pid_t] = []

    /// Starts `count` busy loops; stops those already started if one cannot start.
    init(count: Int) throws {
        let script = "while kill -0 \(getpid()) 2>/dev/null; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done"
        for _ in 0..<count {
            var pid = pid_t()
            let arguments = ["/bin/sh", "-c", script]
            var argv = arguments.map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            let status = posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ)
            guard status == 0 else {
                stop()
                throw LoadBenchError.cannotStartBusyProcess(errno: status)
            }
            pids.append(pid)
        }
    }

    deinit { stop() }

    /// Kills and reaps every loop; safe to call twice.
    func stop() {
        for pid in pids {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        pids = []
    }
}
