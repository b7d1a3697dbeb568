# tests/cli/run.sh — `natter run`: greedy text equals llama.cpp's reference continuation (case 0
# of stories260K.ref), 1 and 2 threads agree, the prompt from a file and from stdin, the stats
# line on stderr, usage and load errors, the KV cache types (--kv).
. tests/lib.sh
need_shared
M="$SHARED/models/stories260K.gguf"
want=$(sed -n 's/^text //p' "$SHARED/reference/stories260K.ref" | head -n 1)

out=$("$NATTER" run -m "$M" --temp 0 -n 48 -p "Once upon a time" 2>"$TEST_TMPDIR/err") ||
    fail "run failed: $(cat "$TEST_TMPDIR/err")"
expect_eq "$out" "$want"
# natter: prompt N tokens (+M cached), X t/s; generated G tokens, Y t/s; first token T ms
grep -Eq '^natter: prompt 5 tokens \(\+0 cached\), [0-9]+\.[0-9]{2} t/s; generated 48 tokens, [0-9]+\.[0-9]{2} t/s; first token [0-9]+ ms$' \
    "$TEST_TMPDIR/err" || fail "stats line: $(cat "$TEST_TMPDIR/err")"

t1=$("$NATTER" run -m "$M" --temp 0 -n 48 -t 1 -p "Once upon a time" 2>/dev/null)
t2=$("$NATTER" run -m "$M" --temp 0 -n 48 -t 2 -p "Once upon a time" 2>/dev/null)
expect_eq "$t1" "$want"
expect_eq "$t2" "$want"

printf 'Once upon a time' >"$TEST_TMPDIR/p.txt"
out=$("$NATTER" run -m "$M" --temp=0 -n 48 -f "$TEST_TMPDIR/p.txt" 2>/dev/null)
expect_eq "$out" "$want"
out=$(printf 'Once upon a time' | "$NATTER" run -m "$M" --temp 0 --n-predict 48 2>/dev/null)
expect_eq "$out" "$want"

# sampling: the same seed gives the same text
s1=$("$NATTER" run -m "$M" --seed 7 -n 30 -p "Once upon a time" 2>/dev/null)
s2=$("$NATTER" run -m "$M" --seed 7 -n 30 -p "Once upon a time" 2>/dev/null)
[ -n "$s1" ] || fail "no sampled text"
expect_eq "$s2" "$s1"

"$NATTER" run -m "$M" --temp hot -p x >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "--temp"
"$NATTER" run -p x >/dev/null 2>&1
expect_eq "$?" 2
"$NATTER" run -m "$TEST_TMPDIR/none.gguf" -p x >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: "
# the KV cache's type: q8_0 / q4_0 where the heads allow, refused with a message where not
Q="$SHARED/models-2026/syn26-qwen3-F16.gguf"
for kv in f16 q8_0 q4_0; do
    out=$("$NATTER" run -m "$Q" --kv "$kv" --temp 0 -n 8 -p "hello" 2>"$TEST_TMPDIR/err") ||
        fail "run --kv $kv failed: $(cat "$TEST_TMPDIR/err")"
    expect_contains "$(cat "$TEST_TMPDIR/err")" "generated 8 tokens"
done
"$NATTER" run -m "$M" --kv q8_0 -p x >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "multiples of 32"
"$NATTER" run -m "$M" --kv q5 -p x >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "not f16, f32, q8_0 or q4_0"
pass
