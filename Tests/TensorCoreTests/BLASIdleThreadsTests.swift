import Testing
import TensorCore

@Suite struct BLASIdleThreadsTests {
    /// `megatron` restarts OpenBLAS's pool at start so that its threads sleep when idle; that
    /// needs these entry points of the OpenBLAS this links. (Restarting it here would race the
    /// products of tests running beside this one; `megatron bench load` measures the effect.)
    @Test func thisOpenBLASCanRestartItsPool() {
        #expect(BLASIdleThreads.canRestartPool)
        #expect(BLASIdleThreads.timeoutExponent != nil)
    }
}
