#!/bin/sh
# tests/cli/run_chat.sh — natter run's one rule for the prompt (issue 17): a model with a chat
# template gets -p as a user message through it (exactly the tokens of `template tokens`), -s
# NAME|TEXT the system message, --raw the text as is (the tokens of `tokenize --special`);
# -m finds a model by name or unique prefix in the search path (an ambiguous or unknown one is
# a one-line error); --conv ID without -m loads the conversation's own model; a built-in
# format's "bos" line gives one BOS; a stdout that cannot be written exits 1 (issue 20).
. tests/lib.sh
need_shared
Q="$SHARED/models/syn-qwen2-Q8_0.gguf"
S="$SHARED/models/stories260K.gguf"
D="$TEST_TMPDIR"

# -p through the model's own template
printf '[{"role":"user","content":"hi"}]' >"$D/u.json"
want=$("$NATTER" template tokens -m "$Q" <"$D/u.json")
NATTER_PROMPT_LOG="$D/log1" "$NATTER" run -m "$Q" --temp 0 -n 2 -p hi >/dev/null 2>"$D/err" ||
    fail "run: $(cat "$D/err")"
expect_eq "$(cat "$D/log1")" "$want"

# -s TEXT: the system message; -s NAME: the named system prompt's text
printf '[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]' >"$D/s.json"
want=$("$NATTER" template tokens -m "$Q" <"$D/s.json")
NATTER_PROMPT_LOG="$D/log2" "$NATTER" run -m "$Q" --temp 0 -n 2 -s "Be brief." -p hi \
    >/dev/null 2>"$D/err" || fail "run -s: $(cat "$D/err")"
expect_eq "$(cat "$D/log2")" "$want"
NATTER_PROMPT_LOG="$D/log3" "$NATTER" run -m "$Q" --temp 0 -n 2 -s concise -p hi \
    >/dev/null 2>"$D/err" || fail "run -s concise: $(cat "$D/err")"
[ "$(cat "$D/log3")" != "$(cat "$D/log1")" ] || fail "-s concise changed nothing"
"$NATTER" run -m "$Q" --temp 0 -n 1 -s nosuchprompt -p hi >/dev/null 2>"$D/err" ||
    fail "run -s nosuchprompt: $(cat "$D/err")"
expect_contains "$(cat "$D/err")" "-s: no system prompt named 'nosuchprompt'"

# --raw: the text as is
NATTER_PROMPT_LOG="$D/log4" "$NATTER" run -m "$Q" --temp 0 -n 2 --raw -p hi >/dev/null 2>&1 ||
    fail "run --raw"
expect_eq "$(cat "$D/log4")" "$("$NATTER" tokenize -m "$Q" --special hi)"
"$NATTER" run -m "$Q" --raw -s x -p hi >/dev/null 2>"$D/err"
expect_eq "$?" 2

# -m by name and by unique prefix from the search path; ambiguous and unknown names fail
mkdir -p "$D/models"
A=$(cd "$SHARED/models" && pwd)
ln -s "$A/stories260K.gguf" "$D/models/stories260K.gguf"
ln -s "$A/syn-llama-Q8_0.gguf" "$D/models/zz-a.gguf"
ln -s "$A/syn-llama-Q4_0.gguf" "$D/models/zz-b.gguf"
plain=$("$NATTER" run -m "$S" --temp 0 -n 8 -p "Once" 2>/dev/null)
for name in stories260K stories260K.gguf stor STORIES; do
    out=$(NATTER_MODELS="$D/models" "$NATTER" run -m "$name" --temp 0 -n 8 -p "Once" \
        2>"$D/err") || fail "run -m $name: $(cat "$D/err")"
    expect_eq "$out" "$plain"
done
NATTER_MODELS="$D/models" "$NATTER" run -m zz -p x >/dev/null 2>"$D/err"
expect_eq "$?" 1
expect_eq "$(cat "$D/err")" "natter: 'zz' names 2 models: zz-a.gguf, zz-b.gguf"
NATTER_MODELS="$D/models" "$NATTER" run -m zebra -p x >/dev/null 2>"$D/err"
expect_eq "$?" 1
expect_contains "$(cat "$D/err")" "no model 'zebra'"

# --conv ID without -m: the conversation's own model (the same text as giving it)
DB="$D/c.db"
"$NATTER" run -m "$S" --temp 0 -n 8 -p "Once" --save --db "$DB" >/dev/null 2>"$D/err" ||
    fail "run --save: $(cat "$D/err")"
id=$(sed -n 's/^natter: saved in conversation \([0-9a-f]\{8\}\)$/\1/p' "$D/err")
[ -n "$id" ] || fail "no id: $(cat "$D/err")"
cp "$DB" "$D/c2.db"
a=$(NATTER_CACHE_MAX=0 "$NATTER" run --conv "$id" --db "$DB" --temp 0 -n 8 -p " Then" \
    2>"$D/err") || fail "run --conv without -m: $(cat "$D/err")"
b=$(NATTER_CACHE_MAX=0 "$NATTER" run -m "$S" --conv "$id" --db "$D/c2.db" --temp 0 -n 8 \
    -p " Then" 2>/dev/null) || fail "run --conv -m"
expect_eq "$a" "$b"
expect_contains "$("$NATTER" ls --json --db "$DB")" '"messages":4'

# stdout that cannot be written: exit 1 and why (the reply is still saved)
if [ -w /dev/full ]; then
    "$NATTER" run -m "$S" --temp 0 -n 4 -p "Once" --save --db "$D/full.db" >/dev/full 2>"$D/err"
    expect_eq "$?" 1
    expect_contains "$(cat "$D/err")" "natter: stdout: No space left on device"
    expect_contains "$("$NATTER" export --all --format json --db "$D/full.db")" '"finish":"length"'
fi

# one BOS with a built-in format's bos line, whatever the vocabulary's BOS spells
for m in "$S" "$SHARED/models/syn-llama-Q8_0.gguf"; do
    t=$("$NATTER" template tokens -m "$m" --template gigachat <"$D/u.json")
    bos=$("$NATTER" tokenize -m "$m" "" | cut -d' ' -f1)
    case "$t" in "$bos $bos "*) fail "$m: two BOS: $t";; "$bos "*) ;; *) fail "$m: no BOS: $t";; esac
done
pass
