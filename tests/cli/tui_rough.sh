#!/bin/sh
# tests/cli/tui_rough.sh — the chat's rough edges a new user hits, under tmux: with no models
# the start screen names $XDG_DATA_HOME's directory and F2 shows an empty picker that says where
# models go; a message typed without a model stays in the input; Ctrl-C clears a draft and
# Ctrl-C again brings it back; Up and Down move between a draft's lines; Tab completes slash
# commands and the names they take; a long notice and the help wrap instead of being cut (a
# notice taller than half the screen ends with …); at 40x12 the popups scroll, say which rows
# they show and keep their keys visible; /exit, /q and Ctrl-D quit;
# two chats at once both keep their input history; the stats line wraps at 80 columns.
. tests/lib.sh
. tests/tui_lib.sh
[ -n "$SHARED" ] && SHARED=$(cd "$SHARED" && pwd)
cd "$TEST_TMPDIR" || fail "cd" # no ../shared/models from here: no models at all
HIST="$XDG_DATA_HOME/natter/history"

tui_start 80 24
wait_for "To chat, put a GGUF model in"
wait_for " $XDG_DATA_HOME/natter/models"
tm send-keys -t t F2
wait_for "(no models found)"
wait_for "put .gguf files in $XDG_DATA_HOME/natter/models or set"
tm send-keys -t t Escape
wait_gone "(no models found)"
# typed without a model: kept
tm send-keys -t t "hello there" Enter
wait_for "no model loaded: F2 picks one"
expect_contains "$(pane)" "> hello there"
# Ctrl-C clears, Ctrl-C again restores
tm send-keys -t t C-c
wait_for "input cleared (Ctrl-C again brings it back)"
pane | grep -q "> hello there" && fail "Ctrl-C did not clear the input"
tm send-keys -t t C-c
wait_for "> hello there"
# Up in a draft of two lines moves to the first line (same column), Down back
tm send-keys -t t C-u "line one" C-j "line two" Up "X" Down "Y"
wait_for "> line oneX"
wait_for "  line twoY"
# Tab completes a command; several candidates are listed
tm send-keys -t t C-u C-k "/he" Tab "x"
wait_for "> /help x"
tm send-keys -t t C-u "/th" Tab "x"
wait_for "> /think x"
tm send-keys -t t C-u "/re" Tab
wait_for "/regen /rename"
expect_contains "$(pane)" "> /re"
# and the names a command takes: system prompts, templates, settings, on/off
tm send-keys -t t C-u "/system co" Tab
wait_for "coder concise"
tm send-keys -t t "d" Tab "x"
wait_for "> /system coderx"
tm send-keys -t t C-u "/template chatg" Tab
wait_for "chatglm3 chatglm4"
expect_contains "$(pane)" "> /template chatglm"
tm send-keys -t t C-u "/set te" Tab "x"
wait_for "> /set tempx"
tm send-keys -t t C-u "/think of" Tab "x"
wait_for "> /think offx"
tm send-keys -t t C-u "/model sto" Tab # no models here
wait_for "no name starts with sto"
# a long notice wraps: its end stays visible
long=$(printf 'x%.0s' $(seq 120))
tm send-keys -t t C-u "/$long" Enter
wait_for "(try /help)"
# the help wraps at 60 columns, a description under itself; taller than the screen, it scrolls
tm resize-window -t t -x 60 -y 24
tm send-keys -t t F1
wait_for "Up/Down scroll"
expect_contains "$(pane)" "│ Ctrl-C         stop the reply, or clear the input    │
  │                (Ctrl-C again undoes)"
tm send-keys -t t End
wait_for "(/exit, /q)"
expect_contains "$(pane)" "  │ /export [FILE]  /search [QUERY]    " # not under the keys' column
expect_contains "$(pane)" "│ F8             select a message: Up/Down move, y     │
  │                copies it, 1-9 its code block N (OSC  │"
tm send-keys -t t Escape
wait_gone "Keys (F1)"
# a notice longer than the row: every template named (the last one is zephyr)
tm send-keys -t t C-u "/template" Enter
wait_for "zephyr"
# at 40x12 the popups scroll and say where they are; their keys fit
tm resize-window -t t -x 40 -y 12
tm send-keys -t t F4
wait_for "1/18 "
tm send-keys -t t End
wait_for "18/18 "
expect_contains "$(pane)" "markdown on"
tm send-keys -t t Escape F1
wait_for "Up/Down · Esc close"
# at 40 columns the keys' column is gone: each line wraps as text; the /commands never had it
expect_contains "$(pane)" "│ Alt-Enter, C-j new line in the   │
  │ message (pasted text keeps its   │"
pane | grep -Eq "1-7/[0-9]+ " || { pane >&2; fail "the help does not say which rows it shows"; }
tm send-keys -t t NPage # half a screen on
wait_for " 7-13/"
tm send-keys -t t Escape
wait_gone "Keys (F1)"
# a notice taller than half the transcript ends with … (here at 40x12)
tm send-keys -t t C-u "/template" Enter
wait_for "…"
tm resize-window -t t -x 60 -y 24
tm send-keys -t t C-u "/exit" Enter
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0

tui_start 80 24
tm send-keys -t t "/q" Enter
tui_wait_exit
tui_start 80 24
tm send-keys -t t C-d
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0

# two chats at once: each appends its own lines to the history at exit
rm -f "$HIST"
tui_start 80 24
tm new-session -d -s u -x 80 -y 24 "env LC_ALL=C.UTF-8 XDG_DATA_HOME='$XDG_DATA_HOME' '$NATTER'"
tm send-keys -t t "alpha one" Enter
i=0
until tm capture-pane -p -t u | grep -q "F1 help"; do
    i=$((i + 1)); [ "$i" -lt 200 ] || fail "the second chat did not start"; sleep 0.05
done
tm send-keys -t u "beta two" Enter
sleep 0.2
tm send-keys -t t C-q
tui_wait_exit
tm send-keys -t u C-q
i=0
while tm has-session -t u 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 200 ] || fail "the second chat did not exit"; sleep 0.05
done
grep -qx "alpha one" "$HIST" || fail "the first chat's history is lost: $(cat "$HIST")"
grep -qx "beta two" "$HIST" || fail "the second chat's history is lost: $(cat "$HIST")"
# the next start has both: Up recalls the newest
tui_start 80 24
tm send-keys -t t Up
wait_for "> beta two"
tm send-keys -t t C-q
tui_wait_exit

# the stats line at 80 columns: it wraps, nothing is cut
[ -n "$SHARED" ] && [ -f "$SHARED/models/stories260K.gguf" ] ||
    { echo "the stats line part needs ../shared/models"; pass; }
tui_start 80 30 -m "$SHARED/models/stories260K.gguf" --temp 0 -n 8
pane | grep -q "no inference engine" && pass
wait_for "ctx 0/" 30
tm send-keys -t t "Once upon a time" Enter
wait_for "8 tokens" 60
wait_for "first token"
pane | grep -Eq "gen [0-9.]+ t/s" || { pane >&2; fail "the stats line lost its speed"; }
tm send-keys -t t C-q
tui_wait_exit
pass
