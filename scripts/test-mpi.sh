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

# eval and finetune under mpirun give the metrics the in-process engine gives, on the smoke
# run's checkpoints (made in a scratch folder, 2 s).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r experiments "$scratch/"
cd "$scratch"
"$megatron" run smoke > smoke.log 2>&1 || { tail -30 smoke.log; exit 1; }
metrics() { tail -n 1 | sed -n -e 's/.*"metrics":\({[^}]*}\).*/\1/p'; }
wikitext=(eval --checkpoint checkpoints/smoke/gpt --task wikitext103 --data data/smoke/tiny-gpt2-test.h5 --json)
for layout in "--tp 2 --dp 1" "--tp 1 --dp 2"; do
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
