#!/bin/sh
# tests/cli/store.sh — natter ls/show/rename/rm/search/export/import on a scratch database:
# exact outputs, JSON round trip, prefixes, and bad input (corrupt database, unknown id,
# invalid JSON, read-only directory) that changes nothing.
. tests/lib.sh
export TZ=UTC
DB="$TEST_TMPDIR/conv.db"
N() { "$NATTER" "$@" --db "$DB"; }

# an empty database lists nothing
out=$(N ls) || fail "ls on a new database exited $?"
expect_eq "$out" ""
expect_eq "$(N ls --json)" "[]"

cat >"$TEST_TMPDIR/plain.json" <<'J'
[{"role": "system", "content": "You are terse."},
 {"role": "user", "content": "What is the capital of France?\nAnswer briefly."},
 {"role": "assistant", "content": "Paris."}]
J
out=$(N import "$TEST_TMPDIR/plain.json") || fail "import exited $?"
id=$(printf '%s' "$out" | sed -n 's/^imported \([0-9a-f]\{8\}\) (2 messages)$/\1/p')
[ -n "$id" ] || fail "import printed [$out]"

# ls: header + one row; --json has the fields the issue names
out=$(N ls)
expect_contains "$out" "ID        UPDATED (UTC)      MSGS  MODEL"
expect_contains "$out" "$id  "
expect_contains "$out" "      2  -                     What is the capital of France?"
json=$(N ls --json)
for k in '"id":"'$id'"' '"title":"What is the capital of France?"' '"created":"' '"updated":"' \
         '"model":null' '"messages":2'; do
    expect_contains "$json" "$k"
done

# show accepts a unique prefix
short=$(printf '%s' "$id" | cut -c1-3)
out=$(N show "$short") || fail "show $short exited $?"
expect_contains "$out" "── system prompt ──
You are terse."
expect_contains "$out" "What is the capital of France?
Answer briefly."
expect_contains "$out" "── assistant · "

# Markdown export
out=$(N export "$id") || fail "export exited $?"
expect_contains "$out" "# What is the capital of France?"
expect_contains "$out" "## System

You are terse.

## User

What is the capital of France?
Answer briefly.

## Assistant

Paris."

# search: ranked hits with snippets; JSON
out=$(N search capital)
expect_contains "$out" "    user: What is the [capital] of France? Answer briefly."
expect_contains "$(N search --json PARIS)" '"role":"assistant","message":'
expect_contains "$(N search --json PARIS)" '"snippet":"[Paris]."'
expect_eq "$(N search nothing-like-this)" ""

# rename, then the JSON export round-trips into a fresh database byte for byte
N rename "$id" Geography quiz || fail "rename exited $?"
expect_contains "$(N ls)" "Geography quiz"
N export "$id" --format json -o "$TEST_TMPDIR/one.json" || fail "export -o exited $?"
"$NATTER" import "$TEST_TMPDIR/one.json" --db "$TEST_TMPDIR/copy.db" >/dev/null || fail "re-import"
"$NATTER" export "$id" --format json --db "$TEST_TMPDIR/copy.db" >"$TEST_TMPDIR/two.json"
cmp -s "$TEST_TMPDIR/one.json" "$TEST_TMPDIR/two.json" || fail "export/import/export differs"
N export --all --format json >"$TEST_TMPDIR/all.json" || fail "export --all exited $?"
expect_eq "$(head -c 2 "$TEST_TMPDIR/all.json")" '[{'

# bad input: clear message, exit 1, nothing changed
before=$(N export --all --format json)
check_err() { # expected-rc expected-message command...
    want_rc=$1 want=$2; shift 2
    "$@" >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
    expect_eq "$rc" "$want_rc"
    expect_contains "$(cat "$TEST_TMPDIR/err")" "$want"
}
check_err 1 "natter: no conversation 'ffffffff'" N show ffffffff
check_err 1 "natter: no conversation 'nope'" N rm nope
check_err 1 "natter: no conversation 'ffffffff'" N export ffffffff -o "$TEST_TMPDIR/never.md"
[ ! -e "$TEST_TMPDIR/never.md" ] || fail "a failed export created its output file"
printf '[{"role": "user",\n  "content": "hi" "x"}]\n' >"$TEST_TMPDIR/bad.json"
check_err 1 "bad.json: invalid JSON at line 2, column 19" N import "$TEST_TMPDIR/bad.json"
printf '[{"role": "robot", "content": "hi"}]' >"$TEST_TMPDIR/role.json"
check_err 1 'message 1: "role" must be' N import "$TEST_TMPDIR/role.json"
check_err 1 "No such file or directory" N import "$TEST_TMPDIR/missing.json"
check_err 2 "usage: natter export" N export
check_err 2 "usage: natter ls" N ls --bogus
check_err 2 "usage: natter export" N export --all --format md
expect_eq "$(N export --all --format json)" "$before"

