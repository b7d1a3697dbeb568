# tests/cli/remote_llama.sh — the remote backend against a real llama-server (llama.cpp's, built
# by `bench/llamacpp/build.sh server` into $TMPDIR/natter-llama.cpp, or $NATTER_LLAMA_SERVER):
# greedy text streamed through `natter run --remote` equals what llama-server itself returns
# non-streamed, and equals `natter run`'s local text on the same model and messages: a raw
# completion on stories260K (/v1/completions) and a chat on syn-phi3-Q8_0 (its Phi-3 Jinja
# template, rendered by llama-server on one side and by natter on the other); the stats line
# carries the server's usage (cached prompt tokens included). Skips when llama-server is not built or
# python3 (to read the server's JSON) or curl is missing.
. tests/lib.sh
need_shared
S=${NATTER_LLAMA_SERVER:-${TMPDIR:-/tmp}/natter-llama.cpp/build/bin/llama-server}
[ -x "$S" ] || skip "llama-server is not built (bench/llamacpp/build.sh server)"
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"
command -v curl >/dev/null 2>&1 || skip "curl is missing"

port=$((20000 + $$ % 20000))
srv_pid=
stop_server() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=; }
trap stop_server EXIT
start_server() { # MODEL
    "$S" -m "$1" --host 127.0.0.1 --port "$port" -t 1 -c 2048 --no-webui \
        >"$TEST_TMPDIR/server.log" 2>&1 &
    srv_pid=$!
    i=0
    until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 300 ] || fail "llama-server did not start: $(tail -n 5 "$TEST_TMPDIR/server.log")"
        kill -0 "$srv_pid" 2>/dev/null || fail "llama-server exited: $(tail -n 5 "$TEST_TMPDIR/server.log")"
        sleep 0.1
    done
}
# the text of a non-streamed reply: choices[0].text (completions) or .message.content (chat)
json_text() {
    python3 -c 'import json,sys; c=json.load(sys.stdin)["choices"][0]; sys.stdout.write(c["text"] if "text" in c else c["message"]["content"])'
}
U="http://127.0.0.1:$port"

# 1. a raw completion, stories260K
M="$SHARED/models/stories260K.gguf"
start_server "$M"
want=$(curl -sf "$U/v1/completions" -d '{"prompt":"Once upon a time","temperature":0,"max_tokens":48}' | json_text) ||
    fail "llama-server's completion failed"
[ -n "$want" ] || fail "llama-server returned no text"
got=$("$NATTER" run --remote "$U" --raw -p "Once upon a time" --temp 0 -n 48 2>"$TEST_TMPDIR/err") ||
    fail "run --remote failed: $(cat "$TEST_TMPDIR/err")"
expect_eq "$got" "$want"
# the server's usage: the 5 prompt tokens were cached by the request above, 48 generated
grep -Eq '^natter: prompt 1 tokens \(\+4 cached\), [0-9]+\.[0-9]{2} t/s; generated 48 tokens, ' \
    "$TEST_TMPDIR/err" || fail "stats line: $(cat "$TEST_TMPDIR/err")"
loc=$("$NATTER" run -m "$M" --raw -p "Once upon a time" --temp 0 -n 48 -t 1 2>/dev/null) ||
    fail "local run failed"
expect_eq "$loc" "$want"
stop_server

# 2. a chat through the model's own template. syn-phi3-Q8_0 writes varied text: streamed
# through natter it equals llama-server's own non-streamed reply. syn-qwen2-Q8_0 (Qwen2.5's
# Jinja template): natter's local chat renders the same prompt (the same token count) and
# writes the same greedy text. (On syn-phi3 natter's local text is not compared: its template
# has no system role, natter drops the system message where llama-server folds it into the
# user's — see the README.)
chat_args() { "$NATTER" run "$@" -s "You are terse." -p "Name three colours." --temp 0 -n 40; }
body='{"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Name three colours."}],"temperature":0,"max_tokens":40}'
for m in syn-phi3-Q8_0 syn-qwen2-Q8_0; do
    M="$SHARED/models/$m.gguf"
    start_server "$M"
    curl -sf "$U/v1/chat/completions" -d "$body" | json_text >"$TEST_TMPDIR/want" ||
        fail "$m: llama-server's chat failed"
    [ -s "$TEST_TMPDIR/want" ] || fail "$m: llama-server returned no text"
    chat_args --remote "$U" >"$TEST_TMPDIR/got" 2>"$TEST_TMPDIR/err" ||
        fail "$m: run --remote failed: $(cat "$TEST_TMPDIR/err")"
    cmp -s "$TEST_TMPDIR/got" "$TEST_TMPDIR/want" ||
        fail "$m: remote chat differs: [$(od -c "$TEST_TMPDIR/got" | head -3)] vs [$(od -c "$TEST_TMPDIR/want" | head -3)]"
    stop_server
done
# prompt N tokens (+M cached): the server had the prompt cached from the curl request
remote_n=$(sed -n 's/^natter: prompt \([0-9]*\) tokens (+\([0-9]*\) cached).*/\1 \2/p' "$TEST_TMPDIR/err")
remote_n=$(( ${remote_n% *} + ${remote_n#* } ))
chat_args -m "$M" -t 1 >"$TEST_TMPDIR/loc" 2>"$TEST_TMPDIR/err" || fail "local chat failed"
local_n=$(sed -n 's/^natter: prompt \([0-9]*\) tokens.*/\1/p' "$TEST_TMPDIR/err")
expect_eq "$local_n" "$remote_n"
cmp -s "$TEST_TMPDIR/loc" "$TEST_TMPDIR/want" ||
    fail "local chat differs: [$(od -c "$TEST_TMPDIR/loc" | head -3)] vs [$(od -c "$TEST_TMPDIR/want" | head -3)]"
pass
