#!/bin/sh
# tests/cli/tui_reasoning.sh — a reply's reasoning in the full-screen chat, end to end under tmux
# with the real stories260K model and a chat template of the user's whose generation prompt
# opens <think> (as DeepSeek R1's does), so the reply starts inside its reasoning: it streams
# dimmed under "▾ thinking…"; F7 stops it and continues with "</think>" appended, so the answer
# starts; both are saved apart; a finished reply's reasoning is folded to one line and F6
# unfolds it; /think off closes the thinking in the prompt (no reasoning), is shown in the
# status bar and kept for the next start, where --think on wins; NO_COLOR still dims it.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
M="$SHARED/models/stories260K.gguf"
mkdir -p "$XDG_CONFIG_HOME/natter/prompts/templates"
cat >"$XDG_CONFIG_HOME/natter/prompts/templates/think.tmpl" <<'T'
description = "test: the generation prompt opens the reasoning"
system.suffix = "\n\n"
user.suffix = "\n"
generation = "<think>\n"
T
ESC=$(printf '\033')
think_line="One day, a little girl named Lily went to the park"

# 1. streaming reasoning, dimmed; F7 ends the thinking and the answer follows
tui_start 160 40 -m "$M" --temp 0 -n 0 --ctx 16384 # long: Esc must come before the end, even under load
wait_for "ctx 0/" 30
tm send-keys -t t "/template think" Enter
wait_for "chat template think"
tm send-keys -t t "Once upon a time" Enter
wait_for "thinking… (F7 answers now)"
wait_for "$think_line"
pane | tail -1 | grep -q "│ thinking" || { pane >&2; fail "the status bar does not say thinking"; }
tm capture-pane -p -e -t t | grep -F "$think_line" | grep -qF "$ESC[2m" ||
    { tm capture-pane -p -e -t t | cat -v >&2; fail "the reasoning is not dimmed"; }
tm send-keys -t t F7
wait_for "▾ thought for"
# the answer streams (saved as it grows: wait until the store has some), then Esc stops it
id=$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
i=0
until "$NATTER" export "$id" --format json | grep -q '"role":"assistant","content":"[^"]'; do
    i=$((i + 1))
    [ "$i" -lt 600 ] || { pane >&2; fail "no answer after F7"; }
    sleep 0.1
done
tm send-keys -t t Escape
wait_for "[stopped]" 30
# the continuation processed only the end-of-thinking tokens ("</think>\n\n": 10 here)
pane | grep -q "tokens · prompt 10 (+[0-9]* cached)" || { pane >&2; fail "F7 reprocessed the prompt"; }
json=$("$NATTER" export "$id" --format json)
expect_contains "$json" "\"reasoning_content\":\"$think_line"
printf '%s' "$json" | grep -q '"role":"assistant","content":"[^"]' ||
    fail "no answer after F7: $json"
expect_contains "$json" '"finish":"stopped"'

# 2. a finished reply's reasoning is one line; F6 unfolds and folds it
tm send-keys -t t C-n
wait_for "Type a message and press Enter"
tm send-keys -t t "/set n-predict 24" Enter
tm send-keys -t t "Once upon a time" Enter
wait_for "24 tokens"
wait_for "▸ thought for"
pane | grep "▸ thought for" | grep -Eq "\(([0-9]+) tokens\)" || { pane >&2; fail "no token count"; }
pane | grep -qF "$think_line" && { pane >&2; fail "the reasoning is not folded"; }
tm send-keys -t t F6
wait_for "▾ thought for"
wait_for "$think_line"
tm send-keys -t t F6
wait_gone "$think_line"
tm send-keys -t t F1
wait_for "F7             while the reply thinks"
tm send-keys -t t Escape
wait_gone "F7             while the reply thinks"
# F7 when nothing thinks says so
tm send-keys -t t F7
wait_for "no reply is streaming"

# 3. /think off: the prompt closes the thinking, the reply has none; kept for the next start
tm send-keys -t t "/think off" Enter
wait_for "thinking off"
pane | tail -1 | grep -q "│ think off" || { pane >&2; fail "the status bar does not say think off"; }
tm send-keys -t t C-n
wait_for "Type a message and press Enter"
tm send-keys -t t "Once upon a time" Enter
wait_for "24 tokens"
pane | grep -q "thought" && { pane >&2; fail "a reply with thinking off has reasoning"; }
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0
json=$("$NATTER" export "$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')" --format json)
case "$json" in *reasoning_content*) fail "thinking off saved reasoning: $json";; esac
expect_contains "$json" '"think":0'

TUI_ENV="NO_COLOR=1"
tui_start 120 40 -m "$M" --temp 0 -n 24
wait_for "ctx 0/" 30
pane | tail -1 | grep -q "│ think off" || { pane >&2; fail "think off was not kept"; }
tm send-keys -t t "/think" Enter
wait_for "thinking off (/think on or /think off)"
tm send-keys -t t C-q
tui_wait_exit
tui_start 120 40 -m "$M" --temp 0 -n 24 --think on
wait_for "ctx 0/" 30
pane | tail -1 | grep -q "think off" && { pane >&2; fail "--think on did not win"; }
# NO_COLOR: no colours, the reasoning still dimmed
tm send-keys -t t "/template think" Enter
wait_for "chat template think"
tm send-keys -t t "Once upon a time" Enter
wait_for "▸ thought for"
row=$(tm capture-pane -p -e -t t | grep -F "thought for")
case "$row" in *"$ESC[2m"*) ;; *) fail "NO_COLOR: the folded line is not dim: $(printf '%s' "$row" | cat -v)";; esac
case "$row" in *"$ESC[3"[0-7]m*) fail "NO_COLOR: colours used: $(printf '%s' "$row" | cat -v)";; esac
tm send-keys -t t C-q
tui_wait_exit
pass
