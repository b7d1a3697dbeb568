# tests/cli/mkmodel.sh — the model generator: the same seed writes the same bytes, and small
# llama / qwen2 / phi3 models in several file types load and generate, with the same greedy
# tokens on 1 and 2 threads.
. tests/lib.sh
need_shared
MK="$NATTER_TOOLS/mkmodel"
[ -x "$MK" ] || fail "no $MK"
V="$SHARED/vocab"
D="$TEST_TMPDIR"

"$MK" -o "$D/a.gguf" -v "$V/ggml-vocab-llama-spm.gguf" --type Q4_K_M --n-embd 256 --n-layer 2 \
    --n-ff 512 || fail "mkmodel failed"
"$MK" -o "$D/b.gguf" -v "$V/ggml-vocab-llama-spm.gguf" --type Q4_K_M --n-embd 256 --n-layer 2 \
    --n-ff 512 || fail "mkmodel failed"
cmp -s "$D/a.gguf" "$D/b.gguf" || fail "the same seed wrote different files"
"$MK" -o "$D/c.gguf" -v "$V/ggml-vocab-llama-spm.gguf" --type Q4_K_M --n-embd 256 --n-layer 2 \
    --n-ff 512 --seed 2 || fail "mkmodel failed"
cmp -s "$D/a.gguf" "$D/c.gguf" && fail "another seed wrote the same file"

check() { # file: greedy text on 1 and 2 threads, non-empty and equal
    o1=$("$NATTER" run -m "$1" --temp 0 -n 8 -t 1 -p "Hello" 2>"$D/err") ||
        fail "$1: $(cat "$D/err")"
    o2=$("$NATTER" run -m "$1" --temp 0 -n 8 -t 2 -p "Hello" 2>/dev/null)
    expect_contains "$(cat "$D/err")" "generated"
    expect_eq "$o2" "$o1"
}
check "$D/a.gguf"
for t in F16 Q8_0 Q4_0 Q6_K; do
    "$MK" -o "$D/l-$t.gguf" -v "$V/ggml-vocab-llama-spm.gguf" --type $t --n-embd 256 \
        --n-layer 1 --n-ff 256 || fail "mkmodel $t failed"
    check "$D/l-$t.gguf"
done
"$MK" -o "$D/q.gguf" -v "$V/ggml-vocab-qwen2.gguf" --arch qwen2 --type Q8_0 --n-embd 128 \
    --n-layer 1 --n-head 2 --n-head-kv 1 --n-ff 256 --rope-base 1000000 --tied ||
    fail "mkmodel qwen2 failed"
check "$D/q.gguf"
"$MK" -o "$D/p.gguf" -v "$V/ggml-vocab-phi-3.gguf" --arch phi3 --type Q4_0 --n-embd 256 \
    --n-layer 1 --n-head 8 --n-head-kv 8 --n-ff 256 || fail "mkmodel phi3 failed"
check "$D/p.gguf"
"$MK" -o "$D/x.gguf" -v "$V/ggml-vocab-llama-spm.gguf" --type Q3 >/dev/null 2>&1
expect_eq "$?" 2
pass
