# tests/cli/run_remote.sh — `natter run --remote` against the scripted server of
# tests/tools/sse_server.py (python3): the reply on stdout and the reasoning on stderr, the
# server's usage in the stats line ("?" when it sends none), an endpoint of the config file with
# its model and its key from the variable api-key-env names (sent as the bearer token), the
# config's defaults sent as sampling fields (the command line's winning), and the errors: one
# line, exit status 1, the text streamed before them kept on stdout. Skips without python3.
. tests/lib.sh
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"
pf=$TEST_TMPDIR/port
python3 tests/tools/sse_server.py "$pf" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
i=0
until [ -s "$pf" ]; do i=$((i + 1)); [ $i -lt 200 ] || fail "the scripted server did not start"; sleep 0.05; done
U="http://127.0.0.1:$(cat "$pf")"

out=$("$NATTER" run --remote "$U/normal" -p hi 2>"$TEST_TMPDIR/err") || fail "run: $(cat "$TEST_TMPDIR/err")"
expect_eq "$out" "Hello, world! é日本"
grep -Eq '^natter: prompt 8 tokens \(\+4 cached\), 0\.00 t/s; generated 5 tokens, [0-9.]+ t/s; first token [0-9]+ ms$' \
    "$TEST_TMPDIR/err" || fail "stats: $(cat "$TEST_TMPDIR/err")"
out=$("$NATTER" run --remote "$U/reasoning" -p hi 2>"$TEST_TMPDIR/err") || fail "reasoning run"
expect_eq "$out" "42"
expect_eq "$(head -n 1 "$TEST_TMPDIR/err")" "Let me think."
grep -q '^natter: prompt ? tokens (+? cached), 0.00 t/s; generated ? tokens, 0.00 t/s; first token' \
    "$TEST_TMPDIR/err" || fail "unknown counts: $(cat "$TEST_TMPDIR/err")"
out=$("$NATTER" run --remote "$U/raw" --raw -p "Once upon" 2>/dev/null) || fail "raw run"
expect_eq "$out" "<Once>"

# the config file: defaults and a named endpoint
mkdir -p "$XDG_CONFIG_HOME/natter"
cat >"$XDG_CONFIG_HOME/natter/config" <<CFG
# test config
temp = 0.25
top-k = 7
[endpoint box]
url = $U/normal/v1
model = big-model
api-key-env = NATTER_TEST_KEY
CFG
out=$(NATTER_TEST_KEY=sk-test "$NATTER" run --remote box -p hi --top-k 3 2>"$TEST_TMPDIR/err") || fail "endpoint run: $(cat "$TEST_TMPDIR/err")"
expect_eq "$out" "Hello, world! é日本"
expect_eq "$(cat "$pf.auth")" "Bearer sk-test"
req=$(cat "$pf.req")
expect_contains "$req" '"model":"big-model"'
expect_contains "$req" '"temperature":0.25,'
expect_contains "$req" '"top_k":3,'
err=$("$NATTER" run --remote box -p hi 2>&1 >/dev/null) && fail "a missing key's variable passed"
expect_eq "$err" "natter: run: endpoint 'box': its API key's variable NATTER_TEST_KEY is not set"
err=$("$NATTER" run --remote nobox -p hi 2>&1 >/dev/null) && fail "an unknown endpoint passed"
expect_eq "$err" "natter: run: no endpoint 'nobox' in $XDG_CONFIG_HOME/natter/config (a URL holds ':' or '/')"
printf 'temp = warm\n' >"$XDG_CONFIG_HOME/natter/config"
err=$("$NATTER" run --remote "$U/normal" -p hi 2>&1 >/dev/null) && fail "a bad config passed"
expect_eq "$err" "natter: $XDG_CONFIG_HOME/natter/config:1: temp: 'warm' is not a number"
rm "$XDG_CONFIG_HOME/natter/config"

# errors: one line, status 1, the partial reply kept
out=$("$NATTER" run --remote "$U/truncated" -p hi 2>"$TEST_TMPDIR/err") && fail "a cut stream passed"
expect_eq "$out" "Hello, wor"
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: generate: the stream ended without [DONE] or a finish_reason (the reply was cut after 10 bytes)"
err=$("$NATTER" run --remote "$U/e401" -p hi 2>&1 >/dev/null) && fail "401 passed"
expect_eq "$err" "natter: generate: not authorized (HTTP 401): check the endpoint's API key: Invalid API Key"
err=$("$NATTER" run --remote "$U/normal" -m x -p hi 2>&1 >/dev/null) && fail "-m with --remote passed"
expect_contains "$err" "run: --remote runs the server's model: -m, --draft and --reasoning-markers do not go with it"
pass
