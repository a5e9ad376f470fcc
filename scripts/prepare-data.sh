#!/usr/bin/env bash
# Makes the evaluation subsets committed in data/ (see data/README.md) from ../shared/datasets,
# into OUT (default data/). test.sh runs it into a scratch folder and compares byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build-flags.sh
megatron="$(swift build -c release "${SWIFT_FLAGS[@]}" --show-bin-path)/megatron"
out="${1:-data}"
mkdir -p "$out"
"$megatron" prepare wikitext --split eval --raw ../shared/datasets/wikitext-103/wiki.test.tokens --out "$out/wt103-test-gpt2.h5"
"$megatron" prepare lambada --out "$out/lambada-gpt2.h5"
"$megatron" prepare race --split dev --max-length 384 --out "$out/race-m-dev.h5"
"$megatron" prepare race --split test --max-length 384 --out "$out/race-m-test.h5"
