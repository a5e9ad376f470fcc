import Collectives
import Testing
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Misuse and failure end in a thrown error that names what happened, within the timeout.
@Suite struct CollectiveFailureTests {
    func seconds(since start: timespec) -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec - start.tv_sec) + Double(now.tv_nsec - start.tv_nsec) * 1e-9
    }

    func now() -> timespec {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return t
    }

    @Test func mismatchedCountsNameTheOpAndEveryRanksSize() throws {
        let outcomes = InProcessWorld.results(worldSize: 3) { comm in
            var buffer = [Float](repeating: 1, count: comm.rank == 1 ? 99 : 100)
            try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
        }
        for outcome in outcomes {
            guard case .failure(let error) = outcome, case let CollectiveError.mismatch(_, sequence, calls) = error else {
                Issue.record("expected a mismatch, got \(outcome)")
                continue
            }
            #expect(sequence == 1)
            #expect(calls.map(\.count) == [100, 99, 100])
            let message = "\(error)"
            #expect(message.contains("rank 1: allReduce(sum) of 99 float32"))
            #expect(message.contains("rank 0: allReduce(sum) of 100 float32"))
        }
    }

    @Test func mismatchedOperationsAreCaught() throws {
        let outcomes = InProcessWorld.results(worldSize: 2) { comm in
            var buffer = [Double](repeating: 1, count: 10)
            try buffer.withUnsafeMutableBufferPointer { buffer in
                if comm.rank == 0 { try comm.allReduce(buffer, op: .sum) } else { try comm.broadcast(buffer, root: 0) }
            }
        }
        for outcome in outcomes {
            guard case .failure(CollectiveError.mismatch(_, _, let calls)) = outcome else {
                Issue.record("expected a mismatch, got \(outcome)")
                continue
            }
            #expect(calls.map(\.op) == [.allReduce, .broadcast])
        }
    }

    @Test func aRankThatNeverArrivesTimesOut() throws {
        let outcomes = try InProcessWorld.run(worldSize: 3, timeout: 0.3) { comm -> (CollectiveError?, Double) in
            if comm.rank == 2 {
                usleep(2_500_000)
                return (nil, 0)
            }
            let start = now()
            var buffer = [Float](repeating: 1, count: 17)
            do {
                try buffer.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .sum) }
                return (nil, seconds(since: start))
            } catch let error as CollectiveError {
                return (error, seconds(since: start))
            }
        }
        for rank in 0..<2 {
            let (error, elapsed) = outcomes[rank]
            #expect(elapsed < 2.0, "rank \(rank) should give up after the 0.3 s timeout, not wait for rank 2")
            switch error {
            case let .timeout(_, _, call, _, _, missing)?:
                #expect(missing == [2])
                #expect(call.op == .allReduce && call.count == 17)
                #expect("\(error!)".contains("ranks [2] did not arrive"))
            case .peerFailed?:
                break  // the other waiter timed out first and poisoned the world
            default:
                Issue.record("rank \(rank): unexpected \(String(describing: error))")
            }
        }
    }

    @Test func aRankThatReturnsWithoutJoiningIsNamed() throws {
        let outcomes = InProcessWorld.results(worldSize: 2) { comm in
            if comm.rank == 1 { return }
            try comm.barrier()
        }
        guard case .failure(CollectiveError.ranksFinished(_, _, let call, let ranks)) = outcomes[0] else {
            Issue.record("expected ranksFinished, got \(outcomes[0])")
            return
        }
        #expect(call.op == .barrier && ranks == [1])
    }

    struct Boom: Error {}

    @Test func aFailingRankPoisonsItsPeersEvenInOtherGroups() throws {
        let start = now()
        let outcomes = InProcessWorld.results(worldSize: 4) { comm in
            let grid = try ProcessGrid(world: comm, tensorParallel: 2, dataParallel: 2)
            if comm.rank == 3 { throw Boom() }
            var buffer = [Float](repeating: 1, count: 8)
            for _ in 0..<3 {
                try buffer.withUnsafeMutableBufferPointer { try grid.tensorParallel.allReduce($0, op: .sum) }
            }
        }
        #expect(seconds(since: start) < 5, "peers must not wait out the 60 s default timeout")
        guard case .failure(let root) = outcomes[3] else {
            Issue.record("rank 3 should fail")
            return
        }
        #expect(root is Boom)
        for rank in 0..<3 {
            guard case .failure(CollectiveError.peerFailed(let failed, _)) = outcomes[rank] else {
                if rank == 0 || rank == 1, case .success = outcomes[rank] { continue }  // group {0,1} may finish first
                Issue.record("rank \(rank): expected peerFailed, got \(outcomes[rank])")
                continue
            }
            #expect(failed == 3)
        }
    }

    @Test func runRethrowsTheRootCause() {
        #expect(throws: Boom.self) {
            try InProcessWorld.run(worldSize: 3) { comm in
                if comm.rank == 1 { throw Boom() }
                try comm.barrier()
            }
        }
    }

    @Test func wrongOutputSizeIsRejectedBeforeCommunicating() {
        let outcomes = InProcessWorld.results(worldSize: 1) { comm in
            let input = [Float](repeating: 0, count: 4)
            var output = [Float](repeating: 0, count: 5)
            try input.withUnsafeBufferPointer { input in
                try output.withUnsafeMutableBufferPointer { try comm.allGather(input, into: $0) }
            }
        }
        guard case .failure(CollectiveError.invalidArguments(_, _, let call, let reason)) = outcomes[0] else {
            Issue.record("expected invalidArguments, got \(outcomes[0])")
            return
        }
        #expect(call.op == .allGather && reason.contains("1 × 4"))
    }
}
