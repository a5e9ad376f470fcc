/// The order of the scaling experiment's columns, as the paper's Table 1 reads: the layout, the
/// model, its size, then the speed and the efficiency, ours and then the paper's. Columns not
/// listed follow in name order, so other experiments' tables are unchanged.
enum ScalingColumns {
    static let order = [
        "timing.tp", "timing.dp", "timing.layers", "timing.hidden", "timing.heads", "timing.parameters",
        "timing.parameters_per_rank", "timing.step_s", "timing.tokens_per_s", "timing.model_tflops_per_rank",
        "timing.efficiency",
        "paper.timing.dp", "paper.timing.layers", "paper.timing.hidden", "paper.timing.billion_parameters",
        "paper.timing.efficiency",
    ]

    /// `keys` sorted: the listed ones first, in the list's order, then the rest by name.
    static func sorted(_ keys: some Sequence<String>) -> [String] {
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return keys.sorted { a, b in
            switch (rank[a], rank[b]) {
            case let (x?, y?): x < y
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a < b
            }
        }
    }
}
