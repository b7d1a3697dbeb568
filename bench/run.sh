#!/bin/sh
# bench/run.sh — natter's speed against the memory-bandwidth limit, on three random-weight
# models shaped like TinyLlama-1.1B (llama, n_embd 2048, 22 layers, 32 heads / 4 KV heads,
# n_ff 5632, vocab 32000, untied output; SHAPE=qwen3|gemma3|qwen3moe for the other shapes of
# bench/lib.sh) in Q4_0, Q4_K_M and Q8_0, written by
# tests/tools/mkmodel into a scratch directory (kept between runs; bench/lib.sh). Measures the read
# bandwidth with tests/tools/bwprobe in the same run (before and after, the best counts), runs
# `natter bench` on each model and prints t/s and the share of the bandwidth limit reached
# (limit = bandwidth / the bytes of weights a token reads, build/tools/tokbytes: every tensor
# once, one row of the token embedding table).
#
#   bench/run.sh                       # THREADS=2 REPS=3 PP=512 TG=128
#   SCRATCH=/big/dir THREADS=4 bench/run.sh
#   TYPES="Q4_0" bench/run.sh
#   SHAPE=gemma3 TYPES=Q4_K_M bench/run.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
bench_models
make -C "$ROOT" -s build/natter build/tools/bwprobe build/tools/tokbytes >&2
NATTER=$ROOT/build/natter
TOOLS=$ROOT/build/tools

bw() { "$TOOLS/bwprobe" -t "$THREADS" -s 1024 -r 5 2>/dev/null | awk '{print $2}'; }
bw1=$(bw)
results=""
for t in $TYPES; do
    f=$(bench_model_path "$t")
    echo "bench: natter bench -m $f -p $PP -n $TG -r $REPS -t $THREADS" >&2
    json=$("$NATTER" bench -m "$f" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" --json)
    pp=$(printf '%s\n' "$json" | bench_json_field avg_ts pp)
    tg=$(printf '%s\n' "$json" | bench_json_field avg_ts tg)
    sdp=$(printf '%s\n' "$json" | bench_json_field stddev_ts pp)
    sdg=$(printf '%s\n' "$json" | bench_json_field stddev_ts tg)
    rss=$(printf '%s\n' "$json" | awk -F': ' '/"peak_rss_bytes"/ {print $2+0}' | tail -n 1)
    size=$("$TOOLS/tokbytes" "$f" | awk '{print $1}')
    results="$results$t $size ${pp:-0} ${sdp:-0} ${tg:-0} ${sdg:-0} ${rss:-0}
"
done
bw2=$(bw)

printf '%s' "$results" | awk -v bw1="$bw1" -v bw2="$bw2" -v th="$THREADS" -v pp="$PP" -v tg="$TG" '
BEGIN {
    bw = bw1 > bw2 ? bw1 : bw2
    printf "read bandwidth (%d threads): %.1f GB/s (before %.1f, after %.1f)\n\n", th, bw, bw1, bw2
    printf "| file | MiB/token | pp%d t/s | tg%d t/s | bandwidth limit t/s | tg share of limit | peak RSS |\n", pp, tg
    printf "|---|---|---|---|---|---|---|\n"
}
{
    mib = $2 / 1048576; limit = bw * 1e9 / $2
    printf "| %s | %.0f MiB | %.1f ± %.1f | %.1f ± %.1f | %.1f | %.0f%% | %.0f MiB |\n", $1, mib, $3, $4, $5, $6, limit, 100 * $5 / limit, $7 / 1048576
}'
