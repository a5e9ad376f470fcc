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
# A finished experiment run again trains nothing and changes nothing: its record (date, commit,
# machine) and tables stay byte for byte; the record carries the GEMM peak of its sitting.
cp -r "$scratch/results" "$scratch/results-first"
(cd "$scratch" && "$megatron" run smoke > again.log 2>&1) || { tail -30 "$scratch/again.log"; exit 1; }
diff -r "$scratch/results-first" "$scratch/results" || { echo "test: megatron run smoke, finished, changed results/"; exit 1; }
grep -q '"gemmPeakGFLOPs"' "$scratch/results/smoke/run.json" && grep -q "train.percent_of_gemm_peak" "$scratch/results/README.md" \
    || { echo "test: the smoke record holds no GEMM peak, or the table no fraction of it"; exit 1; }
echo "test: megatron run smoke again left results/ byte for byte"
# Redesigned after it ran, the experiment stops at the kept run trained with the old config and
# names it, instead of tabulating it under the new design.
cp "$scratch/experiments/smoke.json" "$scratch/smoke-design.json"
sed -i 's/"layers": 2,/"layers": 3,/' "$scratch/experiments/smoke.json"
if (cd "$scratch" && "$megatron" run smoke > redesigned.log 2>&1); then
    echo "test: megatron run smoke kept runs of another design"; exit 1
fi
grep -q "results/smoke/runs/gpt.json was trained with another config.*model.layers: 2 → 3" "$scratch/redesigned.log" \
    || { tail -5 "$scratch/redesigned.log"; echo "test: the redesigned smoke did not name its stale run"; exit 1; }
cp "$scratch/smoke-design.json" "$scratch/experiments/smoke.json"
diff -r "$scratch/results-first" "$scratch/results" || { echo "test: the refused redesign changed results/"; exit 1; }
echo "test: a redesigned experiment names its kept run of the old design"
# The committed scaling and pretrained records run again: their kept runs kept, the runs this
# machine cannot host (too few cores, no weights) skipped as before, results/ byte for byte.
mkdir -p "$scratch/again/experiments" && cp -r results "$scratch/again/"
cp experiments/scaling.json experiments/pretrained.json "$scratch/again/experiments/"
for name in scaling pretrained; do
    if [ "$name" = scaling ] && [ "$(nproc)" -ge 4 ]; then
        echo "test: $(nproc) cores host scaling's skipped runs; its record would change, not run again here"; continue
    fi
    (cd "$scratch/again" && "$megatron" run "$name" > "$name.log" 2>&1) || { tail -30 "$scratch/again/$name.log"; exit 1; }
    diff -r results "$scratch/again/results" || { echo "test: megatron run $name, finished, changed results/"; exit 1; }
done
echo "test: megatron run scaling and pretrained, finished, left results/ byte for byte"
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
# The evaluation subsets committed in data/ are what `megatron prepare` makes of ../shared/datasets,
# byte for byte (data/README.md).
scripts/prepare-data.sh "$scratch/prepared" > "$scratch/prepare.log" 2>&1 || { tail -30 "$scratch/prepare.log"; exit 1; }
for file in wt103-test-gpt2.h5 lambada-gpt2.h5 race-m-dev.h5 race-m-test.h5; do
    cmp "data/$file" "$scratch/prepared/$file" || { echo "test: megatron prepare no longer makes data/$file"; exit 1; }
done
echo "test: scripts/prepare-data.sh regenerates data/ byte for byte"
# A fresh clone evaluates a checkpoint against data/ without preparing anything: a GPT with GPT-2's
# vocabulary, trained 2 steps here, scored on WikiText-103 and LAMBADA from the clone's data/.
cat > "$scratch/gpt2-tiny.json" <<'JSON'
{"model": {"family": "gpt", "layers": 1, "hidden": 16, "heads": 2, "sequence_length": 32, "max_positions": 32, "vocab_size": 50257},
 "training": {"steps": 2, "micro_batch": 2, "global_batch": 2, "lr": 1e-3, "train_data": "gpt2-train.h5",
              "checkpoint_interval": 2, "checkpoint_dir": "gpt2-checkpoint"}}
JSON
shared="$PWD/../shared/datasets"
(cd "$scratch" && "$megatron" prepare wikitext --split train --raw "$shared/wikitext-2/wiki.valid.tokens" --out gpt2-train.h5 \
    && "$megatron" train --config gpt2-tiny.json) > "$scratch/clone.log" 2>&1 || { tail -30 "$scratch/clone.log"; exit 1; }
git clone -q "$PWD" "$scratch/clone"
for task in "wikitext103 wt103-test-gpt2.h5 --stride 32" "lambada lambada-gpt2.h5"; do
    set -- $task
    (cd "$scratch/clone" && "$megatron" eval --checkpoint ../gpt2-checkpoint --task "$1" --data "data/$2" "${@:3}" --json \
        > eval.log 2>&1) || { tail -20 "$scratch/clone/eval.log"; exit 1; }
    tail -1 "$scratch/clone/eval.log" | grep -q '"metrics"' || { echo "test: eval $1 in a fresh clone printed no metrics"; exit 1; }
done
echo "test: a fresh clone evaluates a checkpoint against data/ without prepare"
# The committed results/README.md, CSVs and figures are what `megatron tables` makes of the
# committed records, byte for byte.
mkdir "$scratch/tables" && cp -r results "$scratch/tables/"
(cd "$scratch/tables" && "$megatron" tables > /dev/null)
diff -r results "$scratch/tables/results" || { echo "test: results/ differ from what megatron tables makes of the records"; exit 1; }
echo "test: megatron tables regenerates results/ byte for byte"
