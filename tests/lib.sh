# tests/lib.sh — helpers for the CLI test scripts (sourced). The runner sets NATTER (the
# binary), SHARED (../shared or empty) and TEST_TMPDIR (a fresh directory); exit 0 passes,
# 77 skips, anything else fails.
set -u
export XDG_DATA_HOME="$TEST_TMPDIR/data" XDG_CONFIG_HOME="$TEST_TMPDIR/config" \
    XDG_CACHE_HOME="$TEST_TMPDIR/cache" NATTER_DB=
unset NATTER_CACHE_MAX 2>/dev/null
unset NATTER_MODELS NO_COLOR 2>/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
pass() { exit 0; }
need_shared() { [ -n "$SHARED" ] && [ -d "$SHARED/models" ] || skip "../shared is absent"; }
expect_eq() { [ "$1" = "$2" ] || fail "expected [$2], got [$1]"; }
expect_contains() {
    case "$1" in *"$2"*) ;; *) fail "expected output to contain [$2], got [$1]";; esac
}
