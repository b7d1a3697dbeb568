#!/bin/sh
# tests/cli/run_remote.sh — `natter run --remote URL|NAME` through the session core's remote
# backend, against the scripted server tests/tools/sse_server.py (python3): the reply streams to
# stdout, the server's reasoning to stderr, -s and -p become the request's messages, --raw a
# /v1/completions prompt; --save keeps the exchange with "MODEL@URL" as its model, and --conv
# continues it on the same server without --remote; an endpoint named in the config file sends
# its key (never stored); a refused request and a server that dies mid-stream are one line and
# exit 1, the partial reply kept.
. tests/lib.sh
command -v python3 >/dev/null || skip "python3 is not installed"
D="$TEST_TMPDIR"
python3 tests/tools/sse_server.py "$D/port" &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
i=0; while [ ! -s "$D/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$D/port" ] || fail "the scripted server did not start"
U="http://127.0.0.1:$(cat "$D/port")"

out=$("$NATTER" run --remote "$U/normal" -s "Be brief." -p hi 2>"$D/err") ||
    fail "run --remote: $(cat "$D/err")"
expect_eq "$out" "Hello, world! é日本"
expect_contains "$(cat "$D/err")" "natter: prompt 8 tokens (+4 cached)"
expect_contains "$(cat "$D/err")" "generated 5 tokens"
req=$(cat "$D/port.req")
expect_contains "$req" '"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]'
expect_contains "$req" '"stream":true'

out=$("$NATTER" run --remote "$U/reasoning" -p q 2>"$D/err") || fail "reasoning: $(cat "$D/err")"
expect_eq "$out" "42"
expect_contains "$(cat "$D/err")" "Let me think."

out=$("$NATTER" run --remote "$U/raw" --raw -p "hiya there" 2>/dev/null) || fail "raw"
expect_eq "$out" "<hiya>"
expect_contains "$(cat "$D/port.req")" '"prompt":"hiya there"'

# saved, then continued on the same server from the conversation alone
DB="$D/r.db"
"$NATTER" run --remote "$U/normal" -m qwen3-32b -p hi --save --db "$DB" >/dev/null 2>"$D/err" ||
    fail "run --remote --save: $(cat "$D/err")"
id=$(sed -n 's/^natter: saved in conversation \([0-9a-f]\{8\}\)$/\1/p' "$D/err")
[ -n "$id" ] || fail "no id: $(cat "$D/err")"
expect_contains "$("$NATTER" export "$id" --format json --db "$DB")" "\"model\":\"qwen3-32b@$U/normal\""
out=$("$NATTER" run --conv "$id" --db "$DB" -p again 2>"$D/err") || fail "--conv: $(cat "$D/err")"
expect_eq "$out" "Hello, world! é日本"
expect_contains "$(cat "$D/port.req")" '{"role":"assistant","content":"Hello, world! é日本"},{"role":"user","content":"again"}'
expect_contains "$(cat "$D/port.req")" '"model":"qwen3-32b"'

# a named endpoint: its URL and model from the config file, its key from the environment
mkdir -p "$XDG_CONFIG_HOME/natter"
printf '[endpoint box]\nurl = %s/normal\nmodel = llama-3.1-8b\napi-key-env = BOX_KEY\n' "$U" \
    >"$XDG_CONFIG_HOME/natter/config"
BOX_KEY=s3cr3t-k3y "$NATTER" run --remote box -p hi --save --db "$DB" >/dev/null 2>"$D/err" ||
    fail "--remote box: $(cat "$D/err")"
expect_eq "$(cat "$D/port.auth")" "Bearer s3cr3t-k3y"
expect_contains "$(cat "$D/port.req")" '"model":"llama-3.1-8b"'
grep -q s3cr3t-k3y "$DB"* && fail "the API key reached the database"
"$NATTER" run --remote nobox -p hi >/dev/null 2>"$D/err"
expect_eq "$?" 1

# errors: one line, exit 1; a server killed mid-stream keeps the text so far, marked
"$NATTER" run --remote "$U/e401" -p hi >/dev/null 2>"$D/err"
expect_eq "$?" 1
expect_eq "$(wc -l <"$D/err")" "1"
expect_contains "$(cat "$D/err")" "Invalid API Key"
out=$("$NATTER" run --remote "$U/killed" -p hi --save --db "$D/k.db" 2>"$D/err")
expect_eq "$?" 1
expect_eq "$out" "Hello"
json=$("$NATTER" export --all --format json --db "$D/k.db")
expect_contains "$json" '"content":"Hello"'
expect_contains "$json" '"finish":"error"'
pass
