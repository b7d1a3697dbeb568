#!/bin/sh
# tests/cli/robust.sh — odd bytes and files changing underneath, with the real binary: an import
# holding U+0000 and control characters goes through show, export (JSON and Markdown), search and
# import again byte for byte; invalid UTF-8 is replaced with a notice; NUL where a field cannot
# hold it is refused naming the message; `natter run` on a model file truncated mid-reply exits 1
# with "the model file changed on disk: reload it" and the partial reply is saved (finish error).
. tests/lib.sh
need_shared
D="$TEST_TMPDIR"
DB="$D/r.db"

# 1. U+0000 and ESC in a message: every path keeps them
printf '[{"role":"user","content":"a\\u0000b\\u001b[31m"},{"role":"assistant","content":"x\\u0000quux"}]' \
    >"$D/nul.json"
out=$("$NATTER" import "$D/nul.json" --db "$DB" 2>&1) || fail "import: $out"
id=$(echo "$out" | sed -n 's/^imported \([0-9a-f]\{8\}\) (2 messages)$/\1/p')
[ -n "$id" ] || fail "no id: $out"
"$NATTER" export "$id" --format json --db "$DB" >"$D/e1.json" || fail "export failed"
expect_contains "$(cat "$D/e1.json")" '"content":"a\u0000b\u001b[31m"'
expect_contains "$(cat "$D/e1.json")" '"content":"x\u0000quux"'
# show: control bytes, NUL included, made visible as '?', nothing cut
expect_contains "$("$NATTER" show "$id" --db "$DB")" "a?b?[31m"
expect_contains "$("$NATTER" show "$id" --db "$DB")" "x?quux"
# Markdown: bytes as they are, NUL written as U+2400
"$NATTER" export "$id" --db "$DB" -o "$D/e.md" || fail "export md failed"
grep -q "^x␀quux$" "$D/e.md" || fail "Markdown: $(od -c "$D/e.md" | tail -5)"
# search finds the text after the NUL
expect_contains "$("$NATTER" search quux --db "$DB")" "[quux]"
# exported, removed, imported again: the same bytes
"$NATTER" rm "$id" --db "$DB" >/dev/null || fail "rm failed"
"$NATTER" import "$D/e1.json" --db "$DB" >/dev/null || fail "import again failed"
"$NATTER" export "$id" --format json --db "$DB" >"$D/e2.json" || fail "export again failed"
cmp -s "$D/e1.json" "$D/e2.json" || fail "the round trip changed the export"

# 2. invalid UTF-8: replaced by U+FFFD, and said so on stderr
printf '[{"role":"user","content":"ok"},{"role":"user","content":"a\377b"}]' >"$D/bad.json"
"$NATTER" import "$D/bad.json" --db "$DB" >"$D/out" 2>"$D/err" || fail "import: $(cat "$D/err")"
expect_eq "$(cat "$D/err")" "natter: $D/bad.json: message 2: invalid UTF-8 replaced with U+FFFD"
bid=$(sed -n 's/^imported \([0-9a-f]*\) .*/\1/p' "$D/out")
expect_contains "$("$NATTER" export "$bid" --format json --db "$DB")" '"content":"a�b"'

# 3. a NUL where natter keeps a C string: refused, naming the message, nothing imported
printf '[{"role":"user","content":"ok"},{"role":"user\\u0000x","content":"y"}]' >"$D/role.json"
n_before=$("$NATTER" ls --db "$DB" | wc -l)
"$NATTER" import "$D/role.json" --db "$DB" >/dev/null 2>"$D/err"
expect_eq "$?" 1
expect_eq "$(cat "$D/err")" "natter: $D/role.json: message 2: \"role\", \"model\" and \"finish\" cannot hold a NUL byte (U+0000)"
expect_eq "$("$NATTER" ls --db "$DB" | wc -l)" "$n_before"

# 4. natter run: the model file truncated mid-reply (a 48 MB F32 model: ~10 s of reply)
"$NATTER_TOOLS/mkmodel" -o "$D/m.gguf" -v "$SHARED/vocab/ggml-vocab-llama-spm.gguf" --type F32 \
    --n-embd 256 --n-layer 2 --n-ff 512 --ctx 4096 || fail "mkmodel failed"
size=$(wc -c <"$D/m.gguf")
"$NATTER" run -m "$D/m.gguf" --temp 0 -n 3000 --ctx 4096 -t 2 -p "Hello" --save --db "$D/run.db" \
    >"$D/out.txt" 2>"$D/err" &
pid=$!
i=0
while [ ! -s "$D/out.txt" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$D/out.txt" ] || fail "no reply started"
truncate -s $((size / 2)) "$D/m.gguf"
wait $pid
expect_eq "$?" 1
expect_eq "$(cat "$D/err")" "natter: the model file changed on disk: reload it"
json=$("$NATTER" export --all --format json --db "$D/run.db")
expect_contains "$json" '"finish":"error"'
printf '%s' "$json" | grep -Eq '"tokens":[1-9][0-9]*,"prompt_tps":' || fail "no token count: $json"
# the partial reply is what was printed (the Markdown export holds it as it is)
"$NATTER" export --db "$D/run.db" "$("$NATTER" ls --json --db "$D/run.db" | cut -c9-16)" \
    -o "$D/run.md" || fail "export md failed"
reply=$(awk 'f { print } /^## Assistant$/ { f = 1; getline }' "$D/run.md")
[ -n "$reply" ] || fail "the partial reply was not saved: $json"
[ "$reply" = "$(cat "$D/out.txt")" ] || fail "the saved reply is not what was printed"
pass
