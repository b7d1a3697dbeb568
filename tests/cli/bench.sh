# tests/cli/bench.sh — `natter bench` output shape (never its speed): the table rows and the
# peak RSS line, the JSON array's fields, usage errors.
. tests/lib.sh
need_shared
M="$SHARED/models/stories260K.gguf"
out=$("$NATTER" bench -m "$M" -p 16 -n 4 -r 2 -t 1 2>&1) || fail "bench failed: $out"
expect_contains "$out" "t/s"
expect_contains "$out" "pp16"
expect_contains "$out" "tg4"
expect_contains "$out" "peak RSS:"
json=$("$NATTER" bench -m "$M" -p 8 -n 2 -r 2 --json) || fail "bench --json failed"
[ "$(printf '%s\n' "$json" | head -n 1)" = "[" ] || fail "not a JSON array: $json"
[ "$(printf '%s\n' "$json" | grep -c '"avg_ts": [0-9]')" = 2 ] || fail "avg_ts: $json"
[ "$(printf '%s\n' "$json" | grep -c '"stddev_ts": [0-9]')" = 2 ] || fail "stddev_ts: $json"
expect_contains "$json" '"n_prompt": 8,'
expect_contains "$json" '"n_gen": 2,'
expect_contains "$json" '"n_gen": 0,'
expect_contains "$json" '"n_prompt": 0,'
if command -v python3 >/dev/null 2>&1; then
    printf '%s' "$json" | python3 -c 'import json,sys; a=json.load(sys.stdin); assert len(a)==2' ||
        fail "invalid JSON: $json"
fi
"$NATTER" bench -m "$M" -p 0 -n 0 >/dev/null 2>&1
expect_eq "$?" 2
"$NATTER" bench -m "$M" -r x >/dev/null 2>&1
expect_eq "$?" 2
"$NATTER" bench >/dev/null 2>&1
expect_eq "$?" 2
pass
