#!/bin/sh
# tests/cli/tui_browse.sh — the full-screen chat under tmux without generating: start options,
# a saved reply holding escape sequences shown harmlessly (caret notation, the pane's title and
# colors untouched), the help overlay, search, -c resuming the last conversation, rename from the
# list, Ctrl-Q, SIGTERM restoring the terminal. Needs tmux.
. tests/lib.sh
. tests/tui_lib.sh

# option errors come before the terminal is touched
"$NATTER" --frobnicate </dev/null >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "unknown option '--frobnicate'"
"$NATTER" --temp warm </dev/null >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "temp: 'warm' is not a number"
"$NATTER" -c --conv abc </dev/null >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 2

# a reply that tries to color the screen, set the window title and ring the bell
printf '%s' '[{"role":"user","content":"show me colors"},{"role":"assistant","content":"here: \u001b[31mred\u001b[0m and \u001b]0;pwned\u0007 done"}]' \
    >"$TEST_TMPDIR/esc.json"
"$NATTER" import "$TEST_TMPDIR/esc.json" >/dev/null || fail "import failed"
printf '%s' '[{"role":"user","content":"a quiet question about tea"},{"role":"assistant","content":"green tea"}]' \
    >"$TEST_TMPDIR/tea.json"
"$NATTER" import "$TEST_TMPDIR/tea.json" >/dev/null || fail "import failed"
id=$("$NATTER" ls --json | sed -n 's/.*"id":"\([0-9a-f]*\)".*"title":"show me colors".*/\1/p')
[ -n "$id" ] || id=$("$NATTER" search colors --json | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
[ -n "$id" ] || fail "no id for the imported conversation"

tui_start 100 30 --conv "$id"
wait_for "here: ^[[31mred^[[0m and ^[]0;pwned^G done"
expect_contains "$(pane)" "show me colors"
title=$(tm display-message -p -t t '#{pane_title}')
[ "$title" != "pwned" ] || fail "the reply changed the window title"
# no cell was colored red by the reply: the escape pane dump shows no SGR 31
tm capture-pane -e -p -t t | grep -q "$(printf '\033')\[31m" && fail "the reply colored the screen"

# the help overlay on F1 (and ? on an empty input)
tm send-keys -t t F1
wait_for "Keys (F1)"
expect_contains "$(pane)" "Enter          send the message"
tm send-keys -t t q
wait_gone "Keys (F1)"
tm send-keys -t t '?'
wait_for "Keys (F1)"
tm send-keys -t t Escape
wait_gone "Keys (F1)"

# search across conversations opens the hit
tm send-keys -t t C-f
wait_for "Search (Ctrl-F)"
tm send-keys -t t "tea"
wait_for "[tea]"
tm send-keys -t t Enter
wait_for "green tea"

# rename from the list
tm send-keys -t t C-o
sleep 0.2
tm send-keys -t t r
wait_for "Rename"
tm send-keys -t t C-u "Tea time" Enter
wait_for "Tea time"
"$NATTER" ls | grep -q "Tea time" || fail "rename was not saved"

tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0

# -c continues the most recently updated conversation (the renamed one)
tui_start 100 30 -c
wait_for "green tea"
# SIGTERM: the terminal is restored (alternate screen left) and the exit status says why
kill -TERM "$(tm display-message -p -t t '#{pane_pid}' | xargs pgrep -P | head -1)" 2>/dev/null
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 143
expect_eq "$(tm display-message -p -t t '#{alternate_on}')" 0

# the input history survives a restart, a multi-line entry as one entry
tui_start 100 30
tm send-keys -t t "/set temp 0.5" Enter
tm send-keys -t t "/set top-k" C-j "5" Enter
wait_for "unknown setting"
tm send-keys -t t C-q
tui_wait_exit
tui_start 100 30
tm send-keys -t t C-n Up
wait_for "> /set top-k"
pane | grep -A1 -F "> /set top-k" | tail -1 | grep -q "^  5" || { pane >&2; fail "not one entry"; }
tm send-keys -t t Up Up # the first Up moves to the entry's first line, the next goes back
wait_for "> /set temp 0.5"
# Alt-Enter also starts a new line; Ctrl-C clears the input
tm send-keys -t t C-u "first" M-Enter "second"
wait_for "  second"
pane | grep -q "> first" || { pane >&2; fail "Alt-Enter did not make a new line"; }
tm send-keys -t t C-c
wait_gone "  second"
tm send-keys -t t C-q
tui_wait_exit

# a history file that cannot be written: said on stderr once the screen is back, exit 1
saved_data=$XDG_DATA_HOME
XDG_DATA_HOME="$TEST_TMPDIR/histdir"
mkdir -p "$XDG_DATA_HOME/natter/history"
tui_start 250 30 --db "$saved_data/natter/natter.db"
tm send-keys -t t "/set temp 0.5" Enter
wait_for "temp"
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 1
tm capture-pane -p -J -S - -t t | grep -q "natter: $XDG_DATA_HOME/natter/history: cannot save the input history: Is a directory" ||
    { pane >&2; fail "the failed history write was not reported"; }
XDG_DATA_HOME=$saved_data

# a database that cannot be written: a visible warning that stays, not a crash
tui_start 160 20 --db /proc/nonexistent/natter.db
wait_for "conversations will not be saved"
tm send-keys -t t "x"
wait_gone "conversations will not be saved"
pane | tail -1 | grep -q "NOT SAVED" || { pane >&2; fail "no lasting warning"; }
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0

# Ctrl-Z under a job-control shell: the terminal is given back, fg brings the chat back
if command -v bash >/dev/null; then
    tm kill-session -t t 2>/dev/null
    tm new-session -d -s t -x 100 -y 20 "env -i HOME='$TEST_TMPDIR' TERM=screen PATH=/usr/bin:/bin \
        LC_ALL=C.UTF-8 XDG_DATA_HOME='$XDG_DATA_HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' \
        bash --norc --noprofile -i" || fail "tmux new-session failed"
    sleep 0.3
    tm send-keys -t t "'$NATTER' -c" Enter
    wait_for "F1 help"
    tm send-keys -t t "typed"
    tm send-keys -t t C-z
    wait_for "Stopped"
    tm send-keys -t t "fg" Enter
    wait_for "> typed"
    tm send-keys -t t C-u C-q
    tm send-keys -t t 'echo "rc=$?"' Enter
    wait_for "rc=0"
fi

# a crash (SIGSEGV): the handler restores the terminal, then the process dies of the signal
tui_start 100 30 -c
wait_for "green tea"
kill -SEGV "$(tm display-message -p -t t '#{pane_pid}' | xargs pgrep -P | head -1)" 2>/dev/null
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 139
expect_eq "$(tm display-message -p -t t '#{alternate_on}')" 0

# NO_COLOR: no color escapes at all on the screen; with colors, the status bar has some
TUI_ENV="NO_COLOR=1"
tui_start 100 30 -c
wait_for "green tea"
tm capture-pane -e -p -t t | grep -Eq "$(printf '\033')\[([0-9;]*;)?(3[0-7]|4[0-7]|38|48)[;m]" &&
    fail "colors with NO_COLOR set"
tm send-keys -t t C-q
tui_wait_exit
TUI_ENV=""
tui_start 100 30 -c
wait_for "green tea"
tm capture-pane -e -p -t t | grep -Eq "$(printf '\033')\[([0-9;]*;)?(3[0-7]|4[0-7]|38|48)[;m]" ||
    fail "no colors without NO_COLOR"
tm send-keys -t t C-q
tui_wait_exit
pass
