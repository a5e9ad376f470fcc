import Foundation

/// The settings a figure needs from a run's recorded training config (`RunResult.config`):
/// what to group, split and label curves by.
struct RunSettings {
    let model: [String: Any]
    let training: [String: Any]

    init(_ run: RunResult) {
        let object = (try? JSONSerialization.jsonObject(with: Data(run.config.utf8))) as? [String: Any] ?? [:]
        model = object["model"] as? [String: Any] ?? [:]
        training = object["training"] as? [String: Any] ?? [:]
    }

    var family: String? { model["family"] as? String }
    var layers: Int? { (model["layers"] as? NSNumber)?.intValue }
    var postLayerNorm: Bool? { (model["post_layernorm"] as? NSNumber)?.boolValue }
    var tensorParallel: Int { (training["tp"] as? NSNumber)?.intValue ?? 1 }
    var dataParallel: Int { (training["dp"] as? NSNumber)?.intValue ?? 1 }

    /// Sequence tokens per optimizer step (global batch × sequence length), when both are recorded.
    var tokensPerStep: Double? {
        guard let batch = (training["global_batch"] as? NSNumber)?.doubleValue,
              let sequence = (model["sequence_length"] as? NSNumber)?.doubleValue else { return nil }
        return batch * sequence
    }

    /// The config with what differs between seeds of one setting removed (the seed, and the
    /// checkpoint folder named after the run): runs with equal keys are seeds of one curve.
    var settingKey: String {
        var training = self.training
        training["seed"] = nil
        training["checkpoint_dir"] = nil
        let object: [String: Any] = ["model": model, "training": training]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs of one setting that differ only by seed, drawn as one curve with a band.
struct SeedGroup {
    let label: String
    let runs: [RunResult]
    let settings: RunSettings

    /// Groups `runs` by setting, in the order each setting first appears. A group of several
    /// seeds is labelled by its ids' common prefix without a trailing seed marker
    /// ("post-ln-4-seed1", "post-ln-4-seed2" → "post-ln-4").
    static func grouped(_ runs: [RunResult]) -> [SeedGroup] {
        var order: [String] = [], members: [String: [RunResult]] = [:]
        for run in runs {
            let key = RunSettings(run).settingKey
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(run)
        }
        return order.map { key in
            let group = members[key]!
            return SeedGroup(label: group.count == 1 ? group[0].id : commonLabel(group.map(\.id)),
                             runs: group, settings: RunSettings(group[0]))
        }
    }

    static func commonLabel(_ ids: [String]) -> String {
        var prefix = ids[0]
        for id in ids.dropFirst() {
            prefix = String(zip(prefix, id).prefix { $0 == $1 }.map(\.0))
        }
        let trimmed = prefix.replacingOccurrences(of: "[-_. ]*(seed|s)?[-_. ]*$", with: "", options: .regularExpression)
        return trimmed.isEmpty ? ids.joined(separator: ", ") : trimmed
    }
}
