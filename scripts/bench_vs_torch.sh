#!/usr/bin/env bash
# GPT training tokens/s of megatron-swift beside PyTorch on the same CPU, same config, same threads,
# run back to back. Installs nothing: it needs a built `megatron` (scripts/setup.sh) and a Python
# that imports torch (python3, or $TORCH_PYTHON such as a venv from ../shared/peers/install_torch_cpu.sh).
#
#   scripts/bench_vs_torch.sh [--layers L] [--hidden H] [--heads A] [--seq S] [--vocab V] [--batch B] [--threads T]
#
# Defaults are config A (6, 512, 8, 256, 8192, 8, 2). The peer is ../shared/peers/torch_gpt_bench.py
# (tied embeddings, pre-LN, GeLU tanh, no dropout, AdamW); our side runs `megatron bench train --json`
# with dropout off and GeLU tanh. Prints both JSON records and the ratio of tokens/s (ours / PyTorch's).
set -euo pipefail
cd "$(dirname "$0")/.."

layers=6 hidden=512 heads=8 seq=256 vocab=8192 batch=8 threads=2 steps=5 warmup=2
while [ $# -gt 0 ]; do
    case "$1" in
        --layers) layers=$2 ;; --hidden) hidden=$2 ;; --heads) heads=$2 ;; --seq) seq=$2 ;;
        --vocab) vocab=$2 ;; --batch) batch=$2 ;; --threads) threads=$2 ;; --steps) steps=$2 ;;
        --warmup) warmup=$2 ;;
        *) echo "bench_vs_torch.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift 2
done

peer=../shared/peers/torch_gpt_bench.py
python=${TORCH_PYTHON:-python3}
if [ ! -f "$peer" ]; then
    echo "bench_vs_torch.sh: the peer script $peer is missing (it lives beside the repository, in shared/peers)" >&2
    exit 1
fi
if ! "$python" -c "import torch" 2>/dev/null; then
    echo "bench_vs_torch.sh: $python cannot import torch; set TORCH_PYTHON to a Python that can" \
         "(e.g. a venv made by ../shared/peers/install_torch_cpu.sh)" >&2
    exit 1
fi
megatron=.build/release/megatron
if [ ! -x "$megatron" ]; then
    echo "bench_vs_torch.sh: $megatron is missing; build it first (scripts/setup.sh)" >&2
    exit 1
fi

# OpenBLAS's idle threads spin for 2^28 cycles after each product by default, taking a core from
# the kernels that follow on this 2-core machine; 2^4 lets them sleep (measured: step 2.92 s → 2.57 s).
export OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4}
output=$(mktemp)
trap 'rm -f "$output"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== PyTorch ($python)"
OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads "$python" "$peer" --layers "$layers" --d "$hidden" \
    --heads "$heads" --seq "$seq" --vocab "$vocab" --batch "$batch" --threads "$threads" \
    --warmup "$warmup" --steps "$steps" > "$output"
cat "$output"
torch_json=$(tail -n 1 "$output")
echo "== megatron-swift"
"$megatron" bench train --layers "$layers" --hidden "$hidden" --heads "$heads" --seq "$seq" \
    --vocab "$vocab" --batch "$batch" --threads "$threads" --warmup "$warmup" --steps "$steps" --json > "$output"
cat "$output"
ours_json=$(tail -n 1 "$output")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "$torch_json" "$ours_json" <<'PY'
import json, sys
torch, ours = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"tokens/s: megatron-swift {ours['tokens_per_s']:.1f}, PyTorch {torch['tokens_per_s']:.1f}, "
      f"ratio {ours['tokens_per_s'] / torch['tokens_per_s']:.3f}")
print(f"model GFLOP/s: megatron-swift {ours['model_gflops']:.1f} ({100 * ours['gemm_peak_fraction']:.1f} % of the "
      f"GEMM peak {ours['gemm_peak_gflops']:.1f}), PyTorch {torch['model_gflops']:.1f}")
if torch['flops_per_token'] * ours['seq'] * ours['batch'] != ours['flops_per_step']:
    print(f"note: FLOPs per step differ (PyTorch {torch['flops_per_token'] * ours['seq'] * ours['batch']:.4g}, "
          f"ours {ours['flops_per_step']:.4g}): the padded vocabularies differ")
PY
