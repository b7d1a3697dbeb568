#!/bin/sh
# tests/cli/tui_system.sh — system prompts and a conversation's settings in the chat, under tmux
# with ../shared/models/stories260K.gguf: -s with an unknown name says it is used as the text;
# /system none clears the prompt; replacing a saved conversation's prompt (F3, /system) asks
# first, n keeps it, y replaces it; a new chat (Ctrl-N) starts with -s's prompt, not the one of
# the conversation left; F4 says "auto" for ctx and threads; the status bar names the model's
# file (long names cut in the middle); a reopened conversation gets its sampling settings back
# (and says so), flags on the command line winning, and its own model when none is given; the
# confirmation wraps at 40 columns.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
M="$SHARED/models/stories260K.gguf"
# f3_pick KEYS... ANSWER: F3, KEYS to a prompt, Enter, until the question, then ANSWER.
f3_pick() {
    tm send-keys -t t F3
    wait_for "(none)"
    while [ $# -gt 1 ]; do tm send-keys -t t "$1"; shift; done
    tm send-keys -t t Enter
    wait_for "(y/n)"
    expect_contains "$(pane)" "y replace · n or Esc keep"
    tm send-keys -t t "$1"
}

tui_start 100 30 -m "$M" --temp 0 -n 4 -s pirate
pane | grep -q "no inference engine" && skip "this build has no inference engine yet"
wait_for "no system prompt named pirate: using the text as the prompt"
wait_for "ctx 0/" 30
expect_contains "$(pane | tail -1)" " stories260K │ "
# /system none: no prompt, not the text "none"
tm send-keys -t t "/system none" Enter
wait_for "system prompt: none"
pane | grep -q "pirate" && { pane >&2; fail "/system none kept the prompt"; }
pane | grep -q "^ *│ *none *$" && { pane >&2; fail "/system none set the text none"; }
tm send-keys -t t "/model stories2" Tab "x" # Tab completes a model of the search path
wait_for "> /model stories260Kx"
tm send-keys -t t C-u "/system coder" Enter
wait_for "You are an expert programmer."
tm send-keys -t t "Once upon a time" Enter
wait_for "4 tokens" 60
tm send-keys -t t "/set temp 0.3" Enter
wait_for "temp 0.3"
# the conversation is saved: F3 asks before its prompt is replaced; n keeps it
tm send-keys -t t F3
wait_for "Writing editor"
tm send-keys -t t Down Enter
wait_for "Replace the system prompt of this saved conversation (coder) with"
expect_contains "$(pane)" "│ concise? Its old text is not kept. (y/n)"
tm send-keys -t t n
wait_for "system prompt kept"
expect_contains "$(pane)" "You are an expert programmer."
f3_pick Down y
wait_for "You are a concise assistant."
wait_gone "You are an expert programmer."
# a new chat: -s's prompt again, not concise
tm send-keys -t t C-n
wait_gone "You are a concise assistant."
wait_for "no system prompt named pirate"
# F4: ctx and threads say they are automatic, and what that is
n_ctx=$(pane | sed -n 's/.* ctx [0-9]*\/\([0-9]*\) .*/\1/p' | tail -1)
[ -n "$n_ctx" ] || { pane >&2; fail "no context size in the status bar"; }
tm send-keys -t t F4
wait_for "ctx auto ($n_ctx)"
pane | grep -Eq "threads auto \([0-9]+\)" || { pane >&2; fail "threads is not auto (N)"; }
tm send-keys -t t Escape
tm send-keys -t t C-q
tui_wait_exit

# reopened: its prompt and its sampling settings (temp 0.3, -n 4) come back, and it says so
id=$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
[ -n "$id" ] || fail "no conversation saved"
tui_start 100 30 --conv "$id" -m "$M"
wait_for "this conversation's settings: temp 0.3, n-predict 4 (F4)" 30
expect_contains "$(pane)" "You are a concise assistant."
tm send-keys -t t F4
wait_for "temp 0.3"
tm send-keys -t t Escape
# a new chat goes back to the session's settings (temp 0.8, the default here)
tm send-keys -t t C-n F4
wait_for "temp 0.8"
expect_contains "$(pane)" "n-predict 512"
tm send-keys -t t Escape
tm send-keys -t t C-o
wait_for "Conversations"
tm send-keys -t t Enter # the conversation again: its settings again
wait_for "this conversation's settings: temp 0.3, n-predict 4 (F4)"
# at 40 columns the confirmation wraps: its question and keys stay visible
tm resize-window -t t -x 40 -y 16
f3_pick Home Escape
wait_for "system prompt kept"
# /system TEXT asks the same; y replaces (none here)
tm send-keys -t t "/system none" Enter
wait_for "with none?"
tm send-keys -t t y
wait_for "system prompt: none"
wait_gone "You are a concise assistant."
tm send-keys -t t C-q
tui_wait_exit
# a flag given on the command line wins over the conversation's setting
tui_start 100 30 --conv "$id" -m "$M" --temp 0.5
wait_for "; the command line's flags win" 30
tm send-keys -t t F4
wait_for "temp 0.5"
tm send-keys -t t Escape C-q
tui_wait_exit

# a long file name is cut in the middle in the status bar: its start and its quantization stay
L="$TEST_TMPDIR/Qwen2.5-Coder-7B-Instruct-stories-Q4_K_M.gguf"
cp "$M" "$L" || fail "cp"
tui_start 100 24 -m "$L" --temp 0 -n 2
wait_for "ctx 0/" 30
expect_contains "$(pane | tail -1)" " Qwen2.5-Code…ories-Q4_K_M │ "
tm send-keys -t t "Hi" Enter
wait_for "2 tokens" 60
expect_contains "$(pane)" "Qwen2.5-Coder-7B-Instruct-stories-Q4_K_M" # the reply's label: whole
tm send-keys -t t C-q
tui_wait_exit
# --conv without -m: the conversation's own model, not the last one used (the copy above)
tui_start 100 30 --conv "$id"
wait_for "ctx 0/" 30
expect_contains "$(pane | tail -1)" " stories260K │ "
tm send-keys -t t C-q
tui_wait_exit
# and when that file is gone, the last one used, with a notice
"$NATTER" run -m "$L" -p "Hi" -n 1 --save >/dev/null 2>&1 || fail "run --save"
id2=$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
mv "$L" "$TEST_TMPDIR/moved.gguf"
tui_start 100 30 --conv "$id2"
wait_for "this conversation's model"
wait_for "loading the last one used"
tm send-keys -t t C-q
tui_wait_exit
# an imported conversation naming a device (or a FIFO) as its model: not opened
printf '{"natter":1,"title":"dev","model":"/dev/null","messages":[{"role":"user","content":"hi"}]}' \
    >"$TEST_TMPDIR/dev.json"
id3=$("$NATTER" import "$TEST_TMPDIR/dev.json" | sed -n 's/^imported \([0-9a-f]*\) .*/\1/p')
[ -n "$id3" ] || fail "import"
tui_start 100 30 --conv "$id3"
wait_for "this conversation's model /dev/null is not there (not a regular file)"
tm send-keys -t t C-q
tui_wait_exit
pass
