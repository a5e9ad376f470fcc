import Collectives
import Testing
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Send and receive between two ranks of a group, the pipeline's transport: in order, counted,
/// and ending in an error that names the peer rather than a hang.
@Suite struct PointToPointTests {
    @Test func messagesArriveInOrderAndAreCounted() throws {
        let received = try InProcessWorld.run(worldSize: 3) { world -> [[Float]] in
            switch world.rank {
            case 0:
                for k in 0..<3 { try world.send(Tensor<Float>(shape: [4], values: (0..<4).map { Float(10 * k + $0) }), to: 2) }
                #expect(world.counters.tally(.send) == CollectiveTally(calls: 3, elements: 12, bytes: 48))
                return []
            case 2:
                let messages = try (0..<3).map { _ in
                    let t = Tensor<Float>(zeros: [4])
                    try world.recv(t, from: 0)
                    return t.array
                }
                #expect(world.counters.tally(.recv) == CollectiveTally(calls: 3, elements: 12, bytes: 48))
                return messages
            default:
                return []
            }
        }
        #expect(received[2] == [[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23]])
    }

    @Test func aReceiveOfTheWrongSizeNamesBoth() {
        let outcomes = InProcessWorld.results(worldSize: 2) { world in
            if world.rank == 0 {
                try world.send(Tensor<Float>(zeros: [5]), to: 1)
            } else {
                try world.recv(Tensor<Float>(zeros: [4]), from: 0)
            }
        }
        guard case .failure(let error) = outcomes[1], case CollectiveError.invalidArguments = error else {
            Issue.record("expected invalidArguments, got \(outcomes[1])")
            return
        }
        #expect("\(error)".contains("send to 1 of 5 float32"))
    }

    @Test func aPeerThatFinishesWithoutSendingEndsTheReceive() {
        let outcomes = InProcessWorld.results(worldSize: 2, timeout: 30) { world in
            if world.rank == 1 { try world.recv(Tensor<Float>(zeros: [4]), from: 0) }
        }
        guard case .failure(let error) = outcomes[1], case let CollectiveError.ranksFinished(_, _, call, ranks) = error else {
            Issue.record("expected ranksFinished, got \(outcomes[1])")
            return
        }
        #expect(ranks == [0] && call.op == .recv)
    }

    @Test func aReceiveThatNeverCompletesTimesOut() {
        let outcomes = InProcessWorld.results(worldSize: 2, timeout: 0.5) { world in
            if world.rank == 1 {
                try world.recv(Tensor<Float>(zeros: [4]), from: 0)
            } else {
                usleep(2_000_000)
            }
        }
        guard case .failure(let error) = outcomes[1], case let CollectiveError.timeout(_, _, call, _, waiting, missing) = error else {
            Issue.record("expected a timeout, got \(outcomes[1])")
            return
        }
        #expect(call.op == .recv && waiting == [1] && missing == [0])
    }
}
