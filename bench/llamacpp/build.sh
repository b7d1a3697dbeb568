#!/bin/sh
# bench/llamacpp/build.sh [bench|server] [DIR] — builds llama.cpp's own llama-bench (default)
# or llama-server from source, offline: llama-bench for bench/compare.sh
# (LLAMA_BENCH=DIR/build/bin/llama-bench), llama-server for the remote backend's test against a
# real server (tests/cli/remote_llama.sh). The npm package node-llama-cpp carries the llama.cpp
# sources it was built from as a git bundle (llama/gitRelease.bundle); this clones that into
# DIR (default $TMPDIR/natter-llama.cpp) unless DIR already holds a clone, and builds the
# target with cmake, Release, GGML_NATIVE (tuned for this CPU, as a user building llama.cpp
# would); a second run only rebuilds what changed. Needs git, cmake and a C++ compiler
# (apt-get install cmake g++). Run `npm install` in bench/llamacpp first (bench/compare.sh
# does it) when DIR has no clone yet. Prints the binary's path.
# LLAMA_AVX2=1 builds instead into DIR/build-avx2 without GGML_NATIVE, with AVX2 + FMA + F16C
# and nothing wider (no AVX-512, no AVX-VNNI): ggml's AVX2 kernels, to hold natter's
# (NATTER_SIMD=avx2) against on a machine that has AVX-512 — the kernels' code, not an
# AVX2-only CPU's microarchitecture.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
target=llama-bench
case ${1:-} in
    bench) shift ;;
    server) target=llama-server; shift ;;
esac
DIR=${1:-${TMPDIR:-/tmp}/natter-llama.cpp}
BUNDLE=$ROOT/bench/llamacpp/node_modules/node-llama-cpp/llama/gitRelease.bundle
command -v cmake >/dev/null 2>&1 || { echo "build.sh: no cmake (apt-get install cmake)" >&2; exit 1; }
if [ ! -d "$DIR/.git" ]; then
    [ -f "$BUNDLE" ] || { echo "build.sh: no $BUNDLE (npm install in bench/llamacpp first)" >&2; exit 1; }
    git clone -q "$BUNDLE" "$DIR" >&2
fi
# AMX: on this project's Intel machine (a VM listing amx_tile/amx_int8/amx_bf16) ggml's AMX
# matmul dies on its first tile instruction (SIGILL in ggml_backend_amx_mul_mat, although a
# process that asks the kernel for the tile state can use the tiles). So a CPU that lists AMX
# gets a build without it unless LLAMA_AMX=1; say which in the figures.
noamx=
if grep -qw amx_tile /proc/cpuinfo 2>/dev/null && [ "${LLAMA_AMX:-0}" != 1 ]; then
    noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    echo "build.sh: building without AMX (LLAMA_AMX=1 to try it)" >&2
fi
# The server is configured in too (LLAMA_BUILD_SERVER=ON) whichever target is built, so that
# building one after the other does not reconfigure and rebuild the shared libraries.
bdir=$DIR/build isa="-DGGML_NATIVE=ON"
if [ "${LLAMA_AVX2:-0}" = 1 ]; then
    bdir=$DIR/build-avx2
    isa="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
        -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF
        -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
fi
# shellcheck disable=SC2086 # $isa is a list of options
cmake -S "$DIR" -B "$bdir" -DCMAKE_BUILD_TYPE=Release $isa -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=ON -DCMAKE_C_FLAGS="$noamx" -DCMAKE_CXX_FLAGS="$noamx" >&2
cmake --build "$bdir" --target "$target" -j "${JOBS:-$(nproc)}" >&2
echo "$bdir/bin/$target"
