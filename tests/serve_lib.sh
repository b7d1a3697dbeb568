# tests/serve_lib.sh — helpers for the `natter serve` tests (tests/cli/serve*.sh source it after
# tests/lib.sh): a server on a free loopback port, stopped with SIGTERM at the end (its exit
# status checked by serve_stop), bounded waits. NATTER_SERVE_WRAP runs the server under a
# command, e.g. NATTER_SERVE_WRAP="valgrind -q --leak-check=full --error-exitcode=99".
command -v curl >/dev/null || skip "curl is not installed"
JSONGET="$NATTER_TOOLS/jsonget"
[ -x "$JSONGET" ] || fail "no $JSONGET"
SERVE_PIDS=""
trap 'for p in $SERVE_PIDS; do kill -TERM "$p" 2>/dev/null; done' EXIT
# serve_start NAME ARGS...: natter serve ARGS on a free port; sets URL, PID; stderr in
# $TEST_TMPDIR/NAME.err.
serve_start() {
    name=$1
    shift
    : >"$TEST_TMPDIR/$name.err"
    ${NATTER_SERVE_WRAP:-} "$NATTER" serve --port 0 "$@" 2>"$TEST_TMPDIR/$name.err" &
    PID=$!
    SERVE_PIDS="$SERVE_PIDS $PID"
    i=0
    while ! grep -q '^natter: serving ' "$TEST_TMPDIR/$name.err"; do
        kill -0 "$PID" 2>/dev/null || fail "natter serve $*: $(cat "$TEST_TMPDIR/$name.err")"
        [ $i -lt 1200 ] || fail "natter serve $* did not start"
        sleep 0.05
        i=$((i + 1))
    done
    port=$(sed -n 's|^natter: serving .* on http://127\.0\.0\.1:\([0-9]*\)/v1 .*|\1|p' \
        "$TEST_TMPDIR/$name.err")
    [ -n "$port" ] || fail "no port in: $(cat "$TEST_TMPDIR/$name.err")"
    URL="http://127.0.0.1:$port"
}
# serve_stop PID: SIGTERM, then the exit status must be 0.
serve_stop() {
    kill -TERM "$1"
    wait "$1"
    rc=$?
    [ "$rc" = 0 ] || fail "natter serve exited $rc after SIGTERM"
}
# wait_log NAME TEXT: until NAME's stderr holds TEXT (30 s at most).
wait_log() {
    i=0
    while ! grep -qF -- "$2" "$TEST_TMPDIR/$1.err"; do
        [ $i -lt 600 ] || fail "timed out waiting for [$2] in: $(cat "$TEST_TMPDIR/$1.err")"
        sleep 0.05
        i=$((i + 1))
    done
}
# post PATH BODY: curl's output is the body, then a line "HTTP NNN".
post() {
    curl -s -w '\nHTTP %{http_code}' -H 'Content-Type: application/json' --data-binary "$2" \
        "$URL$1"
}
# jget PATH < JSON
jget() { "$JSONGET" "$@"; }
