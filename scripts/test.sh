#!/usr/bin/env bash
# The test command: sets up (installs system libraries if missing, builds) and runs the whole
# suite in release mode, where the numeric tests run at the speed training does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/build-flags.sh
swift test -c release "${SWIFT_FLAGS[@]}" "$@"
# The MPI engine under mpirun (2 and 4 ranks), checked like the in-process one.
scripts/test-mpi.sh
