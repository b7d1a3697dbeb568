#!/bin/sh
# bench/speculative.sh — speculative decoding against plain decoding on the random-weight models
# of bench/lib.sh (SHAPE, TYPES, THREADS, REPS as there; default the TinyLlama-1.1B shape in
# Q4_0 Q4_K_M Q8_0). For each type: `natter run --temp 0 -n TG` with a prompt that repeats
# itself, plain, with prompt lookup (--lookup LOOKUP) and with the model drafting for itself
# (--draft --draft-p-min 0, the upper bound: every draft kept, the draft's own cost paid), REPS rounds
# alternated, medians of the generation t/s. Prints t/s, the speedup over plain, the drafts
# kept, and checks that every run printed the same text (exactness).
#
#   bench/speculative.sh                    # TG=128 LOOKUP=8
#   TYPES=Q4_0 REPS=5 bench/speculative.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
LOOKUP=${LOOKUP:-8}
bench_models
make -C "$ROOT" -s build/natter >&2
NATTER=$ROOT/build/natter
PROMPT="one two three four five six seven eight one two three four five six seven eight one two"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run MODEL NAME ARGS...: appends "t/s drafted kept" to $tmp/NAME, the text to $tmp/NAME.txt
run() {
    m=$1 name=$2
    shift 2
    "$NATTER" run -m "$m" --temp 0 -n "$TG" -t "$THREADS" "$@" -p "$PROMPT" \
        >"$tmp/$name.txt" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    tps=$(sed -n 's/.*generated [0-9]* tokens, \([0-9.]*\) t\/s.*/\1/p' "$tmp/err")
    dr=$(sed -n 's/.*drafted \([0-9]*\) tokens, kept \([0-9]*\).*/\1 \2/p' "$tmp/err")
    echo "$tps ${dr:-0 0}" >>"$tmp/$name"
    if [ -f "$tmp/ref.txt" ]; then
        cmp -s "$tmp/ref.txt" "$tmp/$name.txt" || { echo "bench: $name: the text differs" >&2; exit 1; }
    else
        cp "$tmp/$name.txt" "$tmp/ref.txt"
    fi
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf 'speculative decoding, %s shape, %s threads, -n %s, greedy, %s rounds (medians)\n' \
    "$SHAPE" "$THREADS" "$TG" "$REPS"
printf '%-8s %10s %16s %22s\n' type "plain t/s" "lookup t/s (x)" "self-draft t/s (x)"
for t in $TYPES; do
    f=$(bench_model_path "$t")
    rm -f "$tmp/plain" "$tmp/lookup" "$tmp/self" "$tmp/ref.txt"
    r=0
    while [ "$r" -lt "$REPS" ]; do
        run "$f" plain
        run "$f" lookup --lookup "$LOOKUP"
        run "$f" self --draft "$f" --draft-p-min 0
        r=$((r + 1))
    done
    p=$(awk '{print $1}' "$tmp/plain" | median)
    l=$(awk '{print $1}' "$tmp/lookup" | median)
    s=$(awk '{print $1}' "$tmp/self" | median)
    lk=$(tail -n 1 "$tmp/lookup" | awk '{printf "%d/%d", $3, $2}')
    sk=$(tail -n 1 "$tmp/self" | awk '{printf "%d/%d", $3, $2}')
    printf '%-8s %10.1f %9.1f (%.2fx) %s %9.1f (%.2fx) %s\n' "$t" "$p" "$l" \
        "$(echo "$l $p" | awk '{print $1 / $2}')" "$lk" "$s" \
        "$(echo "$s $p" | awk '{print $1 / $2}')" "$sk"
done
echo "(every run printed the same text; drafts kept/drafted of the last round)"
