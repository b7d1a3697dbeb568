# bench/lib.sh — sourced by bench/run.sh and bench/compare.sh. bench_models writes the random-weight
# models shaped like TinyLlama-1.1B (llama, n_embd 2048, 22 layers, 32 heads / 4 KV heads,
# n_ff 5632, vocab 32000, untied output), one per type in $TYPES, into $SCRATCH with
# build/tools/mkmodel (kept between runs: only missing ones are written).
# Needs ROOT set; gives SCRATCH, THREADS, REPS, PP, TG, TYPES and VOCAB their defaults (each
# overridable from the environment); bench_model_path TYPE prints a model's path.
# bench_json_field FIELD pp|tg reads a `natter bench --json` (or bench/llamacpp/bench.mjs
# --json) array on stdin and prints FIELD (avg_ts, stddev_ts, ...) of its pp or tg object.
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/natter-bench}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
PP=${PP:-512}
TG=${TG:-128}
TYPES=${TYPES:-"Q4_0 Q4_K_M Q8_0"}
VOCAB=${VOCAB:-$ROOT/../shared/vocab/ggml-vocab-llama-spm.gguf}

bench_model_path() { printf '%s/tinyllama-1.1b-shape-%s.gguf\n' "$SCRATCH" "$1"; }

bench_models() {
    [ -f "$VOCAB" ] || { echo "bench: no vocab file $VOCAB (set VOCAB=...gguf)" >&2; return 1; }
    make -C "$ROOT" -s build/tools/mkmodel >&2 || return 1
    mkdir -p "$SCRATCH" || return 1
    for bm_t in $TYPES; do
        bm_f=$(bench_model_path "$bm_t")
        [ -s "$bm_f" ] && continue
        echo "bench: writing $bm_f" >&2
        "$ROOT/build/tools/mkmodel" -o "$bm_f.tmp" -v "$VOCAB" --arch llama --type "$bm_t" \
            --n-embd 2048 --n-layer 22 --n-head 32 --n-head-kv 4 --n-ff 5632 --ctx 2048 --seed 1 \
            --name "tinyllama-1.1b-shape-$bm_t" || return 1
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
