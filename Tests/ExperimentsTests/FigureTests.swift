import Experiments
import Foundation
import Testing

/// Each kind of figure `megatron tables` draws, rendered from a fixed record and read back as
/// SVG text: its axes carry the expected round ticks and labelled units, each series is one
/// path, the legend names every series with its value, and README.md carries its caption.
@Suite struct FigureTests {
    /// Writes `record` under a fresh results folder, runs the tables, returns the folder.
    /// `stale` names figures an earlier version left in the experiment's folder.
    func tabulate(_ record: RunRecord, stale: [String] = []) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("figures-\(getpid())-\(UUID().uuidString)").path
        try record.save("\(folder)/\(record.experiment)/run.json")
        for name in stale {
            try Data("<svg/>".utf8).write(to: URL(fileURLWithPath: "\(folder)/\(record.experiment)/\(name)"))
        }
        try ResultTables(resultsDirectory: folder).write()
        return folder
    }

    func record(_ experiment: String, _ runs: [RunResult]) -> RunRecord {
        RunRecord(experiment: experiment, command: "megatron run \(experiment)", gitCommit: "abc", machine: .current(),
                  date: "2026-11-26T00:00:00Z", wallSeconds: 60, runs: runs, shrunk: [])
    }

    func config(layers: Int = 2, postLN: Bool = false, family: String = "gpt", seed: Int = 1234, tp: Int = 1, dp: Int = 1,
                id: String = "run") -> String {
        """
        {"model": {"family": "\(family)", "layers": \(layers), "post_layernorm": \(postLN), "sequence_length": 128},
         "training": {"global_batch": 16, "seed": \(seed), "tp": \(tp), "dp": \(dp), "checkpoint_dir": "checkpoints/x/\(id)"}}
        """
    }

    /// A decaying loss with a deterministic wiggle, `steps` long.
    func curve(steps: Int, floor: Double, wiggle: Double = 0.05) -> [[Double]] {
        (1...steps).map { s in
            let step = Double(s)
            let decay: Double = 4 * exp(-step / 150)
            return [step, floor + decay + wiggle * sin(step * 1.7)]
        }
    }

    /// The texts of the elements of class `role`, in document order.
    func texts(_ svg: String, _ role: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "class=\"\(role)\"[^>]*>([^<]*)</text>")
        return pattern.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).map {
            String(svg[Range($0.range(at: 1), in: svg)!]).replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    func count(_ svg: String, _ needle: String) -> Int {
        svg.components(separatedBy: needle).count - 1
    }

    /// Depths whose seeds' final losses overlap end level, whichever mean is lower (post-LN here:
    /// 16 layers at 7.526–7.527, 4 at 7.526–7.528, as bert-layernorm recorded them).
    @Test func figure7CallsOverlappingSeedsLevel() throws {
        var runs: [RunResult] = []
        for (post, order) in [(true, "post-ln"), (false, "pre-ln")] {
            for layers in [4, 16] {
                for seed in [1, 2] {
                    let id = "\(order)-\(layers)-seed\(seed)"
                    let floor = post ? 7.5 + (layers == 4 ? 0.002 : 0.001) * Double(seed) : 7 + Double(layers) / 40 + Double(seed) / 100
                    runs.append(RunResult(id: id, config: config(layers: layers, postLN: post, family: "bert", seed: seed, id: id),
                                          metrics: [:], lossCurve: curve(steps: 1000, floor: floor), wallSeconds: 1))
                }
            }
        }
        let folder = try tabulate(record("bert-layernorm", runs))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("original order (post-LN): the deep stack ends level with (the seeds' ranges overlap) the shallow one"))
        #expect(page.contains("rearranged order (pre-LN): the deep stack ends higher than the shallow one"))
    }

    @Test func figure7PanelsDrawSeedsAsBands() throws {
        var runs: [RunResult] = []
        for (post, order) in [(true, "post-ln"), (false, "pre-ln")] {
            for layers in [4, 16] {
                for seed in [1, 2] {
                    let id = "\(order)-\(layers)-seed\(seed)"
                    runs.append(RunResult(id: id, config: config(layers: layers, postLN: post, family: "bert", seed: seed, id: id),
                                          metrics: [:], lossCurve: curve(steps: 1000, floor: 6 + Double(layers) / 40 + Double(seed) / 50),
                                          wallSeconds: 1))
                }
            }
        }
        let folder = try tabulate(record("bert-layernorm", runs))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let svg = try String(contentsOfFile: "\(folder)/bert-layernorm/loss.svg", encoding: .utf8)
        #expect(texts(svg, "panel-title") == ["original order (post-LN)", "rearranged order (pre-LN)"])
        // One smoothed path and one band per (order, depth), one faint path per seed.
        #expect(count(svg, "class=\"series\"") == 4 && count(svg, "class=\"band\"") == 4 && count(svg, "class=\"raw\"") == 8)
        #expect(count(svg, "class=\"series\" data-series=\"post-LN, deep, 16 layers\"") == 1)
        let legend = texts(svg, "legend-entry")
        #expect(legend.count == 4 && legend.allSatisfy { $0.contains("final") && $0.contains("(2 seeds") })
        #expect(legend[0].hasPrefix("post-LN, shallow, 4 layers: final 6.1"))
        // Both panels on one round loss axis, steps and tokens on round ticks, units named.
        let yTicks = texts(svg, "tick-label-y")
        #expect(yTicks.count % 2 == 0 && Array(yTicks.prefix(yTicks.count / 2)) == Array(yTicks.suffix(yTicks.count / 2)))
        // Evenly spaced by 1, 2 or 5 × 10ᵏ, each tick a multiple of the step.
        let yValues = yTicks.prefix(yTicks.count / 2).compactMap(Double.init)
        let step = yValues.count > 1 ? yValues[1] - yValues[0] : 0
        let mantissa = step / pow(10, floor(log10(step)))
        #expect(yValues.count == yTicks.count / 2 && yValues.count >= 5 && [1.0, 2, 5].contains { abs($0 - mantissa) < 1e-9 })
        #expect(zip(yValues, yValues.dropFirst()).allSatisfy { abs(($1 - $0) - step) < 1e-9 }
            && yValues.allSatisfy { abs(($0 / step).rounded() * step - $0) < 1e-9 })
        #expect(Array(texts(svg, "tick-label-x").prefix(6)) == ["0", "200", "400", "600", "800", "1000"])
        #expect(Array(texts(svg, "tick-label-top").prefix(5)) == ["0", "0.5M", "1.0M", "1.5M", "2.0M"])
        #expect(texts(svg, "axis-label-x").first == "training step" && texts(svg, "axis-label-top").first == "tokens seen (2048 per step)")
        #expect(texts(svg, "axis-label-y").first == "loss (nats, masked LM + sentence order)")
        #expect(texts(svg, "note").joined(separator: " ").contains("EMA over a 40-step span, α = 0.049"))
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("![bert-layernorm: BERT pretraining loss by layer-norm order and depth (Figure 7)](bert-layernorm/loss.svg)"))
        #expect(page.contains("original order (post-LN): the deep stack ends higher than the shallow one"))
        // The same records give the same bytes.
        let again = try tabulate(record("bert-layernorm", runs))
        defer { try? FileManager.default.removeItem(atPath: again) }
        #expect(try String(contentsOfFile: "\(again)/bert-layernorm/loss.svg", encoding: .utf8) == svg)
    }

    /// It replaces the loss curves, whose figure an earlier version left behind.
    @Test func parityIsDrawnAsDeviationOnALogAxis() throws {
        let reference = curve(steps: 60, floor: 7)
        func shifted(_ by: Double) -> [[Double]] {
            reference.map { point in
                let factor: Double = 1 + by * (1.5 + point[0].truncatingRemainder(dividingBy: 3))
                return [point[0], point[1] * factor]
            }
        }
        let runs = [("tp1-dp1", 1, 1, 0.0), ("tp2-dp1", 2, 1, 1e-9), ("tp1-dp2", 1, 2, 2e-9)].map { id, tp, dp, by in
            RunResult(id: id, config: config(tp: tp, dp: dp, id: id), metrics: ["loss_curve.max_relative_deviation": 3.5 * by],
                      lossCurve: by == 0 ? reference : shifted(by), wallSeconds: 1)
        }
        let folder = try tabulate(record("tp-parity", runs), stale: ["loss.svg"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/tp-parity/loss.svg"))
        let svg = try String(contentsOfFile: "\(folder)/tp-parity/deviation.svg", encoding: .utf8)
        #expect(count(svg, "class=\"series\"") == 2)
        #expect(texts(svg, "tick-label-y") == ["10⁻⁹", "10⁻⁸", "10⁻⁷", "10⁻⁶"])
        #expect(texts(svg, "legend-entry") == ["tp 2 × dp 1: largest 3.5 × 10⁻⁹", "tp 1 × dp 2: largest 7.0 × 10⁻⁹",
                                               "float32 machine epsilon"])
        #expect(count(svg, "class=\"reference\"") == 1)
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("the largest deviation over all steps and layouts, 7.0 × 10⁻⁹, is 17 times smaller than float32's machine epsilon"))
    }

    @Test func perplexityAgainstParametersOnLogAxes() throws {
        let runs = [("gpt-small", 7.3e6, 1176.0, 0.355, 19.31), ("gpt-medium", 17.7e6, 911.5, 2.5, 12.76),
                    ("gpt-large", 33.6e6, 858.4, 8.3, 10.81)].map { id, n, ppl, paperB, paperPPL in
            RunResult(id: id, config: config(id: id), metrics: ["train.parameters_per_rank": n, "wikitext103.adjusted_ppl": ppl,
                                                                "paper.billion_parameters": paperB, "paper.wikitext103.adjusted_ppl": paperPPL,
                                                                "train.steps": 100],
                      lossCurve: curve(steps: 100, floor: 5), wallSeconds: 1)
        }
        let folder = try tabulate(record("gpt2-sizes", runs))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let svg = try String(contentsOfFile: "\(folder)/gpt2-sizes/perplexity.svg", encoding: .utf8)
        #expect(texts(svg, "panel-title") == ["ours: trained on 205k tokens", "paper (Shoeybi et al. 2019)"])
        #expect(texts(svg, "tick-label-x") == ["5M", "10M", "20M", "50M", "200M", "500M", "1B", "2B", "5B", "10B"])
        #expect(texts(svg, "tick-label-y") == ["800", "900", "1000", "1100", "1200", "10", "12", "14", "16", "18", "20"])
        #expect(count(svg, "class=\"series\"") == 2 && count(svg, "class=\"point\"") == 6)
        #expect(texts(svg, "legend-entry") == ["ours: 1176 → 911.5 → 858.4 at 7.3M, 17.7M, 33.6M parameters",
                                               "paper: 19.31 → 12.76 → 10.81 at 355M, 2.5B, 8.3B parameters"])
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("ours falls with every size step here"))
    }

    @Test func efficiencyBarsHoldPaperOursAndPredicted() throws {
        func run(_ id: String, tp: Double, dp: Double, ours: Double?, paper: Double, predicted: Double?) -> RunResult {
            var metrics = ["timing.tp": tp, "timing.dp": dp, "paper.timing.efficiency": paper]
            metrics["timing.efficiency"] = ours
            metrics["predicted.timing.efficiency"] = predicted
            if dp > 1 { metrics["paper.timing.dp"] = 64 }
            return RunResult(id: id, config: "{}", metrics: metrics, lossCurve: [], wallSeconds: 1,
                             skipped: ours == nil ? "needs more cores" : nil)
        }
        let runs = [run("tp1", tp: 1, dp: 1, ours: 1, paper: 1, predicted: 1),
                    run("tp2", tp: 2, dp: 1, ours: 0.917, paper: 0.95, predicted: 0.9),
                    run("tp4", tp: 4, dp: 1, ours: nil, paper: 0.82, predicted: 0.8),
                    run("tp1-dp2", tp: 1, dp: 2, ours: 0.894, paper: 0.96, predicted: nil),
                    run("tp4-dp2", tp: 4, dp: 2, ours: nil, paper: 0.79, predicted: nil)]
        let folder = try tabulate(record("scaling", runs))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let svg = try String(contentsOfFile: "\(folder)/scaling/efficiency.svg", encoding: .utf8)
        #expect(texts(svg, "panel-title") == ["tensor parallel only", "with data parallel (ours dp 2, paper dp 64)"])
        #expect(texts(svg, "tick-label-x") == ["1", "2", "4", "1", "2", "4"])
        #expect(Array(texts(svg, "tick-label-y").prefix(6)) == ["0%", "20%", "40%", "60%", "80%", "100%"])
        #expect(texts(svg, "legend-entry") == ["paper (V100 GPUs)", "ours (CPU cores)", "predicted (performance model)"])
        // Bars per series: the paper's 5, ours 3 (2 not run), predictions 3 (3 absent).
        #expect(count(svg, "class=\"bar\" data-series=\"paper (V100 GPUs)\"") == 5)
        #expect(count(svg, "class=\"bar\" data-series=\"ours (CPU cores)\"") == 3)
        #expect(count(svg, "class=\"bar-missing\" data-series=\"ours (CPU cores)\"") == 3)
        #expect(count(svg, "class=\"bar\" data-series=\"predicted (performance model)\"") == 3)
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("tp 2 × dp 1 91.7% (paper 95%), tp 1 × dp 2 89.4% (paper 96%)"))
    }

    @Test func raceAccuracyWithWilsonIntervalsAgainstChance() throws {
        let metrics = ["race.dev.accuracy": 0.5, "race.dev.questions": 100, "race.test.accuracy": 0.25,
                       "race.test.questions": 1436, "race.accuracy": 0.3, "paper.race.test.accuracy": 0.869]
        let runs = [RunResult(id: "race", config: config(family: "bert", id: "race"), metrics: metrics,
                              lossCurve: curve(steps: 50, floor: 1), wallSeconds: 1)]
        let folder = try tabulate(record("bert-race", runs))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let svg = try String(contentsOfFile: "\(folder)/bert-race/accuracy.svg", encoding: .utf8)
        #expect(texts(svg, "tick-label-x") == ["dev", "test"])
        #expect(texts(svg, "tick-label-y") == ["0%", "20%", "40%", "60%", "80%", "100%"])
        #expect(count(svg, "class=\"point\" data-series=\"ours\"") == 2 && count(svg, "class=\"interval\"") == 2)
        #expect(count(svg, "class=\"point\" data-series=\"paper\"") == 1)
        #expect(texts(svg, "reference-label") == ["chance, 25 %"])
        #expect(texts(svg, "legend-entry") == ["ours, with 95 % Wilson interval", "paper", "chance: 1 in 4 options"])
        // Wilson at 50 of 100: [40.4 %, 59.6 %].
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("dev 50.0% [40.4%, 59.6%], above chance; test 25.0% [22.8%, 27.3%], chance inside the interval"))
        let loss = try String(contentsOfFile: "\(folder)/bert-race/loss.svg", encoding: .utf8)
        #expect(texts(loss, "reference-label") == ["ln 4 = 1.386: guessing among 4 options"])
        #expect(page.contains("race's fine-tuning loss ends above ln 4 = 1.386"))
    }

    /// Where the record carries the surface cues, each file shows the better one beside ours, and
    /// the caption says whether ours is apart from it.
    @Test func raceAccuracyBesideTheSurfaceCues() throws {
        let metrics = ["race.dev.accuracy": 0.5, "race.dev.questions": 100, "race.dev.longest_option_accuracy": 0.30,
                       "race.dev.passage_overlap_accuracy": 0.358, "race.test.accuracy": 0.32, "race.test.questions": 1436,
                       "race.test.longest_option_accuracy": 0.29, "race.test.passage_overlap_accuracy": 0.346]
        let runs = [RunResult(id: "race", config: config(family: "bert", id: "race"), metrics: metrics,
                              lossCurve: curve(steps: 50, floor: 1), wallSeconds: 1)]
        let folder = try tabulate(record("bert-race", runs))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let svg = try String(contentsOfFile: "\(folder)/bert-race/accuracy.svg", encoding: .utf8)
        #expect(count(svg, "class=\"point\" data-series=\"surface cue\"") == 2)
        #expect(texts(svg, "legend-entry") == ["ours, with 95 % Wilson interval",
                                              "the better surface cue (longest option or passage overlap)", "chance: 1 in 4 options"])
        let page = try String(contentsOfFile: "\(folder)/README.md", encoding: .utf8)
        #expect(page.contains("dev 50.0% [40.4%, 59.6%], above chance (above the surface cues: longest option 30.0%, most passage overlap 35.8%)"))
        #expect(page.contains("test 32.0% [29.6%, 34.5%], above chance (below the surface cues: longest option 29.0%, most passage overlap 34.6%)"))
    }
}
