# Sourced by setup.sh and test.sh. Swift -O targets baseline x86-64 (SSE2); AVX2 + FMA
# (`haswell`, portable to any x86-64 from 2013 on) makes the vectorized kernels 2–3× faster.
SWIFT_FLAGS=()
if [ "$(uname -m)" = "x86_64" ]; then
    SWIFT_FLAGS+=(-Xswiftc -target-cpu -Xswiftc haswell -Xcc -march=haswell)
fi
