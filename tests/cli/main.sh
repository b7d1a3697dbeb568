#!/bin/sh
# tests/cli/main.sh — global options: --help, --version, unknown commands and options.
. tests/lib.sh

out=$("$NATTER" --help) || fail "--help exited $?"
expect_contains "$out" "usage: natter"
expect_contains "$out" "Commands:"

out=$("$NATTER" --version) || fail "--version exited $?"
expect_eq "$out" "natter 0.1.0"

"$NATTER" frobnicate >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "unknown command 'frobnicate'"

"$NATTER" --no-such-option >/dev/null 2>"$TEST_TMPDIR/err" </dev/null; rc=$?
expect_eq "$rc" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "usage: natter"
pass
