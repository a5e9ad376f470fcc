#!/usr/bin/env bash
# Weak scaling at tp 2 on this machine, measured as pairs that alternate, so that the VM's drift
# between minutes falls on both sides of the ratio alike.
#
#   scripts/bench_weak_scaling.sh [--pairs N] [--steps S] [--logs DIR]
#
# Each pair runs `megatron bench train --threads 1 --json` at tp 1 with config A's hidden 512, then
# at tp 2 with hidden 768 (512·√2 rounded up to a multiple of 64·tp), then dp 2 at hidden 512 (the
# tp 1 rank with the other core doing the same work: what the machine's shared L3, memory and clock
# cost, with no tensor-parallel communication). Prints every run's model GFLOP/s per rank and, over
# all pairs, the mean ratio tp 2 / tp 1 (the weak-scaling efficiency) with its standard error,
# and tp 2 / dp 2. Nothing else should run meanwhile. Logs go to DIR (default: a temporary one).
set -euo pipefail
cd "$(dirname "$0")/.."

pairs=4 steps=4 logs=""
while [ $# -gt 0 ]; do
    case "$1" in
        --pairs) pairs=$2 ;; --steps) steps=$2 ;; --logs) logs=$2 ;;
        *) echo "bench_weak_scaling.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift 2
done
megatron=.build/release/megatron
if [ ! -x "$megatron" ]; then
    echo "bench_weak_scaling.sh: $megatron is missing; build it first (scripts/setup.sh)" >&2
    exit 1
fi
if [ -z "$logs" ]; then logs=$(mktemp -d); fi
mkdir -p "$logs"
# See scripts/bench_vs_torch.sh: OpenBLAS's idle threads would otherwise spin on the kernels' cores.
export OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4}

run() {
    local log="$logs/$1.log"; shift
    { echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg): megatron bench train $*"
      "$megatron" bench train "$@" --threads 1 --warmup 2 --steps "$steps" --json; } > "$log" 2>&1
    tail -n 1 "$log"
}
records=$(mktemp)
trap 'rm -f "$records"' EXIT
for i in $(seq 1 "$pairs"); do
    echo "pair $i of $pairs, $(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
    run "tp1_h512_$i" --tp 1 --hidden 512 >> "$records"
    run "tp2_h768_$i" --tp 2 --hidden 768 >> "$records"
    run "dp2_h512_$i" --dp 2 --batch 16 --hidden 512 >> "$records"
done

python3 - "$records" "$logs" <<'PY'
import json, math, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
per_rank = lambda r: r["model_gflops"] / (r["tp"] * r["dp"])
by = {key: [per_rank(r) for r in runs if (r["tp"], r["dp"]) == key] for key in [(1, 1), (2, 1), (1, 2)]}
for (tp, dp), rates in by.items():
    print(f"tp {tp} × dp {dp}: model GFLOP/s per rank " + ", ".join(f"{x:.1f}" for x in rates))
def ratio(top, bottom):
    pairs = [a / b for a, b in zip(by[top], by[bottom])]
    mean = sum(pairs) / len(pairs)
    se = math.sqrt(sum((p - mean) ** 2 for p in pairs) / (len(pairs) - 1) / len(pairs)) if len(pairs) > 1 else float("nan")
    return pairs, mean, se
for label, top, bottom in [("weak scaling tp 2 / tp 1", (2, 1), (1, 1)), ("tp 2 / dp 2", (2, 1), (1, 2))]:
    pairs, mean, se = ratio(top, bottom)
    print(f"{label}: " + ", ".join(f"{100 * p:.1f} %" for p in pairs) + f"; mean {100 * mean:.1f} % ± {100 * se:.1f} % (standard error)")
print(f"logs: {sys.argv[2]}")
PY
