#!/bin/sh
# tests/cli/store_rough.sh — issue 17's rough edges of the store commands: search finds
# prefixes and text inside CJK, an empty result says so, ls of a database in a missing
# directory says so and creates nothing, an error names the file once.
. tests/lib.sh
DB="$TEST_TMPDIR/conv.db"
N() { "$NATTER" "$@" --db "$DB"; }
printf '%s' '[{"role":"user","content":"私は日本語を勉強します"},
 {"role":"assistant","content":"The pirate ship sailed; PIRATES everywhere."}]' >"$TEST_TMPDIR/c.json"
id=$(N import "$TEST_TMPDIR/c.json" | sed -n 's/^imported \([0-9a-f]*\) .*/\1/p')
[ -n "$id" ] || fail "import"

# a prefix finds the word ("pira" in "pirate"), case folded
expect_eq "$(N search pira)" "$id  私は日本語を勉強します
    assistant: The [pirate] ship sailed; [PIRATES] everywhere."
# two characters inside a CJK run, the message and the title made from it
expect_eq "$(N search 日本)" "$id  私は日本語を勉強します
    user: 私は[日本]語を勉強します
$id  私は日本語を勉強します
    title: 私は[日本]語を勉強します"
expect_eq "$(N search 本語 | sed -n 2p)" "    user: 私は日[本語]を勉強します"
expect_contains "$(N search --json 勉強)" '"snippet":"私は日本語を[勉強]します"'
# every word is required, CJK or not
out=$(N search 日本 pirate 2>"$TEST_TMPDIR/err") || fail "search exited $?"
expect_eq "$out" ""
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: no matches for '日本 pirate'"
N search nothinglikethis >/dev/null 2>"$TEST_TMPDIR/err" || fail "an empty search exited $?"
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: no matches for 'nothinglikethis'"
expect_eq "$(N search --json nothinglikethis)" "[]"

# a database in a directory that does not exist: nothing saved, nothing made
M="$TEST_TMPDIR/missing/dir/x.db"
out=$("$NATTER" ls --db "$M" 2>"$TEST_TMPDIR/err") || fail "ls --db MISSING exited $?"
expect_eq "$out" ""
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: no saved conversations (ls --all shows archived ones)"
expect_eq "$("$NATTER" ls --db "$M" --json)" "[]"
"$NATTER" search --db "$M" x 2>/dev/null || fail "search --db MISSING exited $?"
"$NATTER" show --db "$M" abcd 2>"$TEST_TMPDIR/err" && fail "show --db MISSING succeeded"
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: no conversation 'abcd' (nothing is saved yet)"
[ -e "$TEST_TMPDIR/missing" ] && fail "a read created $TEST_TMPDIR/missing"

# errors name the path once
err=$("$NATTER" tokenize -m "$TEST_TMPDIR/none.gguf" hi 2>&1)
expect_eq "$err" "natter: $TEST_TMPDIR/none.gguf: No such file or directory"
err=$("$NATTER" models "$TEST_TMPDIR/none.gguf" 2>&1)
expect_eq "$err" "natter: $TEST_TMPDIR/none.gguf: No such file or directory"
err=$("$NATTER" import --db "$DB" "$TEST_TMPDIR/none.json" 2>&1)
expect_eq "$err" "natter: $TEST_TMPDIR/none.json: No such file or directory"
# no models anywhere: models says where to put them (stdout stays empty)
mkdir -p "$TEST_TMPDIR/empty"
out=$(cd "$TEST_TMPDIR/empty" && NATTER_MODELS="$TEST_TMPDIR/empty" "$NATTER" models 2>"$TEST_TMPDIR/err") ||
    fail "models with none exited $?"
expect_eq "$out" ""
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: no models found: put .gguf files in"
pass
