#!/bin/sh
# tests/cli/tui_tree.sh — the chat's conversation tree and context ledger under tmux with the
# real binary and ../shared/models/stories260K.gguf (greedy): Ctrl-R adds a second version of
# the reply (‹2/2›, one reply on screen), Alt-Left/Right switch versions, an earlier message
# edited starts a branch beside it (the store keeps both), switching that branch and back
# keeps the reply version chosen below it, Alt-d deletes a message after asking,
# a search hit in another version opens that version,
# the input's ledger gives the draft's exact token count and the next turn's size, and in a
# small context the messages the next turn leaves out are marked while a pinned one is kept;
# a message that cannot fit is refused, not saved, and stays in the input.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
M="$SHARED/models/stories260K.gguf"
DB="$XDG_DATA_HOME/natter/natter.db"

tui_start 160 40 -m "$M" --temp 0 -n 8 --ctx 96
wait_for "ctx 0/96" 30
tm send-keys -t t "Once upon a time" Enter
wait_for "8 tokens" 60

# Ctrl-R: a second version beside the first, one reply on screen
tm send-keys -t t C-r
wait_for "‹2/2›"
wait_count "8 tokens" 1
sleep 0.3
expect_eq "$(pane | grep -c "8 tokens")" "1"
id=$("$NATTER" ls --json --db "$DB" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
expect_contains "$("$NATTER" ls --json --db "$DB")" '"messages":3'

# Alt-Left / Alt-Right: the versions, the choice kept in the store
tm send-keys -t t M-Left
wait_for "‹1/2›"
expect_contains "$("$NATTER" show "$id" --tree --db "$DB")" "* 2 assistant ‹1/2›"
tm send-keys -t t M-Right
wait_for "‹2/2›"
expect_contains "$("$NATTER" show "$id" --tree --db "$DB")" "* 3 assistant ‹2/2›"

# edit an earlier message: select it (Alt-Up from the last), Enter, a new text
tm send-keys -t t "The dog ran." Enter
wait_count "8 tokens" 2
tm send-keys -t t M-Up M-Up M-Up M-Up
wait_for "Enter edits"
tm send-keys -t t Enter
wait_for "e>Once upon a time"
# while editing, the ledger counts the turn the edit makes (the messages before it, then it)
printf '[{"role":"user","content":"Tim and Sam"}]' >"$TEST_TMPDIR/edit.json"
n=$("$NATTER" template tokens -m "$M" <"$TEST_TMPDIR/edit.json" | wc -w)
[ "$n" -gt 2 ] || fail "template tokens gave $n tokens"
tm send-keys -t t C-u "Tim and Sam"
wait_for "next turn $n/96"
tm send-keys -t t Enter
wait_for "You ‹2/2›"
wait_gone "The dog ran."
wait_count "8 tokens" 1
tree=$("$NATTER" show "$id" --tree --db "$DB" | sed -n '/^──/,$p' | sed 's/: .*//')
expect_eq "$tree" "── messages (* the active path, ‹version/versions›) ──
- 1 user ‹1/2›
  - 2 assistant ‹1/2›
  - 3 assistant ‹2/2›
    - 4 user
      - 5 assistant
* 6 user ‹2/2›
  * 7 assistant"
# and back to the first branch, as it was
tm send-keys -t t M-Up M-Up M-Left
wait_for "The dog ran."
# a deeper choice is remembered: the first reply's older version, the other branch and back
tm send-keys -t t M-Down M-Left
wait_gone "The dog ran."
tm send-keys -t t M-Up M-Right
wait_for "Tim and Sam"
tm send-keys -t t M-Left
wait_gone "Tim and Sam"
expect_contains "$("$NATTER" show "$id" --tree --db "$DB")" "* 2 assistant ‹1/2›"
sleep 0.3
pane | grep -q "The dog ran." && { pane >&2; fail "the older reply version was forgotten"; }
tm send-keys -t t M-Down M-Right
wait_for "The dog ran."
tm send-keys -t t M-Up

# Alt-d deletes the selected message and what follows, after asking
tm send-keys -t t M-Down M-Down
tm send-keys -t t M-d
wait_for "Delete this message and everything after it? (y/n)"
tm send-keys -t t n
wait_gone "Delete this message"
expect_contains "$("$NATTER" ls --json --db "$DB")" '"messages":7'
tm send-keys -t t M-d
wait_for "Delete this message"
tm send-keys -t t y
wait_for "deleted 2 messages"
wait_gone "The dog ran."
expect_contains "$("$NATTER" ls --json --db "$DB")" '"messages":5'

# a search hit in another version opens that version
wait_gone "Tim and Sam"
tm send-keys -t t C-f
wait_for "Search (Ctrl-F)"
tm send-keys -t t "Sam"
wait_for "[Sam]"
tm send-keys -t t Enter
wait_for "Tim and Sam"
wait_gone "Search (Ctrl-F)"

# the ledger: the draft's exact token count, and what the next turn uses of the context
tm send-keys -t t C-n
wait_for "Type a message"
draft="The cat sat on the warm mat and purred"
n=$("$NATTER" tokenize -m "$M" --no-bos "$draft" | wc -w)
[ "$n" -gt 5 ] || fail "tokenize gave $n tokens"
tm send-keys -t t "$draft"
wait_for "draft $n tok · next turn "
tm send-keys -t t C-u

# a small context: the next turn leaves the oldest turn out, but not a pinned one
tm send-keys -t t "Once upon a time there was a dog" Enter
wait_count "8 tokens" 1
tm send-keys -t t "The dog liked to run in the park" Enter
wait_count "8 tokens" 2
tm send-keys -t t "One day the dog met a cat" Enter
wait_count "8 tokens" 3
tm send-keys -t t M-Up M-Up M-Up M-Up M-Up M-Up M-p
wait_for "You · pinned"
tm send-keys -t t Escape
tm send-keys -t t "The cat was big and the dog was small and they played all day long in the sun and the moon"
wait_for "left out of the next turn"
wait_for "left out) "
pane | grep -q "You · pinned · left out" && { pane >&2; fail "the pinned message is left out"; }
expect_eq "$(pane | grep -c "left out of the next turn")" "2"
tm send-keys -t t Enter
wait_count "8 tokens" 4
wait_for "context full: the 2 oldest messages are no longer given to the model"

# a message that cannot fit at all is refused: not saved, and still in the input
before=$("$NATTER" ls --json --db "$DB")
long=$(printf 'dog cat %.0s' $(seq 60))
tm send-keys -t t "$long" Enter
wait_for "the message does not fit in the context"
pane | grep -q "^> dog cat dog cat" || { pane >&2; fail "the refused message left the input"; }
expect_eq "$("$NATTER" ls --json --db "$DB")" "$before"
tm send-keys -t t C-q
tui_wait_exit
pass
