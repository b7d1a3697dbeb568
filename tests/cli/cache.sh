#!/bin/sh
# tests/cli/cache.sh — context snapshots on disk with the real binary (src/kvcache.c):
# `natter run --conv` continues from the snapshot the last run left (the same reply as
# recomputing, on a llama and the hybrids LFM2 and Qwen3.5), `natter cache ls|clear`, a
# corrupt, truncated or foreign snapshot ignored with a note and removed, kill -9 in the middle
# of writing one (the partial temp file is never used and is swept later), two processes
# sharing the directory, eviction at the size limit (least recently used first), a bad
# NATTER_CACHE_MAX.
. tests/lib.sh
need_shared
M="$SHARED/models/stories260K.gguf"
O="$SHARED/models/TinyStories-656K-Q8_0.gguf"
C="$XDG_CACHE_HOME/natter"
E="$TEST_TMPDIR/err"

snapshots() { ls "$C" 2>/dev/null | grep -c '\.nkv$'; }
# new_conv DB PROMPT: a saved conversation of one exchange; prints its id
new_conv() {
    "$NATTER" run -m "$M" --temp 0 -n 24 -p "$2" --save --db "$1" >/dev/null 2>"$E" ||
        fail "run --save: $(cat "$E")"
    sed -n 's/^natter: saved in conversation //p' "$E"
}
# cont DB ID [MODEL]: continues the conversation; the reply on stdout, messages in $E
cont() {
    "$NATTER" run -m "${3:-$M}" --temp 0 -n 8 -p " The end." --conv "$2" --db "$1" 2>"$E" ||
        fail "run --conv: $(cat "$E")"
}
cached() { sed -n 's/^natter: prompt [0-9]* tokens (+\([0-9]*\) cached).*/\1/p' "$E"; }

