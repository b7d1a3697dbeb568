#!/bin/sh
# bench/run.sh — natter's speed against the memory-bandwidth limit, on three random-weight
# models shaped like TinyLlama-1.1B (llama, n_embd 2048, 22 layers, 32 heads / 4 KV heads,
# n_ff 5632, vocab 32000, untied output) in Q4_0, Q4_K_M and Q8_0, written by
# tests/tools/mkmodel into a scratch directory (kept between runs). Measures the read bandwidth
# with tests/tools/bwprobe in the same run (before and after, the best counts), runs
# `natter bench` on each model and prints t/s and the share of the bandwidth limit reached
# (limit = bandwidth / file size, since generating a token reads every weight once).
#
#   bench/run.sh                       # THREADS=2 REPS=3 PP=512 TG=128
#   SCRATCH=/big/dir THREADS=4 bench/run.sh
#   TYPES="Q4_0" bench/run.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/natter-bench}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
PP=${PP:-512}
TG=${TG:-128}
TYPES=${TYPES:-"Q4_0 Q4_K_M Q8_0"}
VOCAB=${VOCAB:-$ROOT/../shared/vocab/ggml-vocab-llama-spm.gguf}
[ -f "$VOCAB" ] || { echo "bench: no vocab file $VOCAB (set VOCAB=...gguf)" >&2; exit 1; }

make -C "$ROOT" -s build/natter build/tools/mkmodel build/tools/bwprobe >&2
NATTER=$ROOT/build/natter
TOOLS=$ROOT/build/tools
mkdir -p "$SCRATCH"

for t in $TYPES; do
    f=$SCRATCH/tinyllama-1.1b-shape-$t.gguf
    if [ ! -s "$f" ]; then
        echo "bench: writing $f" >&2
        "$TOOLS/mkmodel" -o "$f.tmp" -v "$VOCAB" --arch llama --type "$t" --n-embd 2048 \
            --n-layer 22 --n-head 32 --n-head-kv 4 --n-ff 5632 --ctx 2048 --seed 1 \
            --name "tinyllama-1.1b-shape-$t"
        mv "$f.tmp" "$f"
    fi
done

bw() { "$TOOLS/bwprobe" -t "$THREADS" -s 1024 -r 5 2>/dev/null | awk '{print $2}'; }
bw1=$(bw)
results=""
for t in $TYPES; do
    f=$SCRATCH/tinyllama-1.1b-shape-$t.gguf
    echo "bench: natter bench -m $f -p $PP -n $TG -r $REPS -t $THREADS" >&2
    json=$("$NATTER" bench -m "$f" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" --json)
    pp=$(printf '%s\n' "$json" | awk -F': ' '/"n_prompt"/ {np=$2+0} /"avg_ts"/ && np>0 {sub(/,$/,"",$2); print $2; exit}')
    tg=$(printf '%s\n' "$json" | awk -F': ' '/"n_prompt"/ {np=$2+0} /"avg_ts"/ && np==0 {sub(/,$/,"",$2); print $2; exit}')
    sdp=$(printf '%s\n' "$json" | awk -F': ' '/"n_prompt"/ {np=$2+0} /"stddev_ts"/ && np>0 {sub(/,$/,"",$2); print $2; exit}')
    sdg=$(printf '%s\n' "$json" | awk -F': ' '/"n_prompt"/ {np=$2+0} /"stddev_ts"/ && np==0 {sub(/,$/,"",$2); print $2; exit}')
    rss=$(printf '%s\n' "$json" | awk -F': ' '/"peak_rss_bytes"/ {print $2+0}' | tail -n 1)
    size=$(wc -c <"$f")
    results="$results$t $size ${pp:-0} ${sdp:-0} ${tg:-0} ${sdg:-0} ${rss:-0}
"
done
bw2=$(bw)

printf '%s' "$results" | awk -v bw1="$bw1" -v bw2="$bw2" -v th="$THREADS" -v pp="$PP" -v tg="$TG" '
BEGIN {
    bw = bw1 > bw2 ? bw1 : bw2
    printf "read bandwidth (%d threads): %.1f GB/s (before %.1f, after %.1f)\n\n", th, bw, bw1, bw2
    printf "| file | size | pp%d t/s | tg%d t/s | bandwidth limit t/s | tg share of limit | peak RSS |\n", pp, tg
    printf "|---|---|---|---|---|---|---|\n"
}
{
    mib = $2 / 1048576; limit = bw * 1e9 / $2
    printf "| %s | %.0f MiB | %.1f ± %.1f | %.1f ± %.1f | %.1f | %.0f%% | %.0f MiB |\n", $1, mib, $3, $4, $5, $6, limit, 100 * $5 / limit, $7 / 1048576
}'
