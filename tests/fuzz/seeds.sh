#!/bin/sh
# tests/fuzz/seeds.sh OUTDIR — writes the fuzz targets' seed corpora into OUTDIR/<target>/ from
# ../shared (or $NATTER_SHARED): prefixes of real GGUF files, a tiny hand-made valid GGUF, the
# tokenizer test strings, chat templates, a conversation export. Nothing here is kept in the repo.
set -eu
out=${1:?usage: seeds.sh OUTDIR}
shared=${NATTER_SHARED:-../shared}
[ -d "$shared" ] || { echo "seeds.sh: $shared is absent: seeds are only the hand-made ones" >&2; shared=""; }

# Little-endian integers as printf escapes.
le32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
le64() { le32 "$1"; le32 0; }
gstr() { le64 ${#1}; printf '%s' "$1"; }

# A minimal valid GGUF v3: one uint32 and one string kv, one F32 tensor of 8 values.
tiny_gguf() {
    printf 'GGUF'; le32 3; le64 1; le64 2
    gstr general.alignment; le32 4; le32 32
    gstr general.architecture; le32 8; gstr llama
    gstr token_embd.weight; le32 1; le64 8; le32 0; le64 0
}

mkdir -p "$out/fuzz_gguf" "$out/fuzz_tokenizer" "$out/fuzz_model" "$out/fuzz_template" \
    "$out/fuzz_import" "$out/fuzz_reasoning" "$out/fuzz_jinja" "$out/fuzz_state" \
    "$out/fuzz_markdown" "$out/fuzz_json_read" "$out/fuzz_serve_req" "$out/fuzz_settings" \
    "$out/fuzz_search"
# Search: a message text, a NUL byte, the query (fuzz_search.c).
printf 'The pirate ship sailed\000pira' > "$out/fuzz_search/prefix"
printf '私は日本語を勉強します\000日本' > "$out/fuzz_search/cjk"
printf 'bread NOT yeast "x"\000bread NOT "(' > "$out/fuzz_search/syntax"
printf 'caf\303\251 au lait\000CAFE lait*' > "$out/fuzz_search/accents"
# Snapshot reader: byte 0 picks the model and the mode (fuzz_state.c); modes 2 and 3 start from
# the target's own valid snapshots, a few (offset, xor) pairs after it.
for b in 004 005 006 007; do printf "\\$b" > "$out/fuzz_state/valid-$b"; done
printf '\004\170\000\001\064\000\001' > "$out/fuzz_state/tokens-004"
printf '\005\074\000\001\070\000\001' > "$out/fuzz_state/ckpt-005"
{
    tiny_gguf > "$out/fuzz_gguf/tiny"
    n=$(wc -c < "$out/fuzz_gguf/tiny")
    pad=$(( (32 - n % 32) % 32 ))
    head -c $((pad + 32)) /dev/zero >> "$out/fuzz_gguf/tiny"
}

if [ -n "$shared" ]; then
    for f in stories260K TinyStories-656K-Q8_0 syn-llama-Q4_K_M syn-phi3-Q8_0 syn-qwen2-Q8_0; do
        for n in 2048 16384 65536; do
            head -c $n "$shared/models/$f.gguf" > "$out/fuzz_gguf/$f-$n"
        done
    done
    head -c 65536 "$shared/vocab/ggml-vocab-llama-spm.gguf" > "$out/fuzz_gguf/vocab-spm-65536"
    head -c 65536 "$shared/vocab/ggml-vocab-gpt-2.gguf" > "$out/fuzz_gguf/vocab-gpt2-65536"
    # Whole small models (mkmodel: random weights, stories260K's 512-token vocab), one per
    # architecture and a few tensor types: small enough for many executions a second.
    mk=${NATTER_TOOLS:-build/tools}/mkmodel
    if [ -x "$mk" ]; then
        for a in llama qwen2 phi3; do
            "$mk" -o "$out/fuzz_model/$a-Q8_0.gguf" -v "$shared/models/stories260K.gguf" \
                --arch "$a" --type Q8_0 --n-embd 32 --n-layer 1 --n-head 4 --n-head-kv 2 \
                --n-ff 64 --ctx 64 >/dev/null
        done
        "$mk" -o "$out/fuzz_model/llama-F32-tied.gguf" -v "$shared/models/stories260K.gguf" \
            --type F32 --n-embd 32 --n-layer 2 --n-head 2 --n-head-kv 1 --n-ff 48 --ctx 64 \
            --tied >/dev/null
        "$mk" -o "$out/fuzz_model/llama-Q4_K_M.gguf" -v "$shared/models/stories260K.gguf" \
            --type Q4_K_M --n-embd 256 --n-layer 1 --n-head 4 --n-head-kv 4 --n-ff 256 \
            --ctx 64 >/dev/null
    else
        echo "seeds.sh: no $mk (make tools): fuzz_model starts from stories260K only" >&2
        cp "$shared/models/stories260K.gguf" "$out/fuzz_model/"
    fi

    # Tokenizer input: byte 0 picks the vocab (order of fuzz_tokenizer.c), byte 1 the flags;
    # a byte 0 of 128 or more picks a pre-tokenizer of the table (with byte 1).
    i=0
    for v in llama-spm llama-bpe gpt-2 qwen2 phi-3 starcoder refact deepseek-coder; do
        for flags in 0 3; do
            { printf "\\$(printf %03o $i)\\$(printf %03o $flags)"
              cat "$shared/vocab/ggml-vocab-$v.gguf.inp"; } > "$out/fuzz_tokenizer/$v-$flags"
        done
        i=$((i + 1))
    done
    i=10
    for v in qwen35 gemma-4 falcon gpt-4o tekken; do
        f="$shared/vocab-2026/ggml-vocab-$v.gguf"
        if [ -f "$f.inp" ]; then
            for flags in 0 3; do
                { printf "\\$(printf %03o $i)\\$(printf %03o $flags)"; cat "$f.inp"; } \
                    > "$out/fuzz_tokenizer/$v-$flags"
                { printf "\\$(printf %03o $i)\\$(printf %03o $flags)"; cat "$f.chat.inp"; } \
                    > "$out/fuzz_tokenizer/$v-chat-$flags"
            done
        fi
        i=$((i + 1))
    done
    if [ -f "$shared/vocab-2026/ggml-vocab-gpt-4o.gguf.chat.inp" ]; then
        for p in 128 140 160 200 255; do
            { printf "\\$(printf %03o $p)\\000"
              head -c 3000 "$shared/vocab-2026/ggml-vocab-gpt-4o.gguf.chat.inp"; } \
                > "$out/fuzz_tokenizer/pre-$p"
        done
    fi
    for t in "$shared"/chat-templates/jinja/*.jinja; do
        cp "$t" "$out/fuzz_template/$(basename "$t")"
    done
    # Jinja engine: the real chat templates, both collections
    for t in "$shared"/chat-templates/jinja/*.jinja "$shared"/chat-templates/jinja-hf/*.jinja; do
        cp "$t" "$out/fuzz_jinja/$(basename "$t")"
    done
fi
printf '\000\003<s>[INST] <<SYS>>\n<|im_start|>user\n\377\376\300\200 caf\303\251 \360\237\230\200<|eot_id|>' \
    > "$out/fuzz_tokenizer/special"
printf '\011\001Once upon a time, there was a little girl.' > "$out/fuzz_tokenizer/stories"
printf '{%% for m in messages %%}<|{{ m.role }}|>{{ m.content }}{%% endfor %%}' \
    > "$out/fuzz_template/minimal"
printf '{%% for m in messages if m.content is string %%}{{ loop.index }}:{{ m.content|trim|tojson }}{%% endfor %%}' \
    > "$out/fuzz_jinja/minimal"
printf '{%% macro f(a, b=2) %%}{{ a ~ b ~ caller() }}{%% endmacro %%}{%% call f(1) %%}x{%% endcall %%}{%% set ns = namespace(n=0) %%}{{ "%%s|{:>4}" %% 1 }}{{ tools|map(attribute="function")|list|tojson(indent=2) }}' \
    > "$out/fuzz_jinja/features"
printf '{%% for m in messages %%}{{ m.role }}:{{ m.content|tojson }} {{ x|tojson(indent=1) }}{%% endfor %%}\000{"x": [[[{"a": 1e300, "b": "\\u00e9\\ud800"}]]], "messages": [{"role": "user|>", "content": null}]}' \
    > "$out/fuzz_jinja/with-vars"
cp prompts/templates/*.tmpl "$out/fuzz_template/" 2>/dev/null || true
printf '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "caf\303\251?"}, {"role": "assistant", "content": "Yes."}]' \
    > "$out/fuzz_import/plain"
printf '{"natter":1,"id":"0123abcd","title":"T","model":"m.gguf","template":"chatml","created":"2026-11-21T14:34:10.123Z","updated":"2026-11-21T14:35:00.000Z","pinned":true,"archived":false,"sampling":{"temp":0.7},"messages":[{"role":"system","content":"S","created":"2026-11-21T14:34:10.123Z"},{"role":"user","content":"hi\\n\\u0041","created":"2026-11-21T14:34:11.000Z"},{"role":"assistant","content":"ok","created":"2026-11-21T14:34:12.000Z","model":"m.gguf","tokens":3,"prompt_tps":12.5,"gen_tps":4,"finish":"stop"}]}' \
    > "$out/fuzz_import/export"
# Conversation import: a plain message array, natter's export format, an export --all array.
printf '[{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"}]' \
    > "$out/fuzz_import/plain2"
conv='{"natter": 1, "id": "0123abcd", "title": "Greeting \u00e9\ud83d\ude00", "model": "m.gguf",
 "template": "chatml", "created": "2026-11-21T14:34:10.123Z", "updated": "2026-11-21T14:35:00.000Z",
 "sampling": {"temp": 0.7, "top_k": 40}, "pinned": true, "archived": false,
 "messages": [{"role": "system", "content": "Be brief."},
  {"role": "user", "content": "Hello\nthere", "created": "2026-11-21T14:34:11Z"},
  {"role": "assistant", "content": "Hi", "model": "m.gguf", "tokens": 3, "prompt_tps": 100.5,
   "gen_tps": 20.25, "finish": "stop"}]}'
printf '%s' "$conv" > "$out/fuzz_import/export2"
printf '[%s, %s]' "$conv" "$conv" > "$out/fuzz_import/export-all"
# A tree: versions (parent links), a pin, the active path's leaf.
printf '{"leaf":4,"messages":[{"role":"system","content":"S"},{"id":1,"parent":0,"role":"user","content":"a"},{"id":2,"parent":1,"role":"assistant","content":"b"},{"id":3,"parent":1,"role":"assistant","content":"c","pinned":true},{"id":4,"parent":3,"role":"user","content":"d"},{"id":5,"parent":0,"role":"user","content":"e"}]}' \
    > "$out/fuzz_import/tree"
# Chosen versions off the active path ("chosen": a child's number), and one that is not a child.
printf '{"leaf":2,"messages":[{"id":1,"parent":0,"role":"user","content":"a"},{"id":2,"parent":1,"role":"assistant","content":"b"},{"id":3,"parent":0,"role":"user","content":"c","chosen":4},{"id":4,"parent":3,"role":"assistant","content":"x"},{"id":5,"parent":3,"role":"assistant","content":"y","chosen":1}]}' \
    > "$out/fuzz_import/chosen"
# A container where an object key belongs: SQLite 3.40's json_valid() accepts it (the crash
# the fuzzer found before the strict check); kept as a seed so mutations start near it.
printf '[{"messages":[{[{"":"","":""}]:""}],"sampling":{["x"]:"y"}}]' > "$out/fuzz_import/bad-key"
# NUL and control characters kept, invalid UTF-8 and lone surrogates replaced, NUL refused in a role
printf '[{"role":"user","content":"a\\u0000b\\u001b\\ud83d\\ude00"},{"role":"assistant","content":"\\ud800x\377\300\257","reasoning_content":"r\\u0000"}]' \
    > "$out/fuzz_import/nul-utf8"
printf '[{"role":"user\\u0000x","content":"y"}]' > "$out/fuzz_import/nul-role"
# Reasoning splitter: byte 0 the family (0 think, 1 harmony; +16 the prompt opened it, +32 the
# markers are control tokens), byte 1 the chunk size, then text and \001-led control tokens
# separated by NUL bytes.
printf '\000\003 <think>\nhm </thi\000nk>\n\nAnswer <think> \303\251' > "$out/fuzz_reasoning/think"
printf '\020\005inside</think>out' > "$out/fuzz_reasoning/inside"
printf '\041\007\001<|channel|>\000analysis\000\001<|message|>\000t\000\001<|end|>\000\001<|start|>\000assistant\000\001<|channel|>\000commentary to=f\000\001<|constrain|>\000json\000\001<|message|>\000{}\000\001<|call|>' \
    > "$out/fuzz_reasoning/harmony"
# Markdown renderer: byte 0 the width (1 + byte % 80), then a reply's Markdown.
printf '(# T\n\nSome **bold** *it* `code` [l](http://x/y) <http://a.b>\n\n- a\n  - b\n1. c\n\n> q\n\n---\n' \
    > "$out/fuzz_markdown/blocks"
printf '\022```c\nint x = 1; /* c */\n```\n\n| a | b |\n|:-|-:|\n| \346\227\245 | 2 |\n\n```diff\n+a\n-b\n' \
    > "$out/fuzz_markdown/code"
printf '\005[x\033]8;;u\007](http://a/\033[31m) &#27; \302\233 ```\000' > "$out/fuzz_markdown/escapes"
# JSON reader: a request body and a stream chunk as servers send them.
printf '{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi\\u00e9"}]}],"temperature":0.5,"stop":["\\n"],"stream":true}' \
    > "$out/fuzz_json_read/request"
printf '{"choices":[{"delta":{"reasoning_content":"x"},"finish_reason":null}],"usage":{"prompt_tokens":3},"timings":{"predicted_per_second":1e1}}' \
    > "$out/fuzz_json_read/chunk"
# natter serve's request bodies: byte 0 picks the route (even: chat, odd: completion)
printf '\000{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"temperature":0.7,"top_p":0.9,"top_k":40,"min_p":0.05,"seed":7,"max_tokens":16,"stop":["\\n\\n","END"],"presence_penalty":0.5,"frequency_penalty":0.1,"repeat_penalty":1.1,"stream":true,"stream_options":{"include_usage":true},"chat_template_kwargs":{"enable_thinking":false}}' \
    > "$out/fuzz_serve_req/chat"
printf '\001{"prompt":"Once upon a time","max_completion_tokens":8,"stop":"x","stream":false}' \
    > "$out/fuzz_serve_req/completion"
# A conversation's sampling settings (app_settings_from_json): natter's own, SQLite's float text,
# nested and odd members.
printf '{"temp":0.3,"top_k":20,"top_p":0.95,"min_p":0.05,"seed":4294967295,"n_predict":512,"ctx":0,"think":1}' \
    > "$out/fuzz_settings/own"
printf '{"temp":0.800000011920929,"x":{"a":[1,"}"]},"t\\u0065mp":1e-3,"top_k":4.0e1,"seed":-1}' \
    > "$out/fuzz_settings/odd"

# The remote backend's readers: an SSE stream (byte 0: the piece size), a server's reply for
# fuzz_remote (bytes 0-2: status and type, piece size, raw), a config file.
mkdir -p "$out/fuzz_sse" "$out/fuzz_remote" "$out/fuzz_config"
printf '\007: c\r\nevent: e\ndata: {"a":1}\r\n\r\ndata: x\ndata:  y\n\ndata: [DONE]\n\n' \
    > "$out/fuzz_sse/stream"
printf '\000\007\000data: {"choices":[{"delta":{"content":"Hi","reasoning_content":"r"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":1}},"timings":{"prompt_per_second":5,"predicted_per_second":2}}\n\ndata: [DONE]\n\n' \
    > "$out/fuzz_remote/stream"
printf '\003\000\000{"error":{"message":"context length","type":"x","code":"context_length_exceeded"}}' \
    > "$out/fuzz_remote/error"
printf '\001\000\001{"choices":[{"text":"x","finish_reason":"length"}]}' > "$out/fuzz_remote/body"
printf '# c\ntemp = 0.7\nctx=8192 # n\n[endpoint big]\nurl = http://box:8080\nmodel = m\napi-key-env = K\ntimeout = 9\n' \
    > "$out/fuzz_config/config"
