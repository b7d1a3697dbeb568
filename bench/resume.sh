#!/bin/sh
# bench/resume.sh — a long saved conversation continued in a new process: the time to its first
# new token without and with the context snapshot the previous run left (src/kvcache.h). On the
# TinyLlama-1.1B-shaped Q4_0 model of bench/run.sh (SHAPE/TYPE as bench/lib.sh), a conversation
# of about $TOKENS tokens (imported: user and assistant turns of plain words) is continued
# three times with `natter run --conv ID -p ...`, each in a new process:
#   1. no snapshot: the whole history is processed (and a snapshot written after the reply)
#   2. the snapshot of run 1 is restored, only the new turn is processed
#   3. as 2, once more
# Prints each run's stats line (first token T ms: from the model loaded to the first token,
# the restore included), the wall time of the process (model load included) and T - 1000 N/X,
# the part of T that is not processing the N new tokens at X t/s (the restore, the first
# sampling). The cache and
# database live in a scratch directory ($SCRATCH/resume), not in yours.
#
#   bench/resume.sh                 # TOKENS=3000 THREADS=2
#   TOKENS=1000 bench/resume.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TYPE=${TYPE:-Q4_0}
TYPES=$TYPE
TOKENS=${TOKENS:-3000}
. "$ROOT/bench/lib.sh"
bench_models
make -C "$ROOT" -s build/natter >&2
NATTER=$ROOT/build/natter
F=$(bench_model_path "$TYPE")
W=$SCRATCH/resume
rm -rf "$W"
mkdir -p "$W"
export XDG_CACHE_HOME="$W/cache" XDG_DATA_HOME="$W/data" NATTER_DB="$W/conv.db"
unset NATTER_CACHE_MAX

# about a token a word with this vocabulary (and the template adds a few a turn): 12 turns
awk -v words=$((TOKENS * 96 / 100)) 'BEGIN {
    split("the a little girl saw big red ball in park and her friend went to play with it " \
          "one day they found old tree near river where birds sang every morning so she " \
          "asked mother if could stay until sun set over hills behind town", w, " ")
    n = length(w); per = int(words / 12); seed = 1
    printf "["
    for (t = 0; t < 12; t++) {
        printf "%s{\"role\":\"%s\",\"content\":\"", t ? "," : "", t % 2 ? "assistant" : "user"
        for (i = 0; i < per; i++) {
            seed = (seed * 1103515245 + 12345) % 2147483648
            printf "%s%s", i ? " " : "", w[int(seed / 65536) % n + 1]
        }
        printf ".\"}"
    }
    printf "]\n"
}' >"$W/conv.json"
id=$("$NATTER" import "$W/conv.json" | sed -n 's/.*\([0-9a-f]\{8\}\).*/\1/p' | head -n 1)
[ -n "$id" ] || { echo "bench: import failed" >&2; exit 1; }

now() { date +%s.%N; }
for run in 1 2 3; do
    t0=$(now)
    "$NATTER" run -m "$F" --conv "$id" -p "And then what happened in run $run?" --temp 0 -n 16 \
        -t "$THREADS" >/dev/null 2>"$W/err"
    t1=$(now)
    line=$(grep '^natter: prompt' "$W/err")
    # T - 1000 N / X: the time to the first token that is not the new tokens' processing (the
    # snapshot's restore, the first sampling)
    rest=$(printf '%s\n' "$line" | sed -n 's/.*prompt \([0-9]*\) tokens.*, \([0-9.]*\) t\/s; generated.*first token \([0-9]*\) ms/\3 \1 \2/p' |
           awk '{ printf "%.0f", ($2 > 0 && $3 > 0) ? $1 - 1000 * $2 / $3 : $1 }')
    printf 'run %d: %s; wall %.2f s; T - 1000 N/X = %s ms\n' "$run" "${line#natter: }" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rest"
done
"$NATTER" cache ls | tail -n 1
