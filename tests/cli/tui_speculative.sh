#!/bin/sh
# tests/cli/tui_speculative.sh — speculative decoding in the full-screen chat, under tmux: with
# prompt lookup (--lookup, also /set lookup) and with a draft model (--draft) the saved reply is
# the text plain decoding saves, and the reply's stats line shows the drafts kept; a draft model
# with another vocabulary is named in a notice and the chat goes on without it.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
M="$SHARED/models/stories260K.gguf"
L="$SHARED/models/syn-llama-Q4_K_M.gguf"
D="$SHARED/models/syn-llama-Q8_0.gguf"

# chat MODEL ARGS...: one turn of "Once upon a time" (60 tokens), prints the saved reply
chat() {
    m=$1
    shift
    tui_start 200 40 -m "$m" --temp 0 -n 60 "$@"
    wait_for "ctx 0/" 30
    tm send-keys -t t "Once upon a time" Enter
    wait_for "60 tokens" 60
    pane >"$TEST_TMPDIR/pane"
    tm send-keys -t t C-q
    tui_wait_exit
    id=$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
    "$NATTER" show "$id" | sed -n '/^── assistant/,$p' | sed 1d
}

plain=$(chat "$M")
[ "${#plain}" -gt 100 ] || fail "no reply saved: [$plain]"
spec=$(chat "$M" --lookup 8)
expect_eq "$spec" "$plain"
grep -q "drafts [0-9]*/[0-9]* kept" "$TEST_TMPDIR/pane" ||
    { cat "$TEST_TMPDIR/pane" >&2; fail "no drafts in the stats line"; }

plain=$(chat "$L")
[ "${#plain}" -gt 20 ] || fail "no reply saved: [$plain]"
spec=$(chat "$L" --draft "$D" --draft-max 4)
expect_eq "$spec" "$plain"
grep -q "drafts [0-9]*/[0-9]* kept" "$TEST_TMPDIR/pane" ||
    { cat "$TEST_TMPDIR/pane" >&2; fail "no drafts in the stats line (draft model)"; }

tui_start 200 40 -m "$L" --temp 0 -n 8 --draft "$M"
wait_for "draft model $M not used" 30
tm send-keys -t t "hi" Enter
wait_for "8 tokens" 30
tm send-keys -t t C-q
tui_wait_exit
pass
