#!/bin/sh
# tests/cli/eval.sh — natter eval (teacher-forced logits, reference format) and natter models.
. tests/lib.sh
need_shared
M="$SHARED/models/stories260K.gguf"
REF="$SHARED/reference/stories260K.ref"

# The first reference case: its top-1 ids must come out at every position.
toks=$(grep '^tokens ' "$REF" | head -1 | cut -d' ' -f2-)
out=$("$NATTER" eval -m "$M" --tokens "$toks" --top 3 --full 4 -t 2) || fail "eval exited $?"
n_tok=$(echo "$toks" | wc -w)
expect_eq "$(echo "$out" | grep -c '^top ')" "$n_tok"
expect_eq "$(echo "$out" | grep '^full 4 ' | wc -w)" "514"
ours=$(echo "$out" | awk '/^top /{split($3, a, ":"); printf "%s %s\n", $2, a[1]}')
refs=$(awk '/^case 1/{exit} /^top /{split($3, a, ":"); printf "%s %s\n", $2, a[1]}' "$REF")
expect_eq "$ours" "$refs"
expect_contains "$(echo "$out" | head -1)" "top 0 403:17.02"

# 1 and 2 threads print the same logits, to the last digit (quantized model, full vector).
Q="$SHARED/models/syn-llama-Q4_K_M.gguf"
a=$("$NATTER" eval -m "$Q" --tokens "1 80 147 309 24" --top 5 --full 3 -t 1) || fail "eval -t 1"
b=$("$NATTER" eval -m "$Q" --tokens "1 80 147 309 24" --top 5 --full 3 -t 2) || fail "eval -t 2"
expect_eq "$a" "$b"

# Errors: usage, bad ids, --full out of range, a missing model.
"$NATTER" eval -m "$M" >/dev/null 2>&1; expect_eq "$?" 2
"$NATTER" eval -m "$M" --tokens "1 x" >/dev/null 2>&1; expect_eq "$?" 2
"$NATTER" eval -m "$M" --tokens "1 600" >/dev/null 2>"$TEST_TMPDIR/err"; expect_eq "$?" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "out of range"
"$NATTER" eval -m "$M" --tokens "1 2" --full 2 >/dev/null 2>"$TEST_TMPDIR/err"; expect_eq "$?" 1
"$NATTER" eval -m /nonexistent.gguf --tokens "1" >/dev/null 2>"$TEST_TMPDIR/err"; expect_eq "$?" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "/nonexistent.gguf"

# models: one line per file; a broken file is an error line, not a crash.
out=$("$NATTER" models "$M" "$SHARED/models/syn-qwen2-Q4_K_M.gguf") || fail "models exited $?"
expect_eq "$(echo "$out" | wc -l | tr -d ' ')" "2"
expect_contains "$out" "stories260K.gguf: llama (llama, 292.80K params, F32, 1.13 MiB"
expect_contains "$out" "ctx 2048, chat template no)"
expect_contains "$out" "syn-qwen2 (qwen2,"
expect_contains "$out" "Q4_K_M = Q6_K,Q4_K,F32"
expect_contains "$out" "chat template yes)"
head -c 1000 "$M" > "$TEST_TMPDIR/cut.gguf"
"$NATTER" models "$TEST_TMPDIR/cut.gguf" "$M" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_eq "$(wc -l < "$TEST_TMPDIR/out" | tr -d ' ')" "1"
expect_contains "$(cat "$TEST_TMPDIR/err")" "cut.gguf"
NATTER_MODELS="$SHARED/models" "$NATTER" models >"$TEST_TMPDIR/all" 2>/dev/null || fail "models (search path) failed"
[ "$(wc -l < "$TEST_TMPDIR/all")" -ge 21 ] || fail "models listed too few files"
pass
