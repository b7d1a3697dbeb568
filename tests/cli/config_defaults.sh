# tests/cli/config_defaults.sh — the config file's defaults ($XDG_CONFIG_HOME/natter/config,
# src/config.h) reach `natter run` and the chat, seen in the request body the scripted server
# (tests/tools/sse_server.py, python3) records: the file's temp and top-k are sent, an option
# on the command line wins; a bad line stops both with FILE:LINE. Skips without python3 (and
# the chat's part without tmux).
. tests/lib.sh
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"
pf=$TEST_TMPDIR/port
python3 tests/tools/sse_server.py "$pf" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
i=0
until [ -s "$pf" ]; do i=$((i + 1)); [ $i -lt 200 ] || fail "the scripted server did not start"; sleep 0.05; done
U="http://127.0.0.1:$(cat "$pf")/normal"
CFG=$XDG_CONFIG_HOME/natter/config
mkdir -p "$XDG_CONFIG_HOME/natter"
printf '# defaults\ntemp = 0.25\ntop-k = 7   # a comment\nn-predict = 33\n' >"$CFG"

out=$("$NATTER" run --remote "$U" -p hi --top-k 3 2>"$TEST_TMPDIR/err") ||
    fail "run: $(cat "$TEST_TMPDIR/err")"
expect_eq "$out" "Hello, world! é日本"
req=$(cat "$pf.req")
expect_contains "$req" '"temperature":0.25,'
expect_contains "$req" '"top_k":3,'
expect_contains "$req" '"max_tokens":33'

printf 'temp = 0.25\n\ntemp = warm\n' >"$CFG"
err=$("$NATTER" run --remote "$U" -p hi 2>&1 >/dev/null) && fail "a bad config passed"
expect_eq "$err" "natter: $CFG:3: temp: 'warm' is not a number"
err=$("$NATTER" </dev/null 2>&1 >/dev/null) && fail "the chat started with a bad config"
expect_eq "$err" "natter: $CFG:3: temp: 'warm' is not a number"

command -v tmux >/dev/null || { echo "skipped: the chat's part (tmux is not installed)"; pass; }
. tests/tui_lib.sh
printf 'temp = 0.5\ntop-k = 9\n' >"$CFG"
rm -f "$pf.req"
tui_start 120 30 --remote "$U" --top-k 4
tm send-keys -t t "hi" Enter
wait_for "Hello, world!"
req=$(cat "$pf.req")
expect_contains "$req" '"temperature":0.5,'
expect_contains "$req" '"top_k":4,'
pass
