#!/bin/sh
# tests/cli/tui_markdown.sh — rendered Markdown and copying in the chat under tmux (no model
# needed): an imported conversation's reply shows without its Markdown markers, with colours
# (capture-pane -e), its code block boxed and its text kept; F8 then 1 copies the code block
# and /copy the whole reply into tmux's buffer by OSC 52 (set-clipboard on); a resize re-flows
# the rendered text; /set markdown off shows the source; NO_COLOR keeps it readable without
# colours; NATTER_CLIPBOARD=file copies to $XDG_STATE_HOME/natter/clipboard.txt; escape bytes
# in the reply and its link target never reach the terminal; with NATTER_HYPERLINKS=1 the
# OSC 8 links written after each frame leave the pane's text as it was.
. tests/lib.sh
. tests/tui_lib.sh
export XDG_STATE_HOME="$TEST_TMPDIR/state"
esc=$(printf '\033')
cat >"$TEST_TMPDIR/conv.json" <<'J'
[{"role": "user", "content": "Show me **markdown**"},
 {"role": "assistant", "content": "# Heading One\n\nSome **bold** text, *italic*, `inline code` and a [link](https://example.org/page).\n\n- first item\n- second item\n\n```python\ndef hello(name):\n    return \"hi \" + name  # greet\n```\n\n| col | value |\n|-----|------:|\n| a | 1 |\n\nDone \u001b[31mred\u001b[0m [x](http://e/\u001b]8;;evil\u0007)."}]
J
"$NATTER" import "$TEST_TMPDIR/conv.json" >/dev/null || fail "import"

TUI_ENV="NATTER_HYPERLINKS=1" tui_start 100 40 -c
tm set-option -s set-clipboard on
wait_for "Heading One"
p=$(pane)
expect_contains "$p" "Some bold text, italic, inline code and a link
                         │   <https://example.org/page>."
expect_contains "$p" "│ def hello(name):"
expect_contains "$p" '│     return "hi " + name  # greet'
expect_contains "$p" "┌─ python ─"
expect_contains "$p" "• first item"
expect_contains "$p" "col │ value"
expect_contains "$p" "a   │     1"
expect_contains "$p" "Done ^[[31mred^[[0m"
for marker in "# Heading" "**bold**" '`inline' '```' "[link]" "|-----"; do
    case "$p" in *"$marker"*) fail "the marker [$marker] is shown";; esac
done
# colours: the heading bold+underlined cyan, the keyword magenta, the comment blue
pe=$(tm capture-pane -e -p -t t)
expect_contains "$pe" "${esc}[1;4m${esc}[36mHeading One"
expect_contains "$pe" "${esc}[35mdef"
expect_contains "$pe" "${esc}[34m# greet"
# no escape sequence of the reply's own: only SGR (ESC [ ... m) and, with a tmux that keeps
# hyperlinks, the link's own OSC 8 in the capture
printf '%s' "$pe" | grep -a "$esc" | sed "s/$esc\[[0-9;]*m//g; s|$esc]8;;https://example.org/page$esc\\\\||g; s|$esc]8;;$esc\\\\||g" | grep -q "$esc" &&
    fail "an escape sequence other than SGR reached the pane"

# F8 selects the reply, 1 copies its code block by OSC 52 into tmux's buffer
tm send-keys -t t F8
wait_for "y copies, 1-9 its code block"
tm send-keys -t t 1
wait_for "copied 2 lines to the clipboard (OSC 52)"
expect_eq "$(tm show-buffer)" 'def hello(name):
    return "hi " + name  # greet'
# /copy: the whole reply as written, without its control bytes
tm send-keys -t t "/copy" Enter
wait_for "copied 17 lines to the clipboard (OSC 52)"
buf=$(tm show-buffer)
expect_contains "$buf" "# Heading One"
expect_contains "$buf" "Done [31mred[0m [x](http://e/]8;;evil)."
tm send-keys -t t "/copy 2" Enter
wait_for "this message has no code block 2"

# a resize re-flows the rendered text: the paragraph wraps at the new width
tm resize-window -t t -x 60 -y 40
wait_for "   a link <https://example.org/page>."
p=$(pane)
expect_contains "$p" "│   Some bold text, italic, inline code and
               │   a link <https://example.org/page>."
rule=$(printf '─%.0s' $(seq 30)) # the box fills the 40 columns of text
expect_contains "$p" "│   ┌─ python $rule
"
expect_contains "$p" "│ def hello(name):"

# the setting turns rendering off: the source shows (and it stays off at the next start)
tm send-keys -t t "/set markdown off" Enter
wait_for "**bold**"
expect_contains "$(pane)" '```python'
tm send-keys -t t C-q
tui_wait_exit

# the setting is kept for the next start; NO_COLOR: still rendered, no colours; the clipboard
# file when OSC 52 is off
TUI_ENV="NO_COLOR=1 NATTER_CLIPBOARD=file XDG_STATE_HOME='$XDG_STATE_HOME'" tui_start 100 40 -c
wait_for "**bold**"
tm send-keys -t t "/set markdown on" Enter
wait_for "Heading One"
wait_gone "**bold**"
pe=$(tm capture-pane -e -p -t t)
case "$pe" in *"${esc}[3"[0-7]m*) fail "colours with NO_COLOR";; esac
expect_contains "$(pane)" "│ def hello(name):"
tm send-keys -t t "/copy 1" Enter
wait_for "copied to $XDG_STATE_HOME/natter/clipboard.txt"
expect_eq "$(cat "$XDG_STATE_HOME/natter/clipboard.txt")" 'def hello(name):
    return "hi " + name  # greet'
tm send-keys -t t C-q
tui_wait_exit
pass
