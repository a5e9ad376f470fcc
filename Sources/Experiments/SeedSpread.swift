/// Runs repeated over seeds (an experiment's `seeds`), one row per run: the final loss's mean and
/// range over the seeds, and how many seeds diverged or stalled — so a difference between two
/// runs is read against the spread within each.
struct SeedSpread {
    struct Row: Equatable {
        var id: String
        var seeds: [Int]
        /// Mean, lowest and highest `train.final_loss` over the seeds whose loss is finite.
        var mean: Double?, lowest: Double?, highest: Double?
        var diverged: Int, stalled: Int
    }

    let rows: [Row]

    /// Groups the runs that recorded `train.seed` by their id without the `-seedN` suffix.
    init(record: RunRecord) {
        var order: [String] = []
        var groups: [String: [RunResult]] = [:]
        for run in record.runs {
            guard let seed = run.metrics["train.seed"] else { continue }
            let suffix = "-seed\(Int(seed))"
            let id = run.id.hasSuffix(suffix) ? String(run.id.dropLast(suffix.count)) : run.id
            if groups[id] == nil { order.append(id) }
            groups[id, default: []].append(run)
        }
        rows = order.map { id in
            let runs = groups[id]!
            let losses = runs.compactMap { $0.metrics["train.final_loss"] }.filter(\.isFinite)
            return Row(id: id, seeds: runs.map { Int($0.metrics["train.seed"]!) },
                       mean: losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count),
                       lowest: losses.min(), highest: losses.max(),
                       diverged: runs.filter { $0.metrics["train.diverged"] == 1 }.count,
                       stalled: runs.filter { $0.metrics["train.stalled"] == 1 }.count)
        }
    }

    /// The README's table, or nothing when no run was repeated over seeds.
    var lines: [String] {
        guard !rows.isEmpty else { return [] }
        var lines = ["Over seeds (train.final_loss of the seeds that stayed finite):", "",
                     "| run | seeds | final loss, mean | lowest | highest | diverged | stalled |",
                     "|---|---|---:|---:|---:|---:|---:|"]
        for row in rows {
            let numbers = [row.mean, row.lowest, row.highest].map { $0.map(formatNumber) ?? "—" }
            lines.append("| \(row.id) | \(row.seeds.map(String.init).joined(separator: ", ")) | "
                + numbers.joined(separator: " | ") + " | \(row.diverged) | \(row.stalled) |")
        }
        lines.append("")
        return lines
    }
}
