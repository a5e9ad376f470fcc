#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine needs and builds megatron in release mode.
# Safe to re-run: apt-get runs only when a library is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2 (ip netns) serves scripts/test-multinode.sh only.
packages=(libopenblas-dev libhdf5-dev libopenmpi-dev openmpi-bin pkg-config iproute2)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

source scripts/build-flags.sh
swift build -c release "${SWIFT_FLAGS[@]}"
echo "setup: built $(swift build -c release "${SWIFT_FLAGS[@]}" --show-bin-path)/megatron"
