#!/bin/sh
# tests/cli/store_tree.sh — conversations as trees on the command line: an export with
# versions (siblings) imports into the same tree, `natter show --tree` outlines it (exact
# output), `show` and the Markdown export follow the active path, the JSON export round-trips
# byte for byte, `natter run --conv` continues the active path and leaves the oldest turns out
# of a conversation longer than the context (not a pinned one), and a prompt refused for not
# fitting the context saves nothing.
. tests/lib.sh
export TZ=UTC
DB="$TEST_TMPDIR/tree.db"
N() { "$NATTER" "$@" --db "$DB"; }

cat >"$TEST_TMPDIR/tree.json" <<'J'
{"id":"0badc0de","title":"Tree","created":"2026-11-21T14:34:10.123Z",
 "updated":"2026-11-21T14:40:00.000Z","leaf":4,"messages":[
 {"role":"system","content":"Be brief."},
 {"id":1,"parent":0,"role":"user","content":"Name a colour.\nJust one.","created":"2026-11-21T14:34:11.000Z"},
 {"id":2,"parent":1,"role":"assistant","content":"Red.","created":"2026-11-21T14:34:12.000Z"},
 {"id":3,"parent":1,"role":"assistant","content":"Blue.","pinned":true,"created":"2026-11-21T14:34:13.000Z"},
 {"id":4,"parent":3,"role":"user","content":"Another?","created":"2026-11-21T14:34:14.000Z"},
 {"id":5,"parent":0,"role":"user","content":"Name a number.","created":"2026-11-21T14:34:15.000Z"}]}
J
expect_eq "$(N import "$TEST_TMPDIR/tree.json")" "imported 0badc0de (5 messages)"

# the whole tree, the active path marked
out=$(N show 0bad --tree)
expect_eq "$out" "Tree
id 0badc0de · created 2026-11-21 14:34 UTC · 5 messages

── system prompt ──
Be brief.

── messages (* the active path, ‹version/versions›) ──
* 1 user ‹1/2›: Name a colour.…
  - 2 assistant ‹1/2›: Red.
  * 3 assistant ‹2/2› pinned: Blue.
    * 4 user: Another?
- 5 user ‹2/2›: Name a number."

# show: the active path, with the versions marked
out=$(N show 0bad | sed -n '/^──/p')
expect_eq "$out" "── system prompt ──
── user · 2026-11-21 14:34 · ‹1/2› ──
── assistant · 2026-11-21 14:34 · ‹2/2› · pinned ──
── user · 2026-11-21 14:34 ──"

# Markdown: the active path only
md=$(N export 0bad --format md)
expect_eq "$(printf '%s\n' "$md" | sed -n '/^## /p' | tr '\n' ' ')" "## System ## User ## Assistant ## User "
expect_contains "$md" "Blue."
case "$md" in *Red.*|*number*) fail "the Markdown export left the active path";; esac

# search finds every version, and says which are not on the active path
expect_eq "$(N search red)" "0badc0de  Tree
    assistant (another version): [Red]."
expect_eq "$(N search blue)" "0badc0de  Tree
    assistant: [Blue]."

# JSON: the whole tree, byte for byte through another database
N export 0bad --format json -o "$TEST_TMPDIR/a.json" || fail "export exited $?"
expect_contains "$(cat "$TEST_TMPDIR/a.json")" '"leaf":4,"messages":[{"role":"system"'
expect_contains "$(cat "$TEST_TMPDIR/a.json")" '{"id":5,"parent":0,"role":"user","content":"Name a number."'
"$NATTER" import "$TEST_TMPDIR/a.json" --db "$TEST_TMPDIR/b.db" >/dev/null || fail "import exited $?"
"$NATTER" export 0badc0de --format json -o "$TEST_TMPDIR/b.json" --db "$TEST_TMPDIR/b.db"
cmp -s "$TEST_TMPDIR/a.json" "$TEST_TMPDIR/b.json" || fail "the round trip changed the export:
$(cat "$TEST_TMPDIR/a.json")
$(cat "$TEST_TMPDIR/b.json")"

# a bad parent link is refused, naming the message; nothing is written
printf '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b","parent":2}]}' \
    >"$TEST_TMPDIR/bad.json"
