#!/bin/sh
# bench/compare.sh — natter and llama.cpp side by side in one run, on the same files and thread
# count: for each model of the shape $SHAPE (bench/lib.sh writes them: TinyLlama-1.1B by
# default, qwen3, gemma3, qwen3moe), REPS rounds, each running `natter bench -r 1` and
# llama.cpp's -r 1 one after the other, in alternating order, so that both share the machine's
# noise; then a table of pp/tg t/s (mean ± sd over the rounds), natter / llama.cpp ratios and
# each side's generation as a share of the measured read bandwidth (bytes of weights a token
# reads, build/tools/tokbytes, times tg t/s, over tests/tools/bwprobe's GB/s with THREADS
# threads, before and after the rounds: the best counts).
# The llama.cpp side is llama.cpp's own llama-bench: LLAMA_BENCH if set, else the one
# bench/llamacpp/build.sh builds from the sources node-llama-cpp ships, built on first use into
# LLAMA_DIR (default $TMPDIR/natter-llama.cpp) and kept there. Only when that cannot be built
# (no cmake, no compiler) or with LLAMA_NODE=1 it is node-llama-cpp's prebuilt library through
# bench/llamacpp/bench.mjs. node-llama-cpp (which carries the sources) is installed into
# bench/llamacpp/node_modules by npm on first use (nothing downloaded is committed); the side is
# skipped with a message when none of this is possible.
# Before the table it prints the CPU model and its SIMD flags, the kernels each side ran:
# natter's level (`natter bench --json`'s "simd", what NATTER_SIMD caps), and ggml's: for
# llama-bench the x86 features of its build (a GGML_NATIVE build: what -march=native enables
# here) and the repacked layouts it chose (one short `llama-bench -v` run on the first file),
# or the CPU variant node-llama-cpp loaded; and the bandwidth.
#
#   bench/compare.sh                   # THREADS=2 REPS=3 PP=512 TG=128
#   TYPES="Q4_0" REPS=5 bench/compare.sh
#   LLAMACPP=0 bench/compare.sh        # natter only
#   NATTER=/other/build/natter bench/compare.sh
#   NATTER_SIMD=avx2 PP=128 TG=32 bench/compare.sh
#   LLAMA_BENCH=/path/to/llama-bench bench/compare.sh
#   SHAPE=qwen3 TYPES=Q4_K_M bench/compare.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLAMACPP=${LLAMACPP:-1}
LDIR=$ROOT/bench/llamacpp
LLAMA_DIR=${LLAMA_DIR:-${TMPDIR:-/tmp}/natter-llama.cpp}
. "$ROOT/bench/lib.sh"

# node + the pinned node-llama-cpp (its sources bundle, its prebuilt linux-x64 binaries).
# --omit=optional keeps npm from fetching the CUDA/Vulkan builds; the postinstall step would
# try to download or compile llama.cpp, which the prebuilt package makes unnecessary.
node_install() {
    [ -d "$LDIR/node_modules/@node-llama-cpp/linux-x64" ] && return 0
    command -v npm >/dev/null 2>&1 || { echo "compare: no npm" >&2; return 1; }
    echo "compare: installing node-llama-cpp into $LDIR/node_modules" >&2
    (cd "$LDIR" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional \
        --no-audit --no-fund --loglevel=error >&2) || { echo "compare: npm install failed" >&2; return 1; }
}

# Sets LLAMA_BENCH to a llama-bench that runs (building the cached one if need be), else
# checks node's prebuilt; returns 1 when the llama.cpp side cannot run.
llama_ready() {
    [ "$LLAMACPP" = 1 ] || { echo "compare: llama.cpp side off (LLAMACPP=$LLAMACPP)" >&2; return 1; }
    if [ -z "${LLAMA_BENCH:-}" ] && [ "${LLAMA_NODE:-0}" != 1 ]; then
        cached=$LLAMA_DIR/build/bin/llama-bench
        if [ ! -x "$cached" ]; then
            echo "compare: building llama.cpp's llama-bench once into $LLAMA_DIR (bench/llamacpp/build.sh)" >&2
            { node_install && "$LDIR/build.sh" "$LLAMA_DIR" >/dev/null; } ||
                echo "compare: llama-bench not built: node-llama-cpp's prebuilt instead" >&2
        fi
        if [ -x "$cached" ]; then LLAMA_BENCH=$cached; fi
    fi
    if [ -n "${LLAMA_BENCH:-}" ]; then
        "$LLAMA_BENCH" --help >/dev/null 2>&1 || {
            echo "compare: $LLAMA_BENCH does not run: llama.cpp side skipped" >&2
            return 1
        }
        return 0
    fi
    command -v node >/dev/null 2>&1 || { echo "compare: no node: llama.cpp side skipped" >&2; return 1; }
    node_install || { echo "compare: llama.cpp side skipped" >&2; return 1; }
    node "$LDIR/bench.mjs" --version >/dev/null 2>&1 || {
        echo "compare: node-llama-cpp does not load here (node $LDIR/bench.mjs --version): llama.cpp side skipped" >&2
        return 1
    }
}

