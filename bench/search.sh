#!/bin/sh
# bench/search.sh — the two search paths of src/store_search.c on a scratch database of
# CONVS conversations of MSGS messages (about 300 bytes each, a third of them Japanese): the
# FTS5 index (a word of a spaced script, as a prefix) and the substring scan (a CJK word).
# Prints the median wall time of REPS runs of `natter search` for each query, the process start
# included (compare with `natter ls`, which does no search).
#
#   bench/search.sh                      # CONVS=1000 MSGS=10 REPS=7
#   NATTER=/other/build/natter bench/search.sh
set -u
NATTER=${NATTER:-./natter}
CONVS=${CONVS:-1000} MSGS=${MSGS:-10} REPS=${REPS:-7}
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
db=$dir/bench.db
awk -v c="$CONVS" -v m="$MSGS" 'BEGIN {
    srand(7); printf "[";
    for (i = 0; i < c; i++) {
        printf "%s{\"natter\":1,\"title\":\"conversation %d\",\"messages\":[", i ? "," : "", i;
        for (j = 0; j < m; j++) {
            t = (j % 3 == 2) ? "私は日本語を勉強しています。東京の天気はどうですか。今日は晴れです。" \
                             : "The pirate ship sailed over the sea while the crew sang songs about bread and yeast.";
            printf "%s{\"role\":\"%s\",\"content\":\"%d %s %s\"}", j ? "," : "", j % 2 ? "assistant" : "user", int(rand() * 1e6), t, t;
        }
        printf "]}";
    }
    printf "]\n" }' >"$dir/all.json"
"$NATTER" import --db "$db" "$dir/all.json" >/dev/null || exit 1
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
time_ms() { # the wall time of one run of "$@" in ms
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
echo "search over $CONVS conversations x $MSGS messages ($(du -k "$db" | cut -f1) KiB), median of $REPS runs:"
for q in "ls" "search pira" "search yeast bread" "search 日本" "search 天気 晴れ"; do
    # shellcheck disable=SC2086 # the command's words
    ms=$(for r in $(seq "$REPS"); do time_ms "$NATTER" $q --db "$db"; done | median)
    printf '  natter %-20s %5s ms\n' "$q" "$ms"
done