# a corrupt file at the database path is refused and left byte for byte
printf 'this is not a database\n' >"$TEST_TMPDIR/corrupt.db"
cp "$TEST_TMPDIR/corrupt.db" "$TEST_TMPDIR/corrupt.orig"
check_err 1 "corrupt.db: not an SQLite database (left untouched)" \
    "$NATTER" ls --db "$TEST_TMPDIR/corrupt.db"
cmp -s "$TEST_TMPDIR/corrupt.db" "$TEST_TMPDIR/corrupt.orig" || fail "corrupt file changed"

# NATTER_DB and the XDG default are used without --db
NATTER_DB="$DB" "$NATTER" ls | grep -q "Geography quiz" || fail "NATTER_DB not used"
# ls reads: with no database it says so and makes neither the file nor its directory
check_err 0 "natter: no saved conversations" "$NATTER" ls
[ -e "$XDG_DATA_HOME/natter" ] && fail "ls created $XDG_DATA_HOME/natter"
"$NATTER" import "$TEST_TMPDIR/plain.json" >/dev/null || fail "import with the XDG default exited $?"
[ -f "$XDG_DATA_HOME/natter/natter.db" ] || fail "no database under XDG_DATA_HOME"

# a read-only directory: a clear message (root ignores permissions: run that as nobody)
mkdir "$TEST_TMPDIR/ro" && chmod 555 "$TEST_TMPDIR/ro"
as_user=""
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null && as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
    $as_user "$NATTER" --version >/dev/null 2>&1 || as_user=skip
fi
if [ "$as_user" != skip ]; then
    check_err 1 "Permission denied" $as_user "$NATTER" ls --db "$TEST_TMPDIR/ro/n.db"
    [ ! -e "$TEST_TMPDIR/ro/n.db" ] || fail "a database appeared in a read-only directory"
fi

# stored text never drives the terminal: C0 and C1 controls are shown as '?'
printf '[{"role":"user","content":"a\\u001b[31mred\\u009b2Jx"}]' >"$TEST_TMPDIR/esc.json"
"$NATTER" import "$TEST_TMPDIR/esc.json" --db "$TEST_TMPDIR/esc.db" >/dev/null || fail "import esc"
expect_contains "$("$NATTER" ls --db "$TEST_TMPDIR/esc.db")" "a?[31mred?2Jx"

# a reply's reasoning: shown apart (each line after ┆), folded in Markdown, exported as
# reasoning_content and imported back byte for byte; search does not look into it
R="$TEST_TMPDIR/reason.db"
cat >"$TEST_TMPDIR/reason.json" <<'J'
[{"role": "user", "content": "What is 6 times 7?"},
 {"role": "assistant", "content": "42.", "reasoning_content": "Six sevens.\nThat is 42.\u001b[2J"}]
J
rid=$("$NATTER" import "$TEST_TMPDIR/reason.json" --db "$R" | sed -n 's/^imported \([0-9a-f]*\) .*/\1/p')
[ -n "$rid" ] || fail "import with reasoning_content"
out=$("$NATTER" show "$rid" --db "$R") || fail "show exited $?"
expect_contains "$out" "── assistant · "
expect_contains "$out" " ──
┆ Six sevens.
┆ That is 42.?[2J
42."
out=$("$NATTER" export "$rid" --db "$R") || fail "export md exited $?"
expect_contains "$out" "## Assistant

<details>
<summary>Reasoning</summary>

Six sevens."
expect_contains "$out" "</details>

42."
"$NATTER" export "$rid" --format json --db "$R" >"$TEST_TMPDIR/r1.json" || fail "export json"
expect_contains "$(cat "$TEST_TMPDIR/r1.json")" '"content":"42.","reasoning_content":"Six sevens.\nThat is 42.\u001b[2J"'
"$NATTER" import "$TEST_TMPDIR/r1.json" --db "$TEST_TMPDIR/reason2.db" >/dev/null || fail "re-import"
"$NATTER" export "$rid" --format json --db "$TEST_TMPDIR/reason2.db" >"$TEST_TMPDIR/r2.json"
cmp -s "$TEST_TMPDIR/r1.json" "$TEST_TMPDIR/r2.json" || fail "reasoning export/import/export differs"
expect_eq "$("$NATTER" search sevens --db "$R")" ""
expect_contains "$("$NATTER" search 42 --db "$R")" "assistant: [42]."

N rm "$short" >/dev/null || fail "rm exited $?"
expect_eq "$(N ls)" ""
pass
