#!/bin/sh
# tests/cli/serve.sh — `natter serve` driven by curl: /health and /v1/models; greedy chat and
# completions, whole and streamed, give `natter run`'s text on the same model and messages
# (the model's own Jinja template); the KV prefix is reused by the next request; usage and
# timings; stop strings; reasoning_content from a template that opens the reasoning, and enable_thinking
# false as `run --think off`; every 4xx error in OpenAI's shape (bad JSON with its position, a
# wrong field type, an oversize body, a prompt longer than the context, an unknown route, a
# wrong method, a missing or wrong API key); one context with a queue of one: the second
# request waits, the third gets 503 with Retry-After; a client that disconnects cancels its
# generation; two contexts answer a short request while a long one streams; SIGTERM lets a
# running request finish and exits 0.
. tests/lib.sh
need_shared
. tests/serve_lib.sh
M="$SHARED/models/syn-phi3-Q8_0.gguf"     # Phi-3's Jinja template; replies of many scripts
M2="$SHARED/models/syn-qwen2-Q8_0.gguf"   # faster, for the queue
T="$TEST_TMPDIR"

serve_start main -m "$M" --ctx 512 -t 1 --max-body 65536
expect_eq "$(curl -s "$URL/health")" '{"status":"ok"}'
models=$(curl -s "$URL/v1/models")
expect_eq "$(printf '%s' "$models" | jget data.0.id)" "syn-phi3-Q8_0.gguf"
expect_eq "$(printf '%s' "$models" | jget object)" "list"

# 1. greedy chat = natter run (the same template, the same tokens)
"$NATTER" run -m "$M" --ctx 512 -t 1 --temp 0 -n 24 -p "Tell me a story" \
    >"$T/run.txt" 2>"$T/run.err" || fail "run: $(cat "$T/run.err")"
[ "$(wc -c <"$T/run.txt")" -gt 40 ] || fail "a short reply: [$(cat "$T/run.txt")]"
chat='{"model":"x","messages":[{"role":"user","content":"Tell me a story"}],"temperature":0,"max_tokens":24'
post /v1/chat/completions "$chat}" >"$T/c1"
expect_eq "$(tail -n 1 "$T/c1")" "HTTP 200"
sed '$d' "$T/c1" >"$T/c1.json"
jget choices.0.message.content <"$T/c1.json" >"$T/c1.txt"
cmp -s "$T/run.txt" "$T/c1.txt" || fail "serve's reply [$(cat "$T/c1.txt")] is not run's [$(cat "$T/run.txt")]"
expect_eq "$(jget object <"$T/c1.json")" "chat.completion"
expect_eq "$(jget choices.0.finish_reason <"$T/c1.json")" "length"
expect_eq "$(jget usage.completion_tokens <"$T/c1.json")" "24"
n_prompt=$(jget usage.prompt_tokens <"$T/c1.json")
expect_contains "$(cat "$T/run.err")" "natter: prompt $n_prompt tokens"
expect_eq "$(jget timings.predicted_n <"$T/c1.json")" "24"
jget timings.predicted_per_second <"$T/c1.json" >/dev/null || fail "no timings"
# content as an array of text parts is the same message
post /v1/chat/completions '{"messages":[{"role":"user","content":[{"type":"text","text":"Tell me "},{"type":"text","text":"a story"}]}],"temperature":0,"max_tokens":24}' |
    sed '$d' | jget choices.0.message.content >"$T/c2.txt"
cmp -s "$T/run.txt" "$T/c2.txt" || fail "text parts gave [$(cat "$T/c2.txt")]"

# 2. streamed: the same text in delta.content chunks, usage and timings at the end, [DONE]
curl -sN "$URL/v1/chat/completions" -d "$chat,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" >"$T/s1"
jget --sse choices.0.delta.content <"$T/s1" >"$T/s1.txt"
cmp -s "$T/run.txt" "$T/s1.txt" || fail "the stream gave [$(cat "$T/s1.txt")]"
expect_eq "$(jget --sse choices.0.delta.role <"$T/s1")" "assistant"
expect_eq "$(jget --sse object <"$T/s1" | sed 's/chat.completion.chunk//g')" ""
expect_eq "$(jget --sse choices.0.finish_reason <"$T/s1" | tr -d '\n' | sed 's/null//g')" "length"
expect_eq "$(jget --sse usage.completion_tokens <"$T/s1")" "24"
# the KV prefix of the request before is reused: all but the last prompt token
expect_eq "$(jget --sse usage.prompt_tokens_details.cached_tokens <"$T/s1")" "$((n_prompt - 1))"
expect_eq "$(jget --sse timings.prompt_n <"$T/s1")" "1"
expect_eq "$(tail -n 2 "$T/s1" | head -n 1)" "data: [DONE]"
# without include_usage: no usage chunk, timings in the finish chunk
curl -sN "$URL/v1/chat/completions" -d "$chat,\"stream\":true}" >"$T/s2"
expect_eq "$(jget --sse usage.completion_tokens <"$T/s2")" ""
expect_eq "$(jget --sse timings.predicted_n <"$T/s2")" "24"

