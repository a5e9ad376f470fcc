#!/usr/bin/env bash
# Runs `megatron verify` under mpirun at 2 and 4 ranks: the MPI engine must pass the same
# checks as the in-process one. Expects a release build (scripts/setup.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build-flags.sh
megatron="$(swift build -c release "${SWIFT_FLAGS[@]}" --show-bin-path)/megatron"

# As root mpirun refuses to start without --allow-run-as-root; 4 ranks on fewer cores need
# --oversubscribe (which also makes idle ranks yield their core instead of spinning).
mpi_flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi_flags+=(--allow-run-as-root)

for n in 2 4; do
    echo "test-mpi: mpirun -np $n megatron verify collectives --backend mpi"
    timeout 300 mpirun "${mpi_flags[@]}" -np "$n" "$megatron" verify collectives --backend mpi --world "$n"
    echo "test-mpi: mpirun -np $n megatron verify layers --backend mpi"
    timeout 300 mpirun "${mpi_flags[@]}" -np "$n" "$megatron" verify layers --backend mpi --tp 1 2 4 --dp 1 2
done

# The whole GPT trained 20 steps at every tp × pp × dp layout of 2 to 32 ranks, with and without
# sequence parallelism, gives the serial loss curve under mpirun as it does in-process.
for n in 2 4 8 16 32; do
    for sp in "" --sequence-parallel; do
        echo "test-mpi: mpirun -np $n megatron verify model --backend mpi --pp 1 2 4 $sp"
        timeout 300 mpirun "${mpi_flags[@]}" -np "$n" "$megatron" verify model --backend mpi --pp 1 2 4 $sp \
            | grep -E ' ok$| FAILED$|no --tp'
    done
done

# BERT (pre-LN and post-LN) at every tp × pp × dp layout of 2 to 16 ranks, with and without
# sequence parallelism, gives the serial loss curve under mpirun too.
for n in 2 4 8 16; do
    for ln in "" --post-layernorm; do
        for sp in "" --sequence-parallel; do
            echo "test-mpi: mpirun -np $n megatron verify model --backend mpi --model bert $ln --pp 1 2 4 $sp"
            timeout 300 mpirun "${mpi_flags[@]}" -np "$n" "$megatron" verify model --backend mpi --model bert $ln \
                --pp 1 2 4 $sp | grep -E ' ok$| FAILED$|no --tp'
        done
    done
done

# eval and finetune under mpirun give the metrics the in-process engine gives, on the smoke
# run's checkpoints (made in a scratch folder, 2 s).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r experiments "$scratch/"
cd "$scratch"
"$megatron" run smoke > smoke.log 2>&1 || { tail -30 smoke.log; exit 1; }
metrics() { tail -n 1 | sed -n -e 's/.*"metrics":\({[^}]*}\).*/\1/p'; }
wikitext=(eval --checkpoint checkpoints/smoke/gpt --task wikitext103 --data data/smoke/tiny-gpt2-test.h5 --json)
for layout in "--tp 2 --dp 1" "--tp 1 --dp 2" "--tp 1 --pp 2 --dp 1"; do
    echo "test-mpi: mpirun -np 2 megatron eval --task wikitext103 $layout --backend mpi"
    expected=$("$megatron" "${wikitext[@]}" $layout | metrics)
    got=$(timeout 300 mpirun "${mpi_flags[@]}" -np 2 "$megatron" "${wikitext[@]}" $layout --backend mpi | metrics)
    [ -n "$expected" ] && [ "$got" = "$expected" ] || { echo "test-mpi: eval under MPI gave '$got', in-process '$expected'"; exit 1; }
done
race=(finetune race --checkpoint checkpoints/smoke/bert --train data/smoke/tiny-race.h5
      --eval data/smoke/tiny-race.h5 --steps 4 --tp 2 --json)
