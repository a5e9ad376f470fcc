import Models

/// One pipelined step replayed with the durations its stages measured and instant hand-offs:
/// every stage runs its `OneFOneBSchedule.order`, a forward waits for the previous stage's
/// forward of the same micro-batch, a backward for the next stage's backward of it. The wall
/// time of the replay is what the schedule costs given these stages (unequal stages, a backward
/// that is not twice its forward); the measured wall minus it is what the hand-offs cost (a
/// sleeping thread woken, the copy, one stage's jitter waited out by the other).
public enum PipelineReplay {
    /// `workSeconds[s][i]` is stage s's duration of the i-th work of its schedule's order.
    public static func wallSeconds(microBatches: Int, workSeconds: [[Double]]) -> Double {
        let stages = workSeconds.count
        let orders = (0..<stages).map {
            OneFOneBSchedule(stage: PipelineStage(index: $0, count: stages), microBatches: microBatches).order
        }
        precondition(zip(orders, workSeconds).allSatisfy { $0.count == $1.count },
                     "PipelineReplay: one duration per work of each stage's schedule")
        var forwardEnd = [[Double?]](repeating: [Double?](repeating: nil, count: microBatches), count: stages)
        var backwardEnd = forwardEnd
        var next = [Int](repeating: 0, count: stages)
        var clock = [Double](repeating: 0, count: stages)
        var remaining = orders.reduce(0) { $0 + $1.count }
        while remaining > 0 {
            let before = remaining
            for s in 0..<stages where next[s] < orders[s].count {
                let ready: Double?
                switch orders[s][next[s]] {
                case .forward(let m): ready = s == 0 ? 0 : forwardEnd[s - 1][m]
                case .backward(let m): ready = s == stages - 1 ? forwardEnd[s][m] : backwardEnd[s + 1][m]
                }
                guard let ready else { continue }
                clock[s] = max(clock[s], ready) + workSeconds[s][next[s]]
                switch orders[s][next[s]] {
                case .forward(let m): forwardEnd[s][m] = clock[s]
                case .backward(let m): backwardEnd[s][m] = clock[s]
                }
                next[s] += 1
                remaining -= 1
            }
            precondition(remaining < before, "PipelineReplay: the 1F1B orders wait on each other")
        }
        return clock.max() ?? 0
    }
}
