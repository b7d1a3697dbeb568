#!/bin/sh
# tests/cli/run_save.sh — natter run --save [--conv ID]: the exchange is saved (same output as
# without --save), --conv gives the model the history and appends a turn, Ctrl-C saves the
# partial reply as "stopped", a wrong id fails before the model loads; a conversation continued
# from its snapshot on disk gives the same reply as one recomputed.
. tests/lib.sh
need_shared
M="$SHARED/models/stories260K.gguf"
DB="$TEST_TMPDIR/run.db"

"$NATTER" run -m "$M" --temp 0 -n 48 -p "Once upon a time" >"$TEST_TMPDIR/plain.txt" 2>/dev/null ||
    fail "run exited $?"
"$NATTER" run -m "$M" --temp 0 -n 48 -p "Once upon a time" --save --db "$DB" \
    >"$TEST_TMPDIR/saved.txt" 2>"$TEST_TMPDIR/err" || fail "run --save exited $?"
cmp -s "$TEST_TMPDIR/plain.txt" "$TEST_TMPDIR/saved.txt" || fail "--save changed the output"
id=$(sed -n 's/^natter: saved in conversation \([0-9a-f]\{8\}\)$/\1/p' "$TEST_TMPDIR/err")
[ -n "$id" ] || fail "no 'saved in conversation' line: $(cat "$TEST_TMPDIR/err")"

json=$("$NATTER" export "$id" --format json --db "$DB")
expect_contains "$json" '"title":"Once upon a time"'
expect_contains "$json" '"template":"completion"'
expect_contains "$json" "{\"id\":2,\"parent\":1,\"role\":\"assistant\",\"content\":\"$(cat "$TEST_TMPDIR/plain.txt")\""
expect_contains "$json" '"tokens":48'
expect_contains "$json" '"finish":"length"'

# --conv: the history is the context (5 prompt tokens + 48 generated + the new turn's); without
# the snapshot cache all 57 are processed, with it the 52 of the first run's context (its 48th
# token was never decoded) come from its snapshot, and the text is the same
cp "$DB" "$TEST_TMPDIR/nocache.db"
NATTER_CACHE_MAX=0 "$NATTER" run -m "$M" --temp 0 -n 8 -p " The end." --conv "$id" \
    --db "$TEST_TMPDIR/nocache.db" >"$TEST_TMPDIR/nocache.txt" 2>"$TEST_TMPDIR/err" ||
    fail "run --conv exited $?"
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: prompt 57 tokens (+0 cached)"
"$NATTER" run -m "$M" --temp 0 -n 8 -p " The end." --conv "$(echo "$id" | cut -c1-4)" \
    --db "$DB" >"$TEST_TMPDIR/cached.txt" 2>"$TEST_TMPDIR/err" || fail "run --conv exited $?"
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: prompt 5 tokens (+52 cached)"
cmp -s "$TEST_TMPDIR/nocache.txt" "$TEST_TMPDIR/cached.txt" || fail "the cache changed the reply"
expect_contains "$(cat "$TEST_TMPDIR/err")" "saved in conversation $id"
expect_contains "$("$NATTER" ls --json --db "$DB")" '"messages":4'

"$NATTER" run -m "$M" -p hi --conv ffffffff --db "$DB" >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 1
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: no conversation 'ffffffff'"

# Ctrl-C mid-reply: the partial reply is saved with finish "stopped", exit status 130
M2="$SHARED/models/syn-llama-F32.gguf"
[ -f "$M2" ] || pass
# (greedy, this model writes 418 tokens before its end token: about 2 s; we stop it at the first)
"$NATTER" run -m "$M2" --temp 0 -n 100000 --ctx 2048 -t 1 -p "Hello" --save --db "$TEST_TMPDIR/int.db" \
    >"$TEST_TMPDIR/out.txt" 2>/dev/null &
pid=$!
i=0
while [ ! -s "$TEST_TMPDIR/out.txt" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
expect_eq "$?" 130
json=$("$NATTER" export --all --format json --db "$TEST_TMPDIR/int.db")
expect_contains "$json" '"finish":"stopped"'
case "$json" in *'"role":"assistant","content":"",'*) fail "the partial reply was not saved";; esac
pass
