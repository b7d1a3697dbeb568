#!/bin/sh
# tests/cli/man.sh — the man page lints clean and names every subcommand natter --help lists.
. tests/lib.sh
command -v mandoc >/dev/null || fail "mandoc is not installed (make deps)"
out=$(mandoc -Tlint -W warning man/natter.1 2>&1) || fail "mandoc -Tlint: $out"
[ -z "$out" ] || fail "mandoc -Tlint: $out"
for c in $("$NATTER" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF>1{print $1}'); do
    grep -q "^\.It Cm $c\b" man/natter.1 || fail "man/natter.1 does not document '$c'"
done
pass
