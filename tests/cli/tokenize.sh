#!/bin/sh
# tests/cli/tokenize.sh — natter tokenize: ids, --no-bos, --special, usage and load errors; the
# 2026 tokenizers (gemma4, gpt-4o, tekken, qwen35, falcon) when ../shared/vocab-2026 is there.
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

v26="$SHARED/vocab-2026"
if [ -f "$v26/ggml-vocab-gemma-4.gguf" ]; then
    # gemma4: no prefix space, spaces as U+2581, BOS always added; special text is text
    out=$("$NATTER" tokenize -m "$v26/ggml-vocab-gemma-4.gguf" "Hello world") || fail "exited $?"
    expect_eq "$out" "2 9259 1902"
    out=$("$NATTER" tokenize -m "$v26/ggml-vocab-gemma-4.gguf" --no-bos -- "<turn|>") || fail "exited $?"
    [ "$out" != "106" ] || fail "<turn|> was parsed as special without --special"
    out=$("$NATTER" tokenize -m "$v26/ggml-vocab-gemma-4.gguf" --no-bos --special "<turn|>") ||
        fail "exited $?"
    expect_eq "$out" "106"
    # gpt-4o: case splits and digits in threes; tekken: single digits, BOS on by default
    out=$("$NATTER" tokenize -m "$v26/ggml-vocab-gpt-4o.gguf" --no-bos -- "HelloWorld 12345") ||
        fail "exited $?"
    expect_eq "$out" "13225 13046 220 7633 2548"
    out=$("$NATTER" tokenize -m "$v26/ggml-vocab-tekken.gguf" "12") || fail "exited $?"
    expect_eq "$out" "1 1049 1050"
fi

"$NATTER" tokenize -m "$spm" >/dev/null 2>&1; expect_eq $? 2
"$NATTER" tokenize "text" >/dev/null 2>&1; expect_eq $? 2
"$NATTER" tokenize -m "$spm" --bogus "x" >/dev/null 2>&1; expect_eq $? 2

"$NATTER" tokenize -m "$TEST_TMPDIR/missing.gguf" "x" >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: $TEST_TMPDIR/missing.gguf: "
pass
