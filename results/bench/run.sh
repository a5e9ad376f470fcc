#!/usr/bin/env bash
# The measurements behind results/bench/README.md, one after another; each log goes to
# results/bench/logs/NAME.log. Needs a release build and, for the PyTorch ratios, TORCH_PYTHON
# (or a python3 that imports torch). `run.sh NAME...` runs only those.
set -euo pipefail
cd "$(dirname "$0")/../.."
logs=results/bench/logs
mkdir -p "$logs"
m=.build/release/megatron
# See scripts/bench_vs_torch.sh: OpenBLAS's idle threads otherwise spin on the cores the kernels need.
export OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4}

a_vs_torch() { scripts/bench_vs_torch.sh; }
b_vs_torch() { scripts/bench_vs_torch.sh --layers 6 --hidden 384 --heads 6 --seq 512 --vocab 50257 --batch 8; }
a_tp1_t2() { $m bench train --tp 1 --threads 2 --json; }
a_tp1_t1() { $m bench train --tp 1 --threads 1 --json; }
a_tp2_t1() { $m bench train --tp 2 --threads 1 --json; }
weak_tp2_h768() { $m bench train --tp 2 --threads 1 --hidden 768 --json; }
# Activation recomputation, each in a process of its own (the memory figure is the process's peak);
# not in the default list: `run.sh a_kept a_recomputed deep_kept deep_recomputed`.
a_kept() { $m bench train --steps 3 --warmup 1 --json; }
a_recomputed() { $m bench train --steps 3 --warmup 1 --recompute-activations --json; }
deep_kept() { $m bench train --layers 12 --seq 512 --batch 8 --steps 3 --warmup 1 --json; }
deep_recomputed() { $m bench train --layers 12 --seq 512 --batch 8 --steps 3 --warmup 1 --recompute-activations --json; }

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(a_vs_torch b_vs_torch a_tp1_t2 a_tp1_t1 a_tp2_t1 weak_tp2_h768)
for name in "${names[@]}"; do
    echo "== $name $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$logs/$name.log"
    "$name" >> "$logs/$name.log" 2>&1
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$logs/$name.log"
    grep -E "ratio|^tokens/s|fraction of GEMM|peak / analytic|activation recomputation" "$logs/$name.log" || true
done
