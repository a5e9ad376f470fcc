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
