# tests/cli/bench.sh — `natter bench` output shape (never its speed): the table rows and the
# peak RSS line, the JSON array's fields, the depth option, usage errors.
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
expect_contains "$json" '"n_depth": 0,'
# -d: the tests run after that many tokens already in the context (llama-bench's depth)
out=$("$NATTER" bench -m "$M" -p 8 -n 2 -d 20 -r 1 -t 1 2>&1) || fail "bench -d failed: $out"
expect_contains "$out" "pp8 @ d20"
expect_contains "$out" "tg2 @ d20"
json=$("$NATTER" bench -m "$M" -p 4 -n 0 -d 7 -r 1 --json) || fail "bench -d --json failed"
expect_contains "$json" '"n_depth": 7,'
"$NATTER" bench -m "$M" -d -1 >/dev/null 2>&1
expect_eq "$?" 2
json=$("$NATTER" bench -m "$M" -p 8 -n 2 -r 2 --json) || fail "bench --json failed"
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
