#!/bin/sh
# tests/cli/tui_hybrid.sh — a hybrid (recurrent) model in the full-screen chat, end to end under
# tmux: LFM2 (short-convolution layers whose state cannot be rewound) and Qwen3.5 (gated
# DeltaNet). The second turn resumes from the state the first left (its tokens come from the
# cache), Ctrl-R regenerates the last reply from the checkpoint at its prompt's end, and the
# chat goes on after it.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
for f in syn26-lfm2-Q8_0 syn26-qwen35-Q8_0; do
    M="$SHARED/models-2026/$f.gguf"
    [ -f "$M" ] || skip "no $M"
    tui_start 220 40 -m "$M" --temp 0 -n 12
    wait_for "ctx 0/" 30
    tm send-keys -t t "Once upon a time" Enter
    wait_for "12 tokens" 60
    tm send-keys -t t "The end." Enter
    wait_count "12 tokens" 2
    cached=$(pane | sed -n 's/.*12 tokens · prompt [0-9]* (+\([0-9]*\) cached).*/\1/p' | tail -1)
    [ "${cached:-0}" -ge 4 ] || { pane >&2; fail "$f: the second turn reused only ${cached:-0} tokens"; }
    tm send-keys -t t C-r
    sleep 0.3
    wait_count "12 tokens" 2
    [ "$(pane | grep -c "12 tokens")" -eq 2 ] || { pane >&2; fail "$f: regenerate added a reply"; }
    pane | grep -q "generation failed\|error" && { pane >&2; fail "$f: an error after regenerate"; }
    tm send-keys -t t "Again." Enter
    wait_count "12 tokens" 3
    tm send-keys -t t C-q
    tui_wait_exit
done
pass