out=$(N import "$TEST_TMPDIR/bad.json" 2>&1)
expect_eq "$?" 1
expect_contains "$out" 'message 2: "parent" must be the number of an earlier message, or 0'
expect_eq "$(N ls --json | grep -o '"id"' | wc -l)" "1"

# natter run --conv continues the active path (the system prompt, 1, 3, 4, then the prompt)
need_shared
M="$SHARED/models/stories260K.gguf"
N run -m "$M" --temp 0 -n 4 -p "Green." --conv 0bad >/dev/null 2>"$TEST_TMPDIR/err" ||
    fail "run --conv exited $?: $(cat "$TEST_TMPDIR/err")"
out=$(N show 0bad --tree | tail -4 | sed 's/: .*//')
expect_eq "$out" "    * 4 user
      * 6 user
        * 7 assistant
- 5 user ‹2/2›"
expect_contains "$(N show 0bad --tree)" "* 6 user: Green."

# a conversation longer than the context: the oldest turn is left out (said on stderr), the
# system prompt kept, the model given exactly the rest (the tokens of `template tokens`); a
# pinned turn stays and the next one goes instead
fit() { # $1: "pinned":true or nothing on the first turn; the imported conversation's id
    printf '{"title":"Fit","messages":[{"role":"system","content":"Be kind."},'\
'{"role":"user","content":"One day a cat."%s},{"role":"assistant","content":"The cat ran."},'\
'{"role":"user","content":"Then a dog came."},{"role":"assistant","content":"The dog sat."},'\
'{"role":"user","content":"A bird sang."},{"role":"assistant","content":"It was a nice day."}]}' \
        "$1" >"$TEST_TMPDIR/fit.json"
    N import "$TEST_TMPDIR/fit.json" | sed -n 's/^imported \([0-9a-f]*\) .*/\1/p'
}
turn() { printf '{"role":"user","content":"%s"},{"role":"assistant","content":"%s"},' "$@"; }
for pin in "" ',"pinned":true'; do
    fid=$(fit "$pin")
    [ -n "$fid" ] || fail "import of the long conversation failed"
    if [ -n "$pin" ]; then keptturns="$(turn "One day a cat." "The cat ran.")"
    else keptturns="$(turn "Then a dog came." "The dog sat.")"; fi
    printf '[{"role":"system","content":"Be kind."},%s%s{"role":"user","content":"Good."}]' \
        "$keptturns" "$(turn "A bird sang." "It was a nice day.")" >"$TEST_TMPDIR/kept.json"
    printf '[{"role":"system","content":"Be kind."},%s%s%s{"role":"user","content":"Good."}]' \
        "$(turn "One day a cat." "The cat ran.")" "$(turn "Then a dog came." "The dog sat.")" \
        "$(turn "A bird sang." "It was a nice day.")" >"$TEST_TMPDIR/all.json"
    all=$("$NATTER" template tokens -m "$M" <"$TEST_TMPDIR/all.json" | wc -w)
    want=$("$NATTER" template tokens -m "$M" <"$TEST_TMPDIR/kept.json" | tr '\n' ' ' | sed 's/ *$//')
    ctx=$((all + 2)) # the whole plus the reply's 4 tokens does not fit; without a turn it does
    rm -f "$TEST_TMPDIR/log"
    NATTER_PROMPT_LOG="$TEST_TMPDIR/log" N run -m "$M" --temp 0 -n 4 --ctx "$ctx" -p "Good." \
        --conv "$fid" >/dev/null 2>"$TEST_TMPDIR/err" || fail "run --conv exited $?: $(cat "$TEST_TMPDIR/err")"
    expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: 2 oldest messages left out of the context"
    expect_eq "$(cat "$TEST_TMPDIR/log")" "$want"
    expect_contains "$(N show "$fid" --tree)" "* 8 assistant"
done

# what must stay does not fit (the prompt alone): refused, an error, and nothing saved
before=$(N export 0bad --format json)
N run -m "$M" --temp 0 -n 4 --ctx 32 -p "$(printf 'word %.0s' $(seq 60))" --conv 0bad \
    >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "nothing saved"
expect_eq "$(N export 0bad --format json)" "$before"
pass
