/// Megatron's overlapping evaluation windows over a stream of T tokens
/// (`tasks/zeroshot_gpt2/datasets.py: _LMDataset`). Window i feeds tokens
/// [i·stride, i·stride + s) and predicts the next token at each position. Window 0 scores all of
/// its targets; each later window only its last `stride`, so every target 1 ..< T is scored
/// exactly once and, past the first window, with at least s − stride tokens of context. A short
/// final window is padded and its pads are not scored.
///
/// Megatron runs ⌈(T − 1 − stride)/stride⌉ + 1 windows, the last few of which score only pads;
/// these windows stop at the last one that scores a real target, with the same sum.
public struct StrideWindows: Sendable, Equatable {
    public let tokenCount: Int
    public let sequence: Int
    public let stride: Int

    /// One window: real inputs `tokens[start ..< start + length]`, labels one token later;
    /// positions `scored` (within the window) are the targets it scores.
    public struct Window: Sendable, Equatable {
        public let start: Int
        public let length: Int
        public let scored: Range<Int>
    }

    /// `stride` must lie in 1 ... sequence (a larger one would skip targets) and the stream must
    /// hold at least one target.
    public init(tokenCount: Int, sequence: Int, stride: Int) throws {
        guard sequence > 0 else {
            throw TaskError(what: "sequence length", problem: "\(sequence) is not positive", fix: "use a positive sequence length")
        }
        guard (1...sequence).contains(stride) else {
            throw TaskError(what: "stride", problem: "\(stride) is outside 1...\(sequence) (the sequence length)",
                            fix: "use a stride between 1 and the sequence length; Megatron's default is 32")
        }
        guard tokenCount >= 2 else {
            throw TaskError(what: "evaluation stream", problem: "\(tokenCount) tokens hold no target to score",
                            fix: "evaluate a stream of at least 2 tokens")
        }
        self.tokenCount = tokenCount
        self.sequence = sequence
        self.stride = stride
    }

    /// T − 1: every token but the first is a target.
    public var targetCount: Int { tokenCount - 1 }

    /// Window 0 covers targets 1 ... s, each later one `stride` more.
    public var count: Int {
        1 + max(0, (targetCount - sequence + stride - 1) / stride)
    }

    public func window(_ index: Int) -> Window {
        precondition((0..<count).contains(index), "window \(index) of \(count)")
        let start = index * stride
        let length = min(sequence, targetCount - start)
        return Window(start: start, length: length, scored: (index == 0 ? 0 : sequence - stride)..<length)
    }
}