bench_models
if [ -z "${NATTER:-}" ]; then
    make -C "$ROOT" -s build/natter >&2
    NATTER=$ROOT/build/natter
fi
make -C "$ROOT" -s build/tools/bwprobe build/tools/tokbytes >&2
"$NATTER" bench 2>&1 | grep -q 'bench -m' || { echo "compare: this natter has no bench command" >&2; exit 1; }
have_llama=0
if llama_ready; then have_llama=1; fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, $(uname -sr)"
echo "cpu flags: $(grep -o -w 'avx2\|fma\|f16c\|avx_vnni\|avx512[a-z_0-9]*\|amx_[a-z0-9]*\|asimd\|asimddp\|i8mm' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
f1=$(bench_model_path "${TYPES%% *}")
simd=$("$NATTER" bench -m "$f1" -p 1 -n 0 -r 1 -t 1 --json 2>/dev/null |
    sed -n 's/.*"simd": *"\([^"]*\)".*/\1/p' | head -n 1)
echo "natter kernels: ${simd:-unknown}${NATTER_SIMD:+ (NATTER_SIMD=$NATTER_SIMD)}"
if [ "$have_llama" = 1 ] && [ -n "${LLAMA_BENCH:-}" ]; then
    echo "llama.cpp llama-bench $LLAMA_BENCH, $("$LLAMA_BENCH" --version 2>&1 | grep -m1 version)"
    cache=$(dirname "$LLAMA_BENCH")/../CMakeCache.txt
    if grep -q '^GGML_NATIVE:BOOL=ON' "$cache" 2>/dev/null; then
        isa=$(echo | ${CC:-cc} -march=native -dM -E - 2>/dev/null | sed -n \
            's/^#define __\(AVX2\|AVXVNNI\|AVX512F\|AVX512BW\|AVX512VL\|AVX512VNNI\|AVX512BF16\|F16C\|FMA\|ARM_NEON\|ARM_FEATURE_DOTPROD\|ARM_FEATURE_MATMUL_INT8\)__ .*/\1/p' |
            sort | tr '\n' ' ')
        echo "ggml kernels: GGML_NATIVE build, -march=native here enables: ${isa:-?}"
    else   # e.g. bench/llamacpp/build.sh's LLAMA_AVX2=1 build: the x86 options it was built with
        isa=$(sed -n 's/^GGML_\(AVX[A-Z0-9_]*\|FMA\|F16C\|BMI2\|AMX_[A-Z0-9]*\):BOOL=ON$/\1/p' "$cache" 2>/dev/null |
            sort | tr '\n' ' ')
        echo "ggml kernels: not a GGML_NATIVE build; built with: ${isa:-? (see $cache)}"
    fi
    rp=$("$LLAMA_BENCH" -m "$f1" -p 1 -n 0 -r 1 -t 1 -v 2>&1 |
        sed -n 's/.*repack tensor .* with \([A-Za-z0-9_]*\).*/\1/p' | sort -u | tr '\n' ' ')
    echo "ggml repacked layouts on ${TYPES%% *}: ${rp:-none}"
elif [ "$have_llama" = 1 ]; then
    node "$LDIR/bench.mjs" --version | sed 's/^/llama.cpp (node-llama-cpp prebuilt) /'
fi
bw() { "$ROOT/build/tools/bwprobe" -t "$THREADS" -s 1024 -r 5 2>/dev/null | awk '{print $2}'; }
bw1=$(bw)
echo "read bandwidth before ($THREADS threads): ${bw1:-?} GB/s"

