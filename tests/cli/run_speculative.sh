# tests/cli/run_speculative.sh — `natter run --lookup N` and `--draft MODEL`: the same text as
# plain decoding (greedy and a fixed seed), the drafts line on stderr, a draft model with
# another vocabulary refused, a recurrent model decoding without drafts (with a note), bad
# values refused.
. tests/lib.sh
need_shared
M="$SHARED/models/stories260K.gguf"
L="$SHARED/models/syn-llama-Q4_K_M.gguf"
D="$SHARED/models/syn-llama-Q8_0.gguf"

for args in "--temp 0" "--seed 5 --temp 0.9"; do
    # shellcheck disable=SC2086 # args is a word list
    plain=$("$NATTER" run -m "$M" $args -n 160 -p "Once upon a time" 2>/dev/null) ||
        fail "plain run failed"
    # shellcheck disable=SC2086
    spec=$("$NATTER" run -m "$M" $args -n 160 --lookup 8 -p "Once upon a time" \
        2>"$TEST_TMPDIR/err") || fail "run --lookup failed: $(cat "$TEST_TMPDIR/err")"
    expect_eq "$spec" "$plain"
    expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: speculative: drafted "
done

plain=$("$NATTER" run -m "$L" --temp 0 -n 40 -p "hello world" 2>/dev/null) || fail "plain run"
spec=$("$NATTER" run -m "$L" --temp 0 -n 40 --draft "$D" --draft-max 4 -p "hello world" \
    2>"$TEST_TMPDIR/err") || fail "run --draft failed: $(cat "$TEST_TMPDIR/err")"
expect_eq "$spec" "$plain"
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: speculative: drafted "

"$NATTER" run -m "$L" --draft "$M" -n 4 -p hi >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "--draft $M: the draft model's vocabulary"

R="$SHARED/models-2026/syn26-lfm2-Q8_0.gguf"
plain=$("$NATTER" run -m "$R" --temp 0 -n 20 -p "hello" 2>/dev/null) || fail "plain lfm2"
spec=$("$NATTER" run -m "$R" --temp 0 -n 20 --lookup 4 -p "hello" 2>"$TEST_TMPDIR/err") ||
    fail "lfm2 --lookup failed"
expect_eq "$spec" "$plain"
expect_contains "$(cat "$TEST_TMPDIR/err")" "speculative decoding is off"

"$NATTER" run -m "$M" --lookup 99 -p x >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "--lookup"
pass
