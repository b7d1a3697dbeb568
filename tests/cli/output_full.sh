#!/bin/sh
# tests/cli/output_full.sh — a command whose output cannot be written (stdout on /dev/full)
# says so on stderr and exits 1, for every command that prints; the same commands exit 0 on a
# writable stdout (so the 1 is the output's doing).
. tests/lib.sh
[ -w /dev/full ] || skip "no /dev/full"
DB="$TEST_TMPDIR/conv.db"
printf '%s' '[{"role":"user","content":"pirates of the sea"},{"role":"assistant","content":"Arr."}]' \
    >"$TEST_TMPDIR/c.json"
"$NATTER" import --db "$DB" "$TEST_TMPDIR/c.json" >/dev/null || fail "import exited $?"
id=$("$NATTER" ls --db "$DB" | sed -n '2s/ .*//p')
err="$TEST_TMPDIR/err"

full() { # full CMD...: exits 1 with the one line when stdout is /dev/full, 0 otherwise
    "$@" >/dev/null 2>"$err" || fail "$* exited $? on a writable stdout: $(cat "$err")"
    "$@" >/dev/full 2>"$err"
    st=$?
    [ "$st" -eq 1 ] || fail "$* >/dev/full exited $st"
    grep -q "^natter: cannot write the output: " "$err" || fail "$* >/dev/full said [$(cat "$err")]"
}
full "$NATTER" --help
full "$NATTER" --version
full "$NATTER" ls --help
full "$NATTER" ls --db "$DB"
full "$NATTER" ls --db "$DB" --json
full "$NATTER" show --db "$DB" "$id"
full "$NATTER" search --db "$DB" pirates
full "$NATTER" search --db "$DB" --json pirates
full "$NATTER" export --db "$DB" "$id"
full "$NATTER" export --db "$DB" "$id" --format json -o -
full "$NATTER" export --db "$DB" --all
full "$NATTER" import --db "$TEST_TMPDIR/other.db" "$TEST_TMPDIR/c.json"
full "$NATTER" template list
full "$NATTER" template show chatml
printf '%s' '[{"role":"user","content":"hi"}]' >"$TEST_TMPDIR/hi.json"
full sh -c '"$0" template render chatml <"$1"' "$NATTER" "$TEST_TMPDIR/hi.json"
full "$NATTER" prompts
full "$NATTER" cache ls

if [ -n "$SHARED" ] && [ -d "$SHARED/models" ]; then
    M="$SHARED/models/stories260K.gguf"
    full "$NATTER" models "$M"
    full "$NATTER" tokenize -m "$M" "Once upon a time"
    full "$NATTER" eval -m "$M" --tokens "1 403" --top 3
    full "$NATTER" run -m "$M" -p "Once upon a time" -n 8 --temp 0
    full "$NATTER" bench -m "$M" -p 8 -n 4 -r 1
    full sh -c '"$0" template tokens -m "$1" <"$2"' "$NATTER" "$SHARED/models/syn-qwen2-Q8_0.gguf" \
        "$TEST_TMPDIR/hi.json"
    full "$NATTER" template detect "$SHARED/models/syn-qwen2-Q8_0.gguf"
else
    echo "skipped: models, tokenize, eval, run, bench, template tokens/detect (../shared is absent)"
fi
pass