# one round of one side: "pp tg" t/s on stdout, nothing when it failed (the JSON goes to a
# file of this run's own: several runs may share $SCRATCH)
JSON=$(mktemp "${TMPDIR:-/tmp}/natter-compare.XXXXXX")
trap 'rm -f "$JSON"' EXIT
trap 'exit 130' INT TERM
run_natter() {
    "$NATTER" bench -m "$1" -p "$PP" -n "$TG" -r 1 -t "$THREADS" --json >"$JSON" || return 0
    printf '%s %s\n' "$(bench_json_field avg_ts pp <"$JSON")" "$(bench_json_field avg_ts tg <"$JSON")"
}
run_llama() {
    if [ -n "${LLAMA_BENCH:-}" ]; then
        "$LLAMA_BENCH" -m "$1" -p "$PP" -n "$TG" -r 1 -t "$THREADS" -o json >"$JSON" 2>/dev/null ||
            return 0
    else
        node "$LDIR/bench.mjs" -m "$1" -p "$PP" -n "$TG" -r 1 -t "$THREADS" --json >"$JSON" || return 0
    fi
    printf '%s %s\n' "$(bench_json_field avg_ts pp <"$JSON")" "$(bench_json_field avg_ts tg <"$JSON")"
}

rows=""
for t in $TYPES; do
    f=$(bench_model_path "$t")
    rows="$rows$t bytes $("$ROOT/build/tools/tokbytes" "$f" | awk '{print $1}') 0
"
    i=1
    while [ "$i" -le "$REPS" ]; do
        order="natter llama"
        [ $((i % 2)) -eq 0 ] && order="llama natter"
        for side in $order; do
            [ "$side" = llama ] && [ "$have_llama" = 0 ] && continue
            echo "compare: $t round $i/$REPS: $side" >&2
            r=$(run_$side "$f")
            case "$r" in
            [0-9]*" "[0-9]*)
                echo "compare:   pp${PP} tg${TG} t/s: $r" >&2
                rows="$rows$t $side $r
" ;;
            *) echo "compare:   $side failed on $t: round left out" >&2 ;;
            esac
        done
        i=$((i + 1))
    done
done

bw2=$(bw)
echo "read bandwidth after: ${bw2:-?} GB/s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%s' "$rows" | awk -v types="$TYPES" -v pp="$PP" -v tg="$TG" -v th="$THREADS" -v reps="$REPS" \
    -v bw1="${bw1:-0}" -v bw2="${bw2:-0}" '
function ms(key,   m, s, i) {          # "mean ± sd" of the samples under key
    if (!(key in n)) return "-"
    m = sum[key] / n[key]; s = 0
    for (i = 1; i <= n[key]; i++) s += (v[key, i] - m) ^ 2
    s = n[key] > 1 ? sqrt(s / (n[key] - 1)) : 0
    mean[key] = m
    return sprintf("%.1f ± %.1f", m, s)
}
function ratio(a, b) { return (a in mean) && (b in mean) && mean[b] > 0 ? sprintf("%.2fx", mean[a] / mean[b]) : "-" }
# the share of the bandwidth generation uses: bytes a token reads x tokens/s over bytes/s
function share(t, key) { return (key in mean) && bw > 0 && bytes[t] > 0 ? sprintf("%.0f%%", 100 * mean[key] * bytes[t] / (bw * 1e9)) : "-" }
$2 == "bytes" { bytes[$1] = $3; next }
{
    for (k = 0; k < 2; k++) {
        key = $1 SUBSEP $2 SUBSEP (k ? "tg" : "pp")
        v[key, ++n[key]] = $(3 + k); sum[key] += $(3 + k)
    }
}
END {
    bw = bw1 > bw2 ? bw1 : bw2
    printf "\n%s threads, %d interleaved rounds per side, t/s mean ± sd; bandwidth %.1f GB/s (bwprobe, %s threads, the best of before/after)\n\n", th, reps, bw, th
    printf "| file | MiB/token | natter pp%d | llama.cpp pp%d | pp ratio | natter tg%d | llama.cpp tg%d | tg ratio | natter tg/bw | llama.cpp tg/bw |\n", pp, pp, tg, tg
    printf "|---|---|---|---|---|---|---|---|---|---|\n"
    nt = split(types, ty, " ")
    for (i = 1; i <= nt; i++) {
        t = ty[i]
        np = ms(t SUBSEP "natter" SUBSEP "pp"); lp = ms(t SUBSEP "llama" SUBSEP "pp")
        ng = ms(t SUBSEP "natter" SUBSEP "tg"); lg = ms(t SUBSEP "llama" SUBSEP "tg")
        printf "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, bytes[t] / 1048576, np, lp,
            ratio(t SUBSEP "natter" SUBSEP "pp", t SUBSEP "llama" SUBSEP "pp"), ng, lg,
            ratio(t SUBSEP "natter" SUBSEP "tg", t SUBSEP "llama" SUBSEP "tg"),
            share(t, t SUBSEP "natter" SUBSEP "tg"), share(t, t SUBSEP "llama" SUBSEP "tg")
    }
}'
[ "$have_llama" = 1 ] || echo "(llama.cpp side skipped: see the message above)"
