#!/bin/sh
# tests/cli/argv.sh — every command answers --help and a bad option the same way (src/argv.c):
# `natter CMD --help` prints its usage to stdout and exits 0; an unknown option prints one
# line "natter: CMD: unknown option '...'" and the usage hint to stderr and exits 2.
. tests/lib.sh
out="$TEST_TMPDIR/out" err="$TEST_TMPDIR/err"
for cmd in run tokenize eval models bench ls show rename rm search export import template \
    "template render" "template tokens" prompts cache; do
    # shellcheck disable=SC2086 # the command's words
    "$NATTER" $cmd --help >"$out" 2>"$err"
    st=$?
    [ "$st" -eq 0 ] || fail "$cmd --help exited $st: $(cat "$err")"
    [ -s "$err" ] && fail "$cmd --help wrote to stderr: $(cat "$err")"
    head -n 1 "$out" | grep -q "^usage: natter $cmd" || fail "$cmd --help printed [$(cat "$out")]"
    "$NATTER" $cmd -h >"$TEST_TMPDIR/out2" 2>&1 || fail "$cmd -h exited $?"
    cmp -s "$out" "$TEST_TMPDIR/out2" || fail "$cmd -h differs from --help"

    "$NATTER" $cmd --no-such-option >"$out" 2>"$err"
    st=$?
    [ "$st" -eq 2 ] || fail "$cmd --no-such-option exited $st"
    [ -s "$out" ] && fail "$cmd --no-such-option wrote to stdout: $(cat "$out")"
    expect_eq "$(sed -n 1p "$err")" "natter: $cmd: unknown option '--no-such-option'"
    expect_eq "$(sed -n 2p "$err" | cut -c1-$((15 + ${#cmd})))" "usage: natter $cmd "
    expect_eq "$(sed -n 3p "$err")" "Try 'natter $cmd --help'."
    expect_eq "$(wc -l <"$err" | tr -d ' ')" 3
done

# an option's value: after '=' as after a space; a missing one is a usage error
"$NATTER" ls --db="$TEST_TMPDIR/a.db" >/dev/null 2>&1 || fail "ls --db=PATH exited $?"
"$NATTER" ls --db >"$out" 2>"$err"
expect_eq "$?" 2
expect_eq "$(sed -n 1p "$err")" "natter: ls: option --db needs a value"
"$NATTER" ls --json=yes >"$out" 2>"$err"
expect_eq "$?" 2
expect_eq "$(sed -n 1p "$err")" "natter: ls: option --json takes no value"
# a bad number names the option and the range
"$NATTER" eval -m x --tokens 1 --top many >"$out" 2>"$err"
expect_eq "$?" 2
expect_eq "$(sed -n 1p "$err")" "natter: eval: --top: 'many' is not a whole number from 0 to 1000000"
# "--" ends the options: an operand that starts with a dash
"$NATTER" tokenize --help -- >/dev/null || fail "tokenize --help -- exited $?"
pass
