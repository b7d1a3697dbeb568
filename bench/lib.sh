# bench/lib.sh — sourced by bench/run.sh and bench/compare.sh. bench_models writes random-weight
# models of the shape $SHAPE, one per type in $TYPES, into $SCRATCH with build/tools/mkmodel
# (kept between runs: only missing ones are written). Shapes (real models' sizes):
#   tinyllama  llama, n_embd 2048, 22 layers, 32 heads / 4 KV heads, n_ff 5632, vocab 32000,
#              untied output (TinyLlama-1.1B; the default)
#   qwen3      qwen3, n_embd 1024, 28 layers, 16 / 8 heads of 128, n_ff 3072, vocab 151936,
#              tied (Qwen3-0.6B)
#   gemma3     gemma3, n_embd 1152, 26 layers, 4 / 1 heads of 256, n_ff 6912, window 512 on 5
#              layers of 6, vocab 262144, tied (Gemma 3 1B)
#   qwen3moe   qwen3moe, n_embd 2048, 6 layers (of 48), 32 / 4 heads of 128, 128 experts of
#              768, 8 used, vocab 151936 (Qwen3-30B-A3B with an eighth of its layers)
# Needs ROOT set; gives SCRATCH, SHAPE, THREADS, REPS, PP, TG, TYPES and VOCAB their defaults
# (each overridable from the environment); bench_model_path TYPE prints a model's path.
# bench_json_field FIELD pp|tg reads a `natter bench --json` (or bench/llamacpp/bench.mjs
# --json) array on stdin and prints FIELD (avg_ts, stddev_ts, ...) of its pp or tg object.
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/natter-bench}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
PP=${PP:-512}
TG=${TG:-128}
TYPES=${TYPES:-"Q4_0 Q4_K_M Q8_0"}
SHAPE=${SHAPE:-tinyllama}
case $SHAPE in
    tinyllama) bench_vocab=vocab/ggml-vocab-llama-spm.gguf
               bench_args="--arch llama --n-embd 2048 --n-layer 22 --n-head 32 --n-head-kv 4 --n-ff 5632"
               bench_name=tinyllama-1.1b-shape ;;
    qwen3) bench_vocab=vocab/ggml-vocab-qwen2.gguf
           bench_args="--arch qwen3 --n-embd 1024 --n-layer 28 --n-head 16 --n-head-kv 8 --head-dim 128 --n-ff 3072 --rope-base 1000000 --tied"
           bench_name=qwen3-0.6b-shape ;;
    gemma3) bench_vocab=vocab-2026/ggml-vocab-gemma-4.gguf
            bench_args="--arch gemma3 --n-embd 1152 --n-layer 26 --n-head 4 --n-head-kv 1 --head-dim 256 --n-ff 6912 --swa 512 --rope-base 1000000 --tied"
            bench_name=gemma3-1b-shape ;;
    qwen3moe) bench_vocab=vocab/ggml-vocab-qwen2.gguf
              bench_args="--arch qwen3moe --n-embd 2048 --n-layer 6 --n-head 32 --n-head-kv 4 --head-dim 128 --n-expert 128 --n-expert-used 8 --n-ff-exp 768 --rope-base 1000000"
              bench_name=qwen3-30b-a3b-6-layer-shape ;;
    *) echo "bench: unknown SHAPE $SHAPE (tinyllama, qwen3, gemma3, qwen3moe)" >&2; exit 2 ;;
esac
VOCAB=${VOCAB:-$ROOT/../shared/$bench_vocab}

bench_model_path() { printf '%s/%s-%s.gguf\n' "$SCRATCH" "$bench_name" "$1"; }

bench_models() {
    [ -f "$VOCAB" ] || { echo "bench: no vocab file $VOCAB (set VOCAB=...gguf)" >&2; return 1; }
    make -C "$ROOT" -s build/tools/mkmodel >&2 || return 1
    mkdir -p "$SCRATCH" || return 1
    for bm_t in $TYPES; do
        bm_f=$(bench_model_path "$bm_t")
        [ -s "$bm_f" ] && continue
        echo "bench: writing $bm_f" >&2
        # shellcheck disable=SC2086 # bench_args is a word list
        "$ROOT/build/tools/mkmodel" -o "$bm_f.tmp" -v "$VOCAB" --type "$bm_t" $bench_args \
            --ctx 4096 --seed 1 --name "$bench_name-$bm_t" || return 1
        mv "$bm_f.tmp" "$bm_f" || return 1
    done
}

bench_json_field() {
    awk -F': *' -v key="\"$1\"" -v want="$2" '
        $1 ~ /"n_prompt"/ { np = $2 + 0 }
        $1 ~ key && ((want == "pp" && np > 0) || (want == "tg" && np == 0)) {
            v = $2; sub(/,$/, "", v); print v; exit
        }'
}