echo "test-mpi: mpirun -np 2 megatron finetune race --tp 2 --backend mpi"
expected=$("$megatron" "${race[@]}" --out race-inprocess | metrics)
got=$(timeout 300 mpirun "${mpi_flags[@]}" -np 2 "$megatron" "${race[@]}" --out race-mpi --backend mpi | metrics)
[ -n "$expected" ] && [ "$got" = "$expected" ] || { echo "test-mpi: finetune race under MPI gave '$got', in-process '$expected'"; exit 1; }
echo "test-mpi: eval and finetune under MPI match the in-process engine: $got"

# Training at tp 2 × dp 2 writes the same checkpoint under mpirun as in-process, bit for bit,
# over shared memory and over TCP: both engines reduce in rank order with the same kernel.
cat > tp2dp2.json <<'JSON'
{
  "model": {"family": "gpt", "layers": 2, "hidden": 64, "heads": 4, "sequence_length": 32, "max_positions": 32,
            "vocab_size": 657, "gelu": "tanh"},
  "training": {"steps": 60, "micro_batch": 2, "global_batch": 8, "lr": 3e-3, "warmup_steps": 2, "tp": 2, "dp": 2,
               "log_interval": 60, "train_data": "../data/smoke/tiny-gpt2-train.h5",
               "checkpoint_interval": 60, "checkpoint_dir": "checkpoint"}
}
JSON
# same_checkpoint NAME CONFIG WHAT [MPIRUN FLAGS...]: trains CONFIG in-process (once per config)
# and under mpirun -np 4, and requires the two 60-step checkpoints to be bit-identical.
same_checkpoint() {
    local name="$1" config="$2" what="$3"
    shift 3
    local reference="${config%.json}-inprocess"
    if [ ! -d "$reference" ]; then
        mkdir "$reference"
        (cd "$reference" && "$megatron" train --config "../$config" > train.log 2>&1) || { tail -20 "$reference/train.log"; exit 1; }
    fi
    echo "test-mpi: mpirun -np 4 ${*:+$* }megatron train --backend mpi ($what, 60 steps): checkpoint bit for bit"
    mkdir "$name"
    (cd "$name" && timeout 300 mpirun "${mpi_flags[@]}" "$@" -np 4 "$megatron" train --config "../$config" \
        --backend mpi > train.log 2>&1) || { tail -20 "$name/train.log"; exit 1; }
    "$megatron" verify checkpoints "$reference/checkpoint/checkpoint-00000060.h5" "$name/checkpoint/checkpoint-00000060.h5"
}
same_checkpoint shared-memory tp2dp2.json "tp 2 × dp 2"
same_checkpoint tcp tp2dp2.json "tp 2 × dp 2" --mca btl tcp,self

# The same with sequence parallelism: the reduce-scatters and all-gathers that replace the
# tensor-parallel all-reduces reduce in rank order in both engines too.
sed 's/"tp": 2, "dp": 2,/"tp": 2, "dp": 2, "sequence_parallel": true,/' tp2dp2.json > tp2dp2-sp.json
grep -q '"sequence_parallel": true' tp2dp2-sp.json || { echo "test-mpi: could not turn sequence_parallel on"; exit 1; }
same_checkpoint sp-mpi tp2dp2-sp.json "tp 2 × dp 2, sequence parallel"

# Pipeline parallelism (1F1B over pp 2, with dp 2) trains to the same checkpoint under mpirun as
# in-process, bit for bit: activations and gradients travel point to point in both engines.
sed -e 's/"tp": 2, "dp": 2/"tp": 1, "pp": 2, "dp": 2/' tp2dp2.json > pp2dp2.json
same_checkpoint pp-mpi pp2dp2.json "pp 2 × dp 2, 1F1B"

# All three at once: tp 2 × pp 2 with sequence parallelism inside each stage.
sed -e 's/"tp": 2, "dp": 2/"tp": 2, "pp": 2, "dp": 1, "sequence_parallel": true/' tp2dp2.json > tp2pp2sp.json
same_checkpoint tp2pp2sp-mpi tp2pp2sp.json "tp 2 × pp 2, sequence parallel"