# 3. completions: the prompt as `natter run --raw` reads it
"$NATTER" run -m "$M" --ctx 512 -t 1 --temp 0 -n 16 --raw -p "Once upon a time" >"$T/run2.txt" 2>/dev/null
post /v1/completions '{"prompt":"Once upon a time","temperature":0,"max_tokens":16}' | sed '$d' >"$T/p1.json"
jget choices.0.text <"$T/p1.json" >"$T/p1.txt"
cmp -s "$T/run2.txt" "$T/p1.txt" || fail "completion [$(cat "$T/p1.txt")] is not run's [$(cat "$T/run2.txt")]"
expect_eq "$(jget object <"$T/p1.json")" "text_completion"
curl -sN "$URL/v1/completions" -d '{"prompt":"Once upon a time","temperature":0,"max_tokens":16,"stream":true}' |
    jget --sse choices.0.text >"$T/p2.txt"
cmp -s "$T/run2.txt" "$T/p2.txt" || fail "streamed completion [$(cat "$T/p2.txt")]"
# stop strings: the text ends before the first one found (never shown), finish_reason stop
run2=$(cat "$T/run2.txt")
case "$run2" in *Snap*) ;; *) fail "the completion has no 'Snap' to stop at: [$run2]";; esac
post /v1/completions '{"prompt":"Once upon a time","temperature":0,"max_tokens":16,"stop":["zzz","Snap"]}' |
    sed '$d' >"$T/p3.json"
expect_eq "$(jget choices.0.text <"$T/p3.json")" "${run2%%Snap*}"
expect_eq "$(jget choices.0.finish_reason <"$T/p3.json")" "stop"

# 4. errors: status and OpenAI's error object
err() { # PATH BODY STATUS MESSAGE [PARAM [CODE]]
    out=$(post "$1" "$2")
    expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP $3"
    body=$(printf '%s' "$out" | sed '$d')
    expect_eq "$(printf '%s' "$body" | jget error.message)" "$4"
    expect_eq "$(printf '%s' "$body" | jget error.type)" "invalid_request_error"
    expect_eq "$(printf '%s' "$body" | jget error.param)" "${5:-null}"
    expect_eq "$(printf '%s' "$body" | jget error.code)" "${6:-null}"
}
err /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],' 400 \
    "the request body is not JSON: invalid JSON at line 1, column 46"
err /v1/chat/completions '[1]' 400 "'body' must be an object, not an array" body invalid_type
err /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}' 400 \
    "'temperature' must be a number, not a string" temperature invalid_type
err /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}' 400 \
    "'max_tokens' must be an integer, not 1.5" max_tokens invalid_value
err /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}' 400 \
    "'stream' must be a boolean, not a string" stream invalid_type
err /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"stop":[1]}' 400 \
    "'stop[0]' must be a string, not a number" "stop[0]" invalid_type
err /v1/chat/completions '{"messages":[{"role":"robot","content":"hi"}]}' 400 \
    "'messages[0].role' must be system, user, assistant, tool or developer" \
    "messages[0].role" invalid_value
err /v1/chat/completions '{"messages":[{"role":"user","content":7}]}' 400 \
    "'messages[0].content' must be a string or an array of text parts, not a number" \
    "messages[0].content" invalid_type
err /v1/chat/completions '{"messages":[]}' 400 "'messages' must not be empty" messages invalid_value
err /v1/completions '{"model":"x"}' 400 "'prompt' is missing" prompt missing_field
err /v1/chat/completions '{"messages":[{"role":"user","content":"hi"}],"chat_template_kwargs":{"enable_thinking":1}}' 400 \
    "'enable_thinking' must be a boolean, not a number" chat_template_kwargs.enable_thinking invalid_type
# a prompt longer than the context (512): 400 with both counts
long=$(i=0; while [ $i -lt 300 ]; do printf 'word %d ' $i; i=$((i + 1)); done)
out=$(post /v1/completions "{\"prompt\":\"$long\"}")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 400"
body=$(printf '%s' "$out" | sed '$d')
expect_eq "$(printf '%s' "$body" | jget error.code)" "context_length_exceeded"
n_long=$("$NATTER" tokenize -m "$M" "$long" | wc -w)
expect_eq "$(printf '%s' "$body" | jget error.message)" \
    "this model's context is 512 tokens, the prompt takes $n_long: shorten it or start natter serve with a larger --ctx"