# 1. a snapshot after each reply, restored by the next process; ls shows it
id=$(new_conv "$TEST_TMPDIR/a.db" "Once upon a time")
expect_eq "$(snapshots)" 1
s28=$(cat "$C"/*.nkv | wc -c)
ls_out=$("$NATTER" cache ls)
expect_contains "$ls_out" "    28 tokens  ctx 2048   f16"
expect_contains "$ls_out" "$(cd "$(dirname "$M")" && pwd -P)/stories260K.gguf"
expect_contains "$ls_out" "1 snapshot, "
expect_contains "$ls_out" "of 2048.0 MiB in $C"
cp "$TEST_TMPDIR/a.db" "$TEST_TMPDIR/a0.db"
want=$(NATTER_CACHE_MAX=0 cont "$TEST_TMPDIR/a0.db" "$id")
expect_eq "$(cached)" 0
got=$(cont "$TEST_TMPDIR/a.db" "$id")
expect_eq "$(cached)" 28
expect_eq "$got" "$want"
expect_eq "$(snapshots)" 1   # the longer snapshot replaced its prefix

# hybrids: the state at a checkpoint, the same reply as without the cache
for f in syn26-lfm2-Q8_0 syn26-qwen35-Q8_0; do
    H="$SHARED/models-2026/$f.gguf"
    [ -f "$H" ] || continue
    "$NATTER" run -m "$H" --temp 0 -n 12 -p "Once upon a time" --save --db "$TEST_TMPDIR/$f.db" \
        >/dev/null 2>"$E" || fail "$f: $(cat "$E")"
    hid=$(sed -n 's/^natter: saved in conversation //p' "$E")
    cp "$TEST_TMPDIR/$f.db" "$TEST_TMPDIR/$f-0.db"
    want=$(NATTER_CACHE_MAX=0 cont "$TEST_TMPDIR/$f-0.db" "$hid" "$H")
    got=$(cont "$TEST_TMPDIR/$f.db" "$hid" "$H")
    [ "$(cached)" -gt 0 ] || fail "$f: nothing restored: $(cat "$E")"
    expect_eq "$got" "$want"
done

# 2. a flipped byte, a truncated file, a foreign file: ignored with a note, removed
"$NATTER" cache clear >/dev/null
id=$(new_conv "$TEST_TMPDIR/b.db" "Once upon a time")
f=$(ls "$C"/*.nkv)
size=$(wc -c <"$f")
cp "$TEST_TMPDIR/b.db" "$TEST_TMPDIR/b0.db"
printf 'X' | dd of="$f" bs=1 seek=$((size - 64)) conv=notrunc 2>/dev/null
want=$(NATTER_CACHE_MAX=0 cont "$TEST_TMPDIR/b0.db" "$id")
got=$(cont "$TEST_TMPDIR/b.db" "$id")
expect_contains "$(cat "$E")" "natter: cache: ignoring $(basename "$f"): the snapshot fails its checksum (removed)"
expect_eq "$(cached)" 0
expect_eq "$got" "$want"
[ -f "$f" ] && fail "the corrupt snapshot is still there"

"$NATTER" cache clear >/dev/null
id=$(new_conv "$TEST_TMPDIR/c.db" "Once upon a time")
f=$(ls "$C"/*.nkv)
truncate -s $(($(wc -c <"$f") / 2)) "$f"
cont "$TEST_TMPDIR/c.db" "$id" >/dev/null
expect_contains "$(cat "$E")" "natter: cache: ignoring $(basename "$f"): the snapshot is truncated (removed)"
expect_eq "$(cached)" 0

"$NATTER" cache clear >/dev/null
id=$(new_conv "$TEST_TMPDIR/d.db" "Once upon a time")
f=$(ls "$C"/*.nkv)
"$NATTER" run -m "$O" --temp 0 -n 4 -p "Hello" --save --db "$TEST_TMPDIR/o.db" >/dev/null 2>&1
other=$(ls "$C"/*.nkv | grep -v "$f")
mv "$other" "$f"   # another model's snapshot under this one's name
cont "$TEST_TMPDIR/d.db" "$id" >/dev/null
expect_contains "$(cat "$E")" "natter: cache: ignoring $(basename "$f"): it is of another model or context (removed)"
expect_eq "$(cached)" 0

# 3. kill -9 while a snapshot is being written (NATTER_TEST_CACHE_PAUSE stops after its
#    header): the partial temp file is not a snapshot, the next run ignores it and sweeps it
"$NATTER" cache clear >/dev/null
id=$(NATTER_CACHE_MAX=0 new_conv "$TEST_TMPDIR/k.db" "Once upon a time")
NATTER_TEST_CACHE_PAUSE=30 "$NATTER" run -m "$M" --temp 0 -n 8 -p " The end." --conv "$id" \
    --db "$TEST_TMPDIR/k.db" >/dev/null 2>&1 &
pid=$!
i=0
while ! ls -a "$C" 2>/dev/null | grep -q '^\.tmp-.*\.part$' && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
ls -a "$C" | grep -q '^\.tmp-.*\.part$' || fail "no temp file while writing"
kill -9 $pid
wait $pid 2>/dev/null
expect_eq "$(snapshots)" 0
expect_contains "$("$NATTER" cache ls)" "0 snapshots"
cont "$TEST_TMPDIR/k.db" "$id" >/dev/null
expect_eq "$(cached)" 0
expect_eq "$(snapshots)" 1
ls -a "$C" | grep -q '^\.tmp-' && fail "the dead writer's temp file was not swept"
cont "$TEST_TMPDIR/k.db" "$id" >/dev/null
[ "$(cached)" -gt 0 ] || fail "the snapshot after the kill is not used"

# 4. two processes sharing the directory, writing at the same time
"$NATTER" cache clear >/dev/null
id1=$(NATTER_CACHE_MAX=0 new_conv "$TEST_TMPDIR/p1.db" "Once upon a time")
id2=$(NATTER_CACHE_MAX=0 new_conv "$TEST_TMPDIR/p2.db" "The little dog")
cp "$TEST_TMPDIR/p1.db" "$TEST_TMPDIR/p1b.db"
for r in 1 2 3; do
    "$NATTER" run -m "$M" --temp 0 -n 8 -p " The end." --conv "$id1" --db "$TEST_TMPDIR/p1.db" \
        >/dev/null 2>"$TEST_TMPDIR/e1" &
    a=$!
    "$NATTER" run -m "$M" --temp 0 -n 8 -p " The end." --conv "$id2" --db "$TEST_TMPDIR/p2.db" \
        >/dev/null 2>"$TEST_TMPDIR/e2" &
    b=$!
    "$NATTER" run -m "$M" --temp 0 -n 8 -p " The end." --conv "$id1" --db "$TEST_TMPDIR/p1b.db" \
        >/dev/null 2>"$TEST_TMPDIR/e3" &
    c=$!
    wait $a || fail "writer 1: $(cat "$TEST_TMPDIR/e1")"
    wait $b || fail "writer 2: $(cat "$TEST_TMPDIR/e2")"
    wait $c || fail "writer 3: $(cat "$TEST_TMPDIR/e3")"
    grep -q "ignoring" "$TEST_TMPDIR/e1" "$TEST_TMPDIR/e2" "$TEST_TMPDIR/e3" &&
        fail "a process saw a bad snapshot: $(cat "$TEST_TMPDIR/e1" "$TEST_TMPDIR/e2" "$TEST_TMPDIR/e3")"
    if [ $r -gt 1 ]; then
        for e in e1 e2 e3; do
            grep -q "(+0 cached)" "$TEST_TMPDIR/$e" && fail "round $r: $e restored nothing"
        done
    fi
done
# p1 and p1b hold the same conversation: one snapshot of it; p2 another
expect_eq "$(snapshots)" 2
ls -a "$C" | grep -q '^\.tmp-' && fail "a temp file was left"

# 5. eviction at the size limit, least recently used first: a restore counts as a use
"$NATTER" cache clear >/dev/null
e1=$(NATTER_CACHE_MAX=0 new_conv "$TEST_TMPDIR/v.db" "Once upon a time")
e2=$(NATTER_CACHE_MAX=0 new_conv "$TEST_TMPDIR/v.db" "The little dog")
cont "$TEST_TMPDIR/v.db" "$e1" >/dev/null
f1=$(ls "$C"/*.nkv)
cont "$TEST_TMPDIR/v.db" "$e2" >/dev/null
f2=$(ls "$C"/*.nkv | grep -v "$f1")
touch -d '2 minutes ago' "$f1"
touch -d '1 minute ago' "$f2"
# the limit holds e1's and e2's snapshots and a 28-token one, less a byte
export NATTER_CACHE_MAX=$(($(wc -c <"$f1") + $(wc -c <"$f2") + s28 - 1))
# a new conversation that opens like e1 restores from e1's snapshot (now the most recently
# used), then its own 28-token snapshot needs room: e2's, the least recently used, goes
new_conv "$TEST_TMPDIR/w.db" "Once upon a time" >/dev/null
expect_eq "$(cached)" 4
expect_eq "$(snapshots)" 2
[ -f "$f1" ] || fail "the recently restored snapshot was evicted"
[ -f "$f2" ] && fail "the least recently used snapshot was kept"
[ "$(cat "$C"/*.nkv | wc -c)" -le "$NATTER_CACHE_MAX" ] || fail "over the limit"
# a snapshot larger than the limit is not written
export NATTER_CACHE_MAX=1000
"$NATTER" cache clear >/dev/null
cont "$TEST_TMPDIR/v.db" "$e1" >/dev/null
expect_eq "$(snapshots)" 0
unset NATTER_CACHE_MAX

# 6. clear; a bad limit is reported and the default used
"$NATTER" run -m "$M" --temp 0 -n 4 -p "Hi" --save --db "$TEST_TMPDIR/z.db" >/dev/null 2>&1
out=$("$NATTER" cache clear)
expect_eq "$out" "removed 1 snapshot ($(awk 'BEGIN{printf "%.1f", 0}') MiB) from $C"
expect_eq "$(snapshots)" 0
NATTER_CACHE_MAX=lots "$NATTER" cache ls >/dev/null 2>"$E"
expect_eq "$(cat "$E")" "natter: NATTER_CACHE_MAX: 'lots' is not a size (e.g. 512M, 2G, 0 for no cache); using 2048 MiB"
NATTER_CACHE_MAX=0 "$NATTER" run -m "$M" --temp 0 -n 4 -p "Hi" --save --db "$TEST_TMPDIR/z.db" \
    >/dev/null 2>&1
expect_eq "$(snapshots)" 0
"$NATTER" cache sweep >/dev/null 2>&1
expect_eq "$?" 2
# the limit from the config file's cache-max (NATTER_CACHE_MAX wins over it); a bad one is
# refused with its file and line
mkdir -p "$XDG_CONFIG_HOME/natter"
printf 'temp = 0.5\ncache-max = 3M\n' >"$XDG_CONFIG_HOME/natter/config"
expect_contains "$("$NATTER" cache ls)" "of 3.0 MiB in"
expect_contains "$(NATTER_CACHE_MAX=5M "$NATTER" cache ls)" "of 5.0 MiB in"
printf 'cache-max = 0\n' >"$XDG_CONFIG_HOME/natter/config"
"$NATTER" run -m "$M" --temp 0 -n 4 -p "Hi" --save --db "$TEST_TMPDIR/z.db" >/dev/null 2>&1
expect_eq "$(snapshots)" 0
printf '\ncache-max = lots\n' >"$XDG_CONFIG_HOME/natter/config"
"$NATTER" run -m "$M" --temp 0 -n 1 -p "Hi" >/dev/null 2>"$E" && fail "a bad cache-max was taken"
expect_contains "$(cat "$E")" "config:2: cache-max: 'lots' is not a size"
rm "$XDG_CONFIG_HOME/natter/config"

# 7. a quantized KV cache is snapshotted and restored too (its type is part of the key)
Q="$SHARED/models-2026/syn26-qwen3-F16.gguf"
"$NATTER" run -m "$Q" --kv q8_0 --temp 0 -n 8 -p "Hi there" --save --db "$TEST_TMPDIR/q.db" \
    >/dev/null 2>&1 || fail "run --kv q8_0 --save failed"
qid=$("$NATTER" ls --json --db "$TEST_TMPDIR/q.db" | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
"$NATTER" cache ls | grep -q "ctx [0-9]* *q8_0" || fail "no q8_0 snapshot: $("$NATTER" cache ls)"
"$NATTER" run -m "$Q" --kv q8_0 --temp 0 -n 4 -p "more" --conv "$qid" --db "$TEST_TMPDIR/q.db" \
    >/dev/null 2>"$E" || fail "run --kv q8_0 --conv failed: $(cat "$E")"
case "$(cat "$E")" in *"(+0 cached)"*) fail "nothing restored: $(cat "$E")";; esac
"$NATTER" run -m "$Q" --kv f16 --temp 0 -n 4 -p "more" --conv "$qid" --db "$TEST_TMPDIR/q.db" \
    >/dev/null 2>"$E" || fail "run --kv f16 --conv failed"
expect_contains "$(cat "$E")" "(+0 cached)"

# 8. the cache directory removed between (or during) runs: made again, nothing else changes
rm -rf "$C"
"$NATTER" run -m "$M" --temp 0 -n 4 -p "Hi" --save --db "$TEST_TMPDIR/r.db" >/dev/null 2>"$E" ||
    fail "run after the cache directory was removed: $(cat "$E")"
[ -d "$C" ] || fail "the cache directory was not made again"
expect_eq "$(snapshots)" 1
pass
