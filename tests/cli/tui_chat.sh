#!/bin/sh
# tests/cli/tui_chat.sh — the full-screen chat end to end under tmux with the real binary and
# ../shared/models/stories260K.gguf at --temp 0: a prompt streams the reference reply with its
# stats line; Esc mid-reply keeps the partial reply marked stopped; a new chat; a resize to 60x20
# mid-reply; a CJK prompt; Ctrl-Q; `natter -c` resumes; SIGTERM mid-reply saves the partial reply;
# the KV cache is reused across turns; Up edits and resends, Ctrl-R regenerates; a conversation
# longer than the context drops old turns.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
M="$SHARED/models/stories260K.gguf"
ref=$(sed -n '/^case 0$/,/^end$/s/^text //p' "$SHARED/reference/stories260K.ref")
[ -n "$ref" ] || fail "no reference text"

# 1. the reference reply (48 tokens, greedy) with its stats line
tui_start 220 40 -m "$M" --temp 0 -n 48
pane | grep -q "no inference engine" && skip "this build has no inference engine yet"
wait_for "ctx 0/" 30
tm send-keys -t t "Once upon a time" Enter
wait_for "48 tokens" 120
expect_contains "$(pane)" "$ref"
pane | grep -Eq "48 tokens · prompt 5 \(\+0 cached\) [0-9.]+ t/s · gen [0-9.]+ t/s · first token [0-9]+ ms" ||
    { pane >&2; fail "no stats line"; }

# 1b. the next turn reuses the KV cache: only its new tokens are processed
tm send-keys -t t "Then she went home." Enter
wait_count "48 tokens" 2
cached=$(pane | sed -n 's/.*48 tokens · prompt [0-9]* (+\([0-9]*\) cached).*/\1/p' | tail -1)
[ "${cached:-0}" -ge 50 ] || { pane >&2; fail "the second turn reused only ${cached:-0} tokens"; }

# 1c. Up on an empty input edits the last message; Enter resends it in place of the old turn
tm send-keys -t t Up
wait_for "e>Then she went home."
tm send-keys -t t C-u "Then she slept." Enter
wait_for "Then she slept."
wait_gone "Then she went home."
wait_count "48 tokens" 2
# Ctrl-R regenerates the last reply: it replaces the old one (still two replies on screen)
tm send-keys -t t C-r
sleep 0.2
wait_count "48 tokens" 2
[ "$(pane | grep -c "48 tokens")" -eq 2 ] || { pane >&2; fail "regenerate added a reply"; }

# 2. Esc mid-reply: a long reply (until the context is full) stopped at once
tm send-keys -t t "/set n-predict 0" Enter
tm send-keys -t t "The dog" Enter
tm send-keys -t t Escape
wait_for "[stopped]" 30

# 3. a new chat
tm send-keys -t t C-n
wait_for "Type a message and press Enter"

# 4. resize to 60x20 in the middle of a reply
tm send-keys -t t "/set n-predict 300" Enter
tm send-keys -t t "The cat" Enter
tm resize-window -t t -x 60 -y 20
wait_for "300 tokens" 120
[ "$(tm display-message -p -t t '#{window_width}x#{window_height}')" = "60x20" ] ||
    fail "the window was not resized"
pane | tail -1 | grep -q "ctx [0-9]*/2048" || { pane >&2; fail "no status bar after the resize"; }
[ "$(pane | wc -l)" -eq 20 ] || fail "the pane is not 20 rows"

# 2b. reading back while a reply streams: PgUp holds the view, PgDn returns to the bottom
tm send-keys -t t "/set n-predict 200" Enter
tm send-keys -t t "Tim and Sue" Enter
tm send-keys -t t PPage
wait_for "↓"
a=$(pane | head -5)
sleep 0.3
b=$(pane | head -5)
expect_eq "$b" "$a"
tm send-keys -t t NPage NPage NPage NPage NPage NPage NPage NPage NPage NPage NPage NPage
wait_for "200 tokens" 120
wait_gone "↓"

# 5. a CJK prompt: shown whole, the reply finishes
tm send-keys -t t C-n
wait_for "Type a message and press Enter"
tm send-keys -t t "/set n-predict 8" Enter
tm send-keys -t t "中文 日本語 한국어" Enter
wait_for "8 tokens" 120
expect_contains "$(pane)" "中文 日本語 한국어"

# 5b. /template picks another chat template for the loaded model; the status bar shows it
tm send-keys -t t "/template nosuch" Enter
wait_for "no chat template 'nosuch'"
tm send-keys -t t "/template chatml" Enter
wait_for "chat template chatml"
pane | tail -1 | grep -q "│ chatml │" || { pane >&2; fail "the status bar does not show chatml"; }
tm send-keys -t t "/template completion" Enter
wait_for "chat template completion"

# 6. Ctrl-Q, then natter -c resumes the last conversation
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0
tui_start 100 30 -c -m "$M" --temp 0
wait_for "中文 日本語 한국어"
wait_for "8 tokens"
tm send-keys -t t C-q
tui_wait_exit

# 7. SIGTERM mid-reply: the partial reply is saved (finish "stopped") and the terminal restored
tui_start 100 30 -m "$M" --temp 0 -n 0
wait_for "ctx 0/" 30
tm send-keys -t t "Lily and Tom" Enter
wait_for "Lily and Tom"
kill -TERM "$(tm display-message -p -t t '#{pane_pid}' | xargs pgrep -P | head -1)" 2>/dev/null
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 143
expect_eq "$(tm display-message -p -t t '#{alternate_on}')" 0
id=$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
out=$("$NATTER" export "$id" --format json) || fail "export failed"
expect_contains "$out" '"content":"Lily and Tom"'
expect_contains "$out" '"finish":"stopped"'

# 8. a conversation longer than the context: the oldest turns are left out, and it says so
tui_start 120 40 -m "$M" --temp 0 -n 16 --ctx 96
wait_for "ctx 0/96" 30
n=0
for msg in "Once upon a time there was a cat" "The cat liked to play with a red ball" \
           "One day the ball rolled far away" "The cat ran after the ball"; do
    n=$((n + 1))
    tm send-keys -t t "$msg" Enter
    wait_count "tokens · prompt" "$n"
done
wait_for "context full: the"
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$TEST_TMPDIR/rc")" 0
pass
