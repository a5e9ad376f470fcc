import ArgumentParser
import Collectives
import Foundation
import Models
import TensorCore
import TensorParallel
import Training

/// Training throughput of GPT: forward + backward + AdamW on synthetic tokens, with in-process
/// ranks for tp × dp, against the GEMM peak measured in the same run and the analytic memory.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "GPT training tokens/s, model TFLOP/s against the GEMM peak, memory and a step-time breakdown.",
        discussion: """
            Sizes come from --config FILE (a JSON object with any of the keys layers, hidden, heads, \
            seq, vocab, batch, threads, tp, dp), then the flags, which override the file; the rest \
            default to config A (6 layers, hidden 512, 8 heads, seq 256, vocab 8192, batch 8, 2 threads). \
            Dropout is off and GeLU is the tanh form, as in ../shared/peers/torch_gpt_bench.py. \
            --recompute-activations runs each layer's forward again in backward and keeps only the \
            layers' inputs; the peak memory is the process's, so compare the two in separate runs.
            """)

    @Option(help: "A JSON file of sizes (keys as the flags: layers, hidden, heads, seq, vocab, batch, threads, tp, dp).")
    var config: String?

    @Option(help: "Transformer layers.") var layers: Int?
    @Option(help: "Hidden size.") var hidden: Int?
    @Option(help: "Attention heads.") var heads: Int?
    @Option(help: "Sequence length.") var seq: Int?
    @Option(help: "Tokenizer vocabulary (padded up to a multiple of 128, or of 128·tp if tp does not divide that).")
    var vocab: Int?
    @Option(help: "Sequences per step, over all data-parallel ranks.") var batch: Int?
    @Option(help: "Threads per rank for the kernels and the products.") var threads: Int?
    @Option(help: "Tensor-parallel ranks (in-process threads).") var tp: Int?
    @Option(help: "Data-parallel ranks (in-process threads).") var dp: Int?

    @Option(help: "Pipeline stages (1F1B over the micro-batches; in-process threads, tp × pp × dp ranks).")
    var pp: Int = 1
    @Option(help: "Micro-batches per step with --pp (each of batch / (dp · m) sequences).")
    var microBatches: Int = 8

    @Option(help: "Untimed steps first.") var warmup: Int = 2
    @Option(help: "Timed steps (the median is reported).") var steps: Int = 5
    @Option(help: "Timed repetitions per GEMM shape of the peak measurement.") var gemmRepeats: Int = 3
    @Flag(help: "Recompute each layer's activations in backward (Megatron's --checkpoint-activations).")
    var recomputeActivations = false
    @Flag(help: "Sequence parallelism across the tp ranks (needs tp > 1 and seq divisible by tp).")
    var sequenceParallel = false
    @Flag(help: "Print one JSON record as the last line.") var json = false

    func validate() throws {
        let sizes = try resolved()
        try sizes.check(source: config ?? "the flags")
        if sequenceParallel && (sizes.tp < 2 || sizes.seq % sizes.tp != 0) {
            throw ValidationError("--sequence-parallel shards the sequence across the tp ranks: it needs tp > 1 and seq "
                + "divisible by tp (tp \(sizes.tp), seq \(sizes.seq)); change --tp or --seq, or drop the flag")
        }
        if warmup < 0 { throw ValidationError("--warmup must be ≥ 0, got \(warmup)") }
        if steps <= 0 { throw ValidationError("--steps must be positive, got \(steps)") }
        if gemmRepeats <= 0 { throw ValidationError("--gemm-repeats must be positive, got \(gemmRepeats)") }
        if pp <= 0 || microBatches <= 0 { throw ValidationError("--pp and --micro-batches must be positive, got \(pp), \(microBatches)") }
        if pp > 1 {
            if recomputeActivations { throw ValidationError("--recompute-activations is not measured with --pp") }
            try PipelineStepBench(sizes: try resolved(), pipelineParallel: pp, microBatches: microBatches,
                                  warmup: warmup, steps: steps).check()
        }
    }

    /// The file's sizes overridden by the flags, defaults for the rest.
    func resolved() throws -> TrainBenchSizes {
        var sizes = TrainBenchSizes()
        if let config { sizes = try TrainBenchSizes.load(config) }
        if let layers { sizes.layers = layers }
        if let hidden { sizes.hidden = hidden }
        if let heads { sizes.heads = heads }
        if let seq { sizes.seq = seq }
        if let vocab { sizes.vocab = vocab }
        if let batch { sizes.batch = batch }
        if let threads { sizes.threads = threads }
        if let tp { sizes.tp = tp }
        if let dp { sizes.dp = dp }
        return sizes
    }

    func run() throws {
        if pp > 1 { return try runPipelined() }
        let sizes = try resolved()
        let model = sizes.model
        let ranks = sizes.tp * sizes.dp
        let tokens = sizes.batch * sizes.seq
        let flops = sizes.flopsPerStep
        print("GPT: \(sizes.layers) layers, hidden \(sizes.hidden), \(sizes.heads) heads, seq \(sizes.seq), "
            + "vocab \(sizes.vocab) (padded \(model.paddedVocabSize)), batch \(sizes.batch), fp32, AdamW, no dropout, GeLU tanh"
            + (recomputeActivations ? ", activations recomputed per layer" : "")
            + (sequenceParallel ? ", sequence parallel" : ""))
        print("ranks: tp \(sizes.tp) × dp \(sizes.dp) in-process threads, \(sizes.threads) kernel thread(s) per rank, "
            + "each product on one OpenBLAS thread per block; OpenBLAS \(BLASThreads.configuration)")
        if let warning = BLASKernelCheck.warning { print(warning) }
        print("OPENBLAS_THREAD_TIMEOUT read as \(BLASIdleThreads.timeoutExponent.map(String.init) ?? "unknown") "
            + "(megatron sets 4 unless the caller sets it: OpenBLAS's idle threads then sleep instead of spinning on "
            + "the cores the kernels use; 0 is OpenBLAS's default, 2^28 cycles)")
        print("model FLOPs/step = batch · s · (6·(12·L·h² + V·h) + 12·L·s·h) = \(formatted(flops / 1e9)) GFLOP "
            + "(GPTConfig.trainingFLOPs; causal masking not credited"
            + (recomputeActivations ? ", nor the recomputed forward)" : ")"))

        let outcome = try TrainingStepBench(sizes: sizes, warmup: warmup, steps: steps,
                                            recomputeActivations: recomputeActivations,
                                            sequenceParallel: sequenceParallel).run()
        let peakResident = Self.peakResidentBytes()

        // The same callers and threads as the ranks, after training so its buffers do not count
        // in the memory peak.
        let gemm = GEMMPeak(repeats: gemmRepeats)
        let rates = try InProcessWorld.run(worldSize: ranks, timeout: 3600) { _ in
            ComputeThreads.set(sizes.threads)
            return gemm.medianGFLOPs()
        }
        let gemmPeak = rates.reduce(0, +)

        let step = outcome.stepSeconds
        let tokensPerSecond = Double(tokens) / step
        let modelGFLOPs = flops / step / 1e9
        print("")
        print("step: median \(formatted(step * 1e3)) ms over \(steps) steps (slowest rank), loss \(formatted(outcome.loss, 4))")
        print("tokens/s: \(formatted(tokensPerSecond))")
        print("model TFLOP/s: \(formatted(modelGFLOPs / 1e3, 4)) (\(formatted(modelGFLOPs)) GFLOP/s)")
        print("GEMM peak: \(formatted(gemmPeak)) GFLOP/s (bench gemm's median over its shapes, \(ranks) concurrent "
            + "caller(s) × \(sizes.threads) thread(s), summed)")
        print("fraction of GEMM peak: \(formatted(100 * modelGFLOPs / gemmPeak)) %")

        print("")
        print("step time breakdown (mean per timed step, rank 0):")
        let phases = outcome.phaseSeconds
        var attributed = 0.0
        for phase in StepProfiler.Phase.allCases {
            let seconds = phases[phase] ?? 0
            attributed += seconds
            print("  \(padded(formatted(seconds * 1e3), 9)) ms  \(padded(formatted(100 * seconds / outcome.meanStepSeconds), 5)) %  \(phase.name)")
        }
        let rest = outcome.meanStepSeconds - attributed
        print("  \(padded(formatted(rest * 1e3), 9)) ms  \(padded(formatted(100 * rest / outcome.meanStepSeconds), 5)) %  unattributed (model glue)")
        if ranks > 1 {
            print("communication per rank, waits included (ms per step): "
                + outcome.communicationSecondsPerRank.map { formatted($0 * 1e3) }.joined(separator: ", "))
        }

        let memory = MemoryEstimate(sizes: sizes, parameters: outcome.localParameters,
                                    recomputeActivations: recomputeActivations)
        let perRank = Double(peakResident) / Double(ranks)
        print("")
        print("memory per rank: peak resident \(mebibytes(perRank)) MiB"
            + (ranks > 1 ? " (process VmHWM / \(ranks) ranks: the ranks are threads of one process)" : " (VmHWM)"))
        print("  analytic \(mebibytes(Double(memory.total))) MiB = parameters \(mebibytes(Double(memory.parameters))) "
            + "+ gradients \(mebibytes(Double(memory.parameters))) + AdamW moments \(mebibytes(Double(2 * memory.parameters))) "
            + "+ activations and their gradients \(mebibytes(Double(memory.activations))) MiB "
            + "(\(outcome.localParameters) parameters on this rank)")
        print("  peak / analytic: \(formatted(perRank / Double(memory.total), 3))")
        let saved = mebibytes(Double(memory.activationsKeptByEveryLayer - memory.recomputedActivations))
        if recomputeActivations {
            print("  activation recomputation: activations \(mebibytes(Double(memory.recomputedActivations))) MiB "
                + "instead of \(mebibytes(Double(memory.activationsKeptByEveryLayer))) MiB, \(saved) MiB saved "
                + "(one layer's buffers shared by all, plus each layer's [b·s, h] input)")
        } else {
            print("  activation recomputation (--recompute-activations) would save \(saved) MiB of activations "
                + "(analytic)")
        }

        let layerMemory = ActivationMemory(sequence: sizes.seq, batch: sizes.batch / sizes.dp, hidden: sizes.hidden,
                                           heads: sizes.heads, tensorParallel: sizes.tp, sequenceParallel: sequenceParallel,
                                           attentionDropout: false)
        let keptPerLayer = outcome.activationBytesKeptPerLayer.max() ?? 0
        let analyticPerLayer = layerMemory.bytes(elementSize: 4)
        if !recomputeActivations {
            print("  activations kept for backward per layer on rank 0: \(mebibytes(Double(keptPerLayer))) MiB, counted "
                + "from the layer's buffers; analytic \(mebibytes(Double(analyticPerLayer))) MiB (ActivationMemory, fp32, "
                + "no dropout masks: ratio \(formatted(Double(keptPerLayer) / Double(analyticPerLayer), 3))); Korthikanti's "
                + (sequenceParallel ? "sbh/t·(34 + 5as/h)" : "sbh·(10 + 24/t + 5as/(ht))")
                + " fp16 bytes \(mebibytes(layerMemory.paperBytes)) MiB, ×2 for fp32 \(mebibytes(2 * layerMemory.paperBytes)) MiB "
                + "(ratio \(formatted(Double(keptPerLayer) / (2 * layerMemory.paperBytes), 3)): its 1-byte masks are not kept, "
                + "without dropout not its dropped probabilities either)")
            if sequenceParallel {
                print("  the memory estimate above assumes no sequence parallelism: it counts every layer's buffers whole")
            }
        }

        if json {
            var fields: [(String, String)] = [
                ("system", "\"megatron-swift\""), ("layers", "\(sizes.layers)"), ("hidden", "\(sizes.hidden)"),
                ("heads", "\(sizes.heads)"), ("seq", "\(sizes.seq)"), ("vocab", "\(sizes.vocab)"),
                ("padded_vocab", "\(model.paddedVocabSize)"), ("batch", "\(sizes.batch)"),
                ("threads", "\(sizes.threads)"), ("tp", "\(sizes.tp)"), ("dp", "\(sizes.dp)"),
                ("median_step_s", "\(step)"), ("tokens_per_s", "\(tokensPerSecond)"),
                ("model_gflops", "\(modelGFLOPs)"), ("model_tflops", "\(modelGFLOPs / 1e3)"),
                ("gemm_peak_gflops", "\(gemmPeak)"), ("gemm_peak_fraction", "\(modelGFLOPs / gemmPeak)"),
                ("flops_per_step", "\(flops)"), ("loss", "\(outcome.loss)"),
                ("peak_resident_bytes_per_rank", "\(Int(perRank))"), ("analytic_bytes_per_rank", "\(memory.total)"),
                ("parameters_per_rank", "\(outcome.localParameters)"),
                ("recompute_activations", "\(recomputeActivations)"), ("sequence_parallel", "\(sequenceParallel)"),
                ("activation_bytes_kept_per_layer", "\(keptPerLayer)"),
                ("analytic_activation_bytes_per_layer", "\(analyticPerLayer)"),
                ("paper_fp16_activation_bytes_per_layer", "\(layerMemory.paperBytes)"),
                ("analytic_activation_bytes_per_rank", "\(memory.activations)"),
                ("analytic_activation_bytes_saved_by_recomputation",
                 "\(memory.activationsKeptByEveryLayer - memory.recomputedActivations)"),
            ]
            for phase in StepProfiler.Phase.allCases {
                fields.append(("\(phase)_s", "\(phases[phase] ?? 0)"))
            }
            fields.append(("unattributed_s", "\(rest)"))
            fields.append(("communication_s_per_rank",
                           "[" + outcome.communicationSecondsPerRank.map { "\($0)" }.joined(separator: ", ") + "]"))
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        }
    }

    /// `--pp`: the 1F1B step's time, the bubble measured on every stage against (p − 1)/m, the
    /// activation sets each stage held and the boundary traffic.
    func runPipelined() throws {
        let sizes = try resolved()
        let bench = PipelineStepBench(sizes: sizes, pipelineParallel: pp, microBatches: microBatches, warmup: warmup, steps: steps)
        let ranks = sizes.ranks * pp
        print("GPT: \(sizes.layers) layers, hidden \(sizes.hidden), \(sizes.heads) heads, seq \(sizes.seq), "
            + "vocab \(sizes.vocab) (padded \(sizes.paddedVocab)), batch \(sizes.batch), fp32, AdamW, no dropout, GeLU tanh")
        print("ranks: tp \(sizes.tp) × pp \(pp) × dp \(sizes.dp) in-process threads, \(sizes.threads) kernel thread(s) per rank, "
            + "\(microBatches) micro-batches of \(sizes.batch / (sizes.dp * microBatches)) per step, 1F1B; OpenBLAS \(BLASThreads.configuration)")
        let outcome = try bench.run()
        let gemm = GEMMPeak(repeats: gemmRepeats)
        let rates = try InProcessWorld.run(worldSize: ranks, timeout: 3600) { _ in gemm.medianGFLOPs() }
        let gemmPeak = rates.reduce(0, +)
        let modelGFLOPs = sizes.flopsPerStep / outcome.stepSeconds / 1e9
        print("")
        print("step: median \(formatted(outcome.stepSeconds * 1e3)) ms over \(steps) steps (slowest rank), loss \(formatted(outcome.loss, 4))")
        print("model TFLOP/s: \(formatted(modelGFLOPs / 1e3, 4)); GEMM peak \(formatted(gemmPeak)) GFLOP/s (\(ranks) concurrent callers, summed); "
            + "\(formatted(100 * modelGFLOPs / gemmPeak)) % of it")
        print("pipeline bubble, the pipeline's time (its longest stage's schedule) over its slowest stage's compute, − 1, "
            + "median over \(steps) steps:")
        print("  measured \(formatted(outcome.bubbleFraction, 3)) against (p − 1)/m = \(pp - 1)/\(microBatches) = "
            + "\(formatted(outcome.analyticBubbleFraction, 3)) (ratio \(formatted(outcome.bubbleFraction / outcome.analyticBubbleFraction, 3)))")
        print("  replayed from the stages' measured work with instant hand-offs: \(formatted(outcome.replayedBubbleFraction, 3)) "
            + "(ratio \(formatted(outcome.replayedBubbleFraction / outcome.analyticBubbleFraction, 3)))")
        for stage in 0..<pp {
            print("  stage \(stage): compute \(formatted(outcome.busySecondsPerStage[stage] * 1e3)) ms per step, idle / compute "
                + "\(formatted(outcome.idleFractionPerStage[stage], 3)), at most "
                + "\(outcome.peakLiveActivationSetsPerStage[stage]) micro-batches' activations alive")
        }
        print("boundary traffic per step (world rank 0's pipeline): \(outcome.sendsPerStep.calls) sends, "
            + "\(mebibytes(Double(outcome.sendsPerStep.bytes))) MiB = 2·(p − 1)·m tensors of b·s·h")
        if json {
            let fields: [(String, String)] = [
                ("system", "\"megatron-swift\""), ("layers", "\(sizes.layers)"), ("hidden", "\(sizes.hidden)"),
                ("seq", "\(sizes.seq)"), ("batch", "\(sizes.batch)"), ("tp", "\(sizes.tp)"), ("pp", "\(pp)"),
                ("dp", "\(sizes.dp)"), ("micro_batches", "\(microBatches)"), ("median_step_s", "\(outcome.stepSeconds)"),
                ("bubble_measured", "\(outcome.bubbleFraction)"), ("bubble_replayed", "\(outcome.replayedBubbleFraction)"),
                ("bubble_analytic", "\(outcome.analyticBubbleFraction)"),
                ("idle_fraction_per_stage", "[" + outcome.idleFractionPerStage.map { "\($0)" }.joined(separator: ", ") + "]"),
                ("compute_s_per_stage", "[" + outcome.busySecondsPerStage.map { "\($0)" }.joined(separator: ", ") + "]"),
                ("peak_live_activation_sets_per_stage",
                 "[" + outcome.peakLiveActivationSetsPerStage.map { "\($0)" }.joined(separator: ", ") + "]"),
                ("gemm_peak_gflops", "\(gemmPeak)"), ("model_gflops", "\(modelGFLOPs)"),
            ]
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        }
    }

    /// The process's peak resident set (VmHWM in /proc/self/status), in bytes; 0 where there is none.
    static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        let kib = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kib * 1024
    }

    func mebibytes(_ bytes: Double) -> String { formatted(bytes / 1_048_576) }
}

