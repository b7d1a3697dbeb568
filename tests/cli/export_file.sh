#!/bin/sh
# tests/cli/export_file.sh — `natter export -o FILE` writes the file whole or not at all
# (src/export.h): the same bytes as to stdout in both formats, a new file's mode from the umask,
# an old file replaced only on success, no temporary file left behind, a one-line error and
# exit 1 for a directory that is not there.
. tests/lib.sh
D="$TEST_TMPDIR"
N() { "$NATTER" "$@" --db "$D/x.db"; }
printf '{"title":"T","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}' \
    >"$D/c.json"
id=$(N import "$D/c.json" | sed -n 's/^imported \([0-9a-f]*\) .*/\1/p')
[ -n "$id" ] || fail "import failed"
for fmt in md json; do
    N export "$id" --format $fmt >"$D/stdout.$fmt" || fail "export $fmt exited $?"
    (umask 027 && N export "$id" --format $fmt -o "$D/out.$fmt") || fail "export -o exited $?"
    cmp -s "$D/stdout.$fmt" "$D/out.$fmt" || fail "$fmt: -o wrote other bytes than stdout"
    expect_eq "$(stat -c %a "$D/out.$fmt")" "640"
done
echo old >"$D/keep.json"
N export ffffffff --format json -o "$D/keep.json" 2>/dev/null
expect_eq "$?" 1
expect_eq "$(cat "$D/keep.json")" "old"
N export "$id" --format json -o "$D/nodir/x.json" 2>"$D/err"
expect_eq "$?" 1
expect_eq "$(cat "$D/err")" "natter: $D/nodir/x.json: No such file or directory"
expect_eq "$(ls "$D" | grep -c XXXXXX\\\|'\.json\.')" "0"
pass