# oversize body (--max-body 65536): 413, with and without Content-Length
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
out=$(curl -s -w '\nHTTP %{http_code}' --data-binary @"$T/big" "$URL/v1/chat/completions")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 413"
expect_eq "$(printf '%s' "$out" | sed '$d' | jget error.code)" "request_too_large"
out=$(curl -s -w '\nHTTP %{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" \
    "$URL/v1/chat/completions")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 413"
# unknown route, wrong method
out=$(curl -s -w '\nHTTP %{http_code}' "$URL/v1/embeddings")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 404"
expect_eq "$(printf '%s' "$out" | sed '$d' | jget error.code)" "not_found"
out=$(curl -s -i "$URL/v1/chat/completions")
expect_contains "$out" "HTTP/1.1 405"
expect_contains "$out" "Allow: POST"
expect_contains "$out" '"code":"method_not_allowed"'
kill -0 "$PID" || fail "the server died"

# 5. SIGTERM: the running request finishes (its stream ends with [DONE]), exit status 0
curl -sN "$URL/v1/chat/completions" \
    -d '{"messages":[{"role":"user","content":"Go on"}],"temperature":0,"max_tokens":60,"stream":true}' \
    >"$T/term" &
cpid=$!
i=0
while ! grep -q content "$T/term" 2>/dev/null; do
    [ $i -lt 600 ] || fail "no stream"; sleep 0.05; i=$((i + 1))
done
serve_stop "$PID"
wait $cpid
expect_eq "$(tail -n 2 "$T/term" | head -n 1)" "data: [DONE]"
expect_eq "$(jget --sse usage.completion_tokens <"$T/term")" ""
expect_contains "$(cat "$T/main.err")" "natter: SIGTERM: stopping"

# 6. one context, a queue of one: the second request waits for the first, the third gets 503
"$NATTER" run -m "$M2" --ctx 2048 -t 1 --temp 0 -n 16 --raw -p "Once upon a time" >"$T/run3.txt" 2>/dev/null
serve_start q -m "$M2" --ctx 2048 -t 1 --parallel 1 --queue 1
curl -sN "$URL/v1/completions" -d '{"prompt":"Go","temperature":0,"max_tokens":400,"stream":true}' >"$T/q1" &
q1=$!
i=0
while ! grep -q '"text"' "$T/q1" 2>/dev/null; do
    [ $i -lt 600 ] || fail "no stream"; sleep 0.05; i=$((i + 1))
done
curl -s -w '\nHTTP %{http_code}' "$URL/v1/completions" -d '{"prompt":"Once upon a time","temperature":0,"max_tokens":16}' >"$T/q2" &
q2=$!
sleep 0.3
out=$(curl -s -i "$URL/v1/completions" -d '{"prompt":"Hi","max_tokens":2}')
expect_contains "$out" "HTTP/1.1 503"
expect_contains "$out" "Retry-After: 1"
expect_contains "$out" '"code":"server_busy"'
wait $q2
expect_eq "$(tail -n 1 "$T/q2")" "HTTP 200"
sed '$d' "$T/q2" | jget choices.0.text >"$T/q2.txt"
cmp -s "$T/run3.txt" "$T/q2.txt" || fail "the queued request gave [$(cat "$T/q2.txt")]"
wait $q1
expect_eq "$(tail -n 2 "$T/q1" | head -n 1)" "data: [DONE]"
# 6b. a client that disconnects cancels its generation (the next request is served at once):
# a stream read up to its first byte, a whole reply given up after half a second
curl -sN "$URL/v1/completions" \
    -d '{"prompt":"Go on","temperature":0,"max_tokens":100000,"stream":true}' 2>/dev/null |
    head -c 1 >/dev/null
wait_log q " cancelled: "
expect_eq "$(post /v1/completions '{"prompt":"Hi","max_tokens":2}' | tail -n 1)" "HTTP 200"
curl -s --max-time 0.5 "$URL/v1/completions" -d '{"prompt":"Go on","max_tokens":100000}' >/dev/null 2>&1
i=0
while [ "$(grep -c ' cancelled: ' "$T/q.err")" -lt 2 ]; do
    [ $i -lt 600 ] || fail "the whole reply's generation was not cancelled: $(cat "$T/q.err")"
    sleep 0.05; i=$((i + 1))
done
serve_stop "$PID"

# 6c. two contexts: a short request is answered while a long one still streams
serve_start par -m "$M2" --ctx 2048 -t 1 --parallel 2
curl -sN "$URL/v1/completions" -d '{"prompt":"Go on","temperature":0,"max_tokens":100000,"stream":true}' \
    >"$T/long" 2>/dev/null &
lp=$!
i=0
while ! grep -q '"text"' "$T/long" 2>/dev/null; do
    [ $i -lt 600 ] || fail "no stream"; sleep 0.05; i=$((i + 1))
done
post /v1/completions '{"prompt":"Once upon a time","temperature":0,"max_tokens":16}' | sed '$d' |
    jget choices.0.text >"$T/par.txt"
cmp -s "$T/run3.txt" "$T/par.txt" || fail "the second context gave [$(cat "$T/par.txt")]"
grep -q 'finish_reason":"length"' "$T/long" && fail "the long request ended before the short one"
expect_contains "$(cat "$T/par.err")" "(2 contexts, "
kill $lp
wait $lp
serve_stop "$PID"

# 7. the API key: none or a wrong one is 401, the right one 200; /health needs none
NATTER_API_KEY=s3cret serve_start key -m "$M2" --ctx 256 -t 1
expect_eq "$(curl -s "$URL/health")" '{"status":"ok"}'
out=$(curl -s -w '\nHTTP %{http_code}' "$URL/v1/models")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 401"
expect_eq "$(printf '%s' "$out" | sed '$d' | jget error.code)" "invalid_api_key"
out=$(curl -s -w '\nHTTP %{http_code}' -H 'Authorization: Bearer s3cre' "$URL/v1/models")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 401"
out=$(curl -s -w '\nHTTP %{http_code}' -H 'Authorization: Bearer s3cret' "$URL/v1/models")
expect_eq "$(printf '%s' "$out" | tail -n 1)" "HTTP 200"
case "$(cat "$T/key.err")" in *s3cret*) fail "the key was logged";; esac
serve_stop "$PID"

