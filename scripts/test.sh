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
# The MPI engine across two hosts: network namespaces on this machine (root; skipped, saying so,
# where the machine does not allow them).
scripts/test-multinode.sh
# The main job end to end (prepare, train, evaluate, record), in a scratch folder so the
# repository's results stay as committed.
megatron="$(swift build -c release "${SWIFT_FLAGS[@]}" --show-bin-path)/megatron"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r experiments "$scratch/"
(cd "$scratch" && "$megatron" run smoke > smoke.log 2>&1) || { tail -30 "$scratch/smoke.log"; exit 1; }
test -s "$scratch/results/smoke/run.json"
echo "test: megatron run smoke passed ($(tail -1 "$scratch/smoke.log"))"
# Re-evaluating a finished run repeats its evaluation from the final checkpoint: the same
# metrics, the training's record untouched, the re-evaluation noted in the record and tables.
cp "$scratch/results/smoke/run.json" "$scratch/first.json"
(cd "$scratch" && "$megatron" run smoke --reevaluate lambada > reevaluate.log 2>&1) || { tail -30 "$scratch/reevaluate.log"; exit 1; }
for key in lambada.accuracy train.final_loss wikitext103.token_ppl; do
    diff <(grep "\"$key\"" "$scratch/first.json") <(grep "\"$key\"" "$scratch/results/smoke/run.json") \
        || { echo "test: --reevaluate lambada changed $key"; exit 1; }
done
grep -q '"lambada.last_word_ppl"' "$scratch/results/smoke/run.json" && grep -q '"reevaluations"' "$scratch/results/smoke/run.json" \
    && grep -q "lambada re-evaluated from its final checkpoint" "$scratch/results/README.md" \
    || { echo "test: --reevaluate lambada left no metric or note"; exit 1; }
echo "test: megatron run smoke --reevaluate lambada passed"
# The committed results/README.md, CSVs and figures are what `megatron tables` makes of the
# committed records, byte for byte.
mkdir "$scratch/tables" && cp -r results "$scratch/tables/"
(cd "$scratch/tables" && "$megatron" tables > /dev/null)
diff -r results "$scratch/tables/results" || { echo "test: results/ differ from what megatron tables makes of the records"; exit 1; }
echo "test: megatron tables regenerates results/ byte for byte"