/// The bytes one rank needs by counting: 4 per parameter for its value, its gradient and each of
/// AdamW's two moments, and 4 per element of the activation and activation-gradient buffers the
/// layers keep, sized by the step's tokens N = b·s/dp: each layer keeps its own, or, with
/// activation recomputation, the layers share one layer's and keep only their [N, h] inputs.
struct MemoryEstimate {
    let parameters: Int
    /// Activations as the run keeps them.
    let activations: Int
    /// Without recomputation, with it: the two ways of keeping them.
    let activationsKeptByEveryLayer: Int
    let recomputedActivations: Int

    init(sizes: TrainBenchSizes, parameters: Int, recomputeActivations: Bool) {
        self.parameters = 4 * parameters
        let (h, t, s) = (sizes.hidden, sizes.tp, sizes.seq)
        let b = sizes.batch / sizes.dp
        let n = b * s
        let v = sizes.paddedVocab / t
        // Per layer (no dropout): h-wide [N, h] buffers (two layer-norm outputs, the residual sum,
        // the output, the attention and MLP outputs after g, the gradients of the layer input and
        // of the two sublayer inputs), h/t-wide ones (q, k, v and their gradients, the attention
        // context and its gradient, the MLP's 4h/t pre-activation, activation and their
        // gradients), the attention scores and probabilities [b, n/t, s, s], and four per-token
        // layer-norm statistics.
        let perLayer = n * h * 9 + n * (h / t) * (3 + 3 + 1 + 1 + 4 * 4) + 2 * b * (sizes.heads / t) * s * s + 4 * n
        // Outside the layers: the embedding output (and the word lookup), the final layer norm and
        // its gradient, the logits and their gradient [N, V/t], the logits' input gradient, and
        // per-token statistics (final layer norm, cross-entropy, loss gradient).
        let outside = n * h * 5 + 2 * n * v + 7 * n
        activationsKeptByEveryLayer = 4 * (sizes.layers * perLayer + outside)
        // One layer's buffers, shared, and each layer's input (LayerRecomputation).
        recomputedActivations = 4 * (perLayer + sizes.layers * n * h + outside)
        activations = recomputeActivations ? recomputedActivations : activationsKeptByEveryLayer
    }

    var total: Int { 4 * parameters + activations }
}
