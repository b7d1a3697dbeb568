# tests/tui_lib.sh — tmux helpers for the chat's end-to-end tests (tests/cli/tui_*.sh source it
# after tests/lib.sh): a private tmux server per test, a pane polled with a bounded timeout.
command -v tmux >/dev/null || skip "tmux is not installed"
TUI_SOCK="$TEST_TMPDIR/tmux.sock" # in the test's scratch directory: nothing left behind
tm() { tmux -u -f /dev/null -S "$TUI_SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT
pane() { tm capture-pane -p -t t; }
# wait_for TEXT [SECONDS]: until the pane shows TEXT (default 15 s), else fail with the pane.
wait_for() {
    i=0
    while [ "$i" -lt "$(( ${2:-15} * 20 ))" ]; do
        pane | grep -qF -- "$1" && return 0
        sleep 0.05; i=$((i + 1))
    done
    pane >&2
    fail "timed out waiting for [$1]"
}
# wait_count TEXT N: until N lines of the pane hold TEXT (60 s at most).
wait_count() {
    i=0
    while [ "$i" -lt 1200 ]; do
        [ "$(pane | grep -cF -- "$1")" -ge "$2" ] && return 0
        sleep 0.05; i=$((i + 1))
    done
    pane >&2
    fail "timed out waiting for $2 lines with [$1]"
}
wait_gone() {
    i=0
    while [ "$i" -lt 200 ]; do
        pane | grep -qF -- "$1" || return 0
        sleep 0.05; i=$((i + 1))
    done
    pane >&2
    fail "[$1] did not go away"
}
# tui_start COLS ROWS ARGS...: runs natter ARGS in a fresh pane; its exit status goes to
# $TEST_TMPDIR/rc; waits for the first frame (the status bar).
tui_start() {
    cols=$1 rows=$2
    shift 2
    cmd="env LC_ALL=C.UTF-8 XDG_DATA_HOME='$XDG_DATA_HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME'"
    cmd="$cmd XDG_CACHE_HOME='$XDG_CACHE_HOME'"
    cmd="$cmd ${TUI_ENV:-} '$NATTER'"
    for a in "$@"; do cmd="$cmd '$a'"; done
    rm -f "$TEST_TMPDIR/rc"
    tm kill-session -t t 2>/dev/null
    # a server that is still exiting refuses the new session: try again (bounded)
    n=0
    until tm new-session -d -s t -x "$cols" -y "$rows" "$cmd; echo \$? >'$TEST_TMPDIR/rc'" \; \
        set-option -t t remain-on-exit on 2>"$TEST_TMPDIR/tmux.err"; do
        n=$((n + 1))
        [ "$n" -lt 100 ] || fail "tmux new-session failed: $(cat "$TEST_TMPDIR/tmux.err")"
        sleep 0.1
    done
    wait_for "F1 help"
}
# Waits (bounded) until natter has exited.
tui_wait_exit() {
    i=0
    while [ ! -s "$TEST_TMPDIR/rc" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$TEST_TMPDIR/rc" ] || { pane >&2; fail "natter did not exit"; }
}
