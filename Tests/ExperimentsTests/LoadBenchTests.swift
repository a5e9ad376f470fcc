import Experiments
import Foundation
import Testing

@Suite struct LoadBenchTests {
    /// Every runnable thread gets cores ÷ (threads + busy loops) of a core, at most one.
    @Test func fairShareOfTheCores() {
        func slowdown(threads: Int, busy: Int, cores: Int) -> Double {
            LoadBench.fairShare(idleSeconds: 2, threads: threads, busy: busy, cores: cores) / 2
        }
        #expect(abs(slowdown(threads: 4, busy: 1, cores: 2) - 1.25) < 1e-12)
        #expect(abs(slowdown(threads: 4, busy: 2, cores: 2) - 1.5) < 1e-12)
        #expect(abs(slowdown(threads: 2, busy: 1, cores: 2) - 1.5) < 1e-12)
        #expect(abs(slowdown(threads: 2, busy: 2, cores: 2) - 2) < 1e-12)
        #expect(slowdown(threads: 1, busy: 2, cores: 4) == 1)
        #expect(abs(slowdown(threads: 4, busy: 0, cores: 2) - 1) < 1e-12)
    }

    /// The busy loops run until stopped, and stopping kills and reaps them.
    @Test func busyProcessesRunUntilStopped() throws {
        let pids = try LoadBench.withBusyProcesses(2) { pids -> [Int32] in
            #expect(pids.count == 2)
            for pid in pids { #expect(kill(pid, 0) == 0, "busy loop \(pid) is not running") }
            return pids
        }
        for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "busy loop \(pid) outlived the bench") }
    }
}
