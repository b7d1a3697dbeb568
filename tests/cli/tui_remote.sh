#!/bin/sh
# tests/cli/tui_remote.sh — the chat on a remote server (`natter --remote URL`), under tmux,
# against the scripted server tests/tools/sse_server.py (python3): a reply streams and is saved
# with "MODEL@URL" as its author, F2 lists the server's /v1/models and picks the model the next
# request asks for, Esc aborts a streaming reply (kept, stopped), and --conv reopens the
# conversation on its server.
. tests/lib.sh
. tests/tui_lib.sh
command -v python3 >/dev/null || skip "python3 is not installed"
D="$TEST_TMPDIR"
python3 tests/tools/sse_server.py "$D/port" &
spid=$!
trap 'kill $spid 2>/dev/null; tm kill-server 2>/dev/null' EXIT
i=0; while [ ! -s "$D/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$D/port" ] || fail "the scripted server did not start"
U="http://127.0.0.1:$(cat "$D/port")"
DB="$D/c.db"

tui_start 120 30 --db "$DB" --remote "$U/normal"
wait_for "default@$U/normal"
tm send-keys -t t "hi" Enter
wait_for "Hello, world! é日本"
tm send-keys -t t F2
wait_for "llama-3.1-8b"
wait_for "qwen3-32b"
tm send-keys -t t Down Enter
wait_for "remote model llama-3.1-8b@$U/normal"
tm send-keys -t t "more" Enter
wait_count "Hello, world! é日本" 2
expect_contains "$(cat "$D/port.req")" '"model":"llama-3.1-8b"'
expect_contains "$(cat "$D/port.req")" '{"role":"assistant","content":"Hello, world! é日本"},{"role":"user","content":"more"}'
tm send-keys -t t "/quit" Enter
i=0; while [ ! -s "$D/rc" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
id=$("$NATTER" ls --json --db "$DB" | sed -n 's/.*"id":"\([0-9a-f]\{8\}\)".*/\1/p' | head -1)
[ -n "$id" ] || fail "nothing saved"
json=$("$NATTER" export "$id" --format json --db "$DB")
expect_contains "$json" "\"model\":\"llama-3.1-8b@$U/normal\""

# reopened with --conv: the same server and model, no --remote
tui_start 120 30 --db "$DB" --conv "$id"
wait_for "llama-3.1-8b@$U/normal"
tm send-keys -t t "/quit" Enter
i=0; while [ ! -s "$D/rc" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done

# Esc aborts the transfer: the dots so far are kept, the reply marked stopped
tui_start 120 30 --db "$D/s.db" --remote "$U/slow"
tm send-keys -t t "go" Enter
wait_for "....."
tm send-keys -t t Escape
sleep 0.3
tm send-keys -t t "/quit" Enter
i=0; while [ ! -s "$D/rc" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
json=$("$NATTER" export --all --format json --db "$D/s.db")
expect_contains "$json" '"finish":"stopped"'
expect_contains "$json" '"content":"....'
pass
