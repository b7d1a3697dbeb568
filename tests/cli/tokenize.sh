#!/bin/sh
# tests/cli/tokenize.sh — natter tokenize: ids, --no-bos, --special, usage and load errors.
. tests/lib.sh
need_shared

spm="$SHARED/vocab/ggml-vocab-llama-spm.gguf"
out=$("$NATTER" tokenize -m "$spm" "Hello world") || fail "tokenize exited $?"
expect_eq "$out" "1 15043 3186"
out=$("$NATTER" tokenize -m "$spm" --no-bos "Hello world") || fail "tokenize --no-bos exited $?"
expect_eq "$out" "15043 3186"
# special-token text is plain text unless --special
out=$("$NATTER" tokenize -m "$spm" --no-bos "<s>") || fail "exited $?"
expect_eq "$out" "529 29879 29958"
out=$("$NATTER" tokenize -m "$spm" --no-bos --special "<s>Hello") || fail "exited $?"
expect_eq "$out" "1 15043"

bpe="$SHARED/vocab/ggml-vocab-llama-bpe.gguf"
out=$("$NATTER" tokenize -m "$bpe" --special "<|start_header_id|>user<|end_header_id|>

Hi<|eot_id|>") || fail "exited $?"
expect_eq "$out" "128000 128006 882 128007 271 13347 128009"

# the prompt tokens of the reference run on stories260K
out=$("$NATTER" tokenize -m "$SHARED/models/stories260K.gguf" "Once upon a time") || fail "exited $?"
expect_eq "$out" "1 403 407 261 378"

out=$("$NATTER" tokenize -m "$spm" --no-bos "") || fail "empty text exited $?"
expect_eq "$out" ""

"$NATTER" tokenize -m "$spm" >/dev/null 2>&1; expect_eq $? 2
"$NATTER" tokenize "text" >/dev/null 2>&1; expect_eq $? 2
"$NATTER" tokenize -m "$spm" --bogus "x" >/dev/null 2>&1; expect_eq $? 2

"$NATTER" tokenize -m "$TEST_TMPDIR/missing.gguf" "x" >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: $TEST_TMPDIR/missing.gguf: "
pass