# 8. reasoning: a template that opens <think> puts the reply in reasoning_content, as run
# prints it on stderr; enable_thinking false renders as run --think off
MK="$NATTER_TOOLS/mkmodel"
J="$SHARED/chat-templates/jinja-hf"
V="$SHARED/vocab/ggml-vocab-qwen2.gguf"
"$MK" -o "$T/r1.gguf" -v "$V" --arch qwen2 --type Q8_0 --n-layer 2 \
    --chat-template "$J/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja" || fail "mkmodel r1"
"$MK" -o "$T/q3.gguf" -v "$V" --arch qwen2 --type Q8_0 --n-layer 2 \
    --chat-template "$J/Qwen-Qwen3-0.6B.jinja" || fail "mkmodel q3"
"$NATTER" run -m "$T/r1.gguf" --ctx 256 -t 1 --temp 0 -n 12 -p "Hi" \
    >"$T/r1.out" 2>"$T/r1.err" || fail "run r1: $(cat "$T/r1.err")"
sed '$d' "$T/r1.err" >"$T/r1.think"   # the reasoning, before the figures' line
serve_start r1s -m "$T/r1.gguf" --ctx 256 -t 1
post /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":12}' |
    sed '$d' >"$T/r1.json"
expect_eq "$(jget choices.0.message.content <"$T/r1.json")" "$(cat "$T/r1.out")"
expect_eq "$(jget choices.0.message.reasoning_content <"$T/r1.json")" "$(cat "$T/r1.think")"
[ -s "$T/r1.think" ] || fail "no reasoning"
curl -sN "$URL/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":12,"stream":true}' |
    jget --sse choices.0.delta.reasoning_content >"$T/r1s.txt"
expect_eq "$(cat "$T/r1s.txt")" "$(cat "$T/r1.think")"
serve_stop "$PID"
"$NATTER" run -m "$T/q3.gguf" --ctx 256 -t 1 --temp 0 -n 12 -p "Hi" --think off >"$T/q3.out" 2>"$T/q3.err" || fail "run q3: $(cat "$T/q3.err")"
serve_start q3s -m "$T/q3.gguf" --ctx 256 -t 1
q3='{"messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":12'
post /v1/chat/completions "$q3,\"chat_template_kwargs\":{\"enable_thinking\":false}}" | sed '$d' >"$T/q3.json"
expect_eq "$(jget choices.0.message.content <"$T/q3.json")" "$(cat "$T/q3.out")"
expect_contains "$(cat "$T/q3.err")" "natter: prompt $(jget usage.prompt_tokens <"$T/q3.json") tokens"
on=$(post /v1/chat/completions "$q3}" | sed '$d' | jget usage.prompt_tokens)
[ "$on" -lt "$(jget usage.prompt_tokens <"$T/q3.json")" ] || fail "enable_thinking false did not add the empty thought"
serve_stop "$PID"
pass
