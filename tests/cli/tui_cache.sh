#!/bin/sh
# tests/cli/tui_cache.sh — the chat and the context snapshots on disk, end to end under tmux:
# after a reply the context is saved in $XDG_CACHE_HOME/natter; natter started again on the
# same conversation (-c) gives its next turn the restored tokens (a new process has nothing in
# memory), for stories260K and the hybrid LFM2 (its state from a checkpoint); the cache
# directory removed while the chat runs is made again by the next snapshot.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
for M in "$SHARED/models/stories260K.gguf" "$SHARED/models-2026/syn26-lfm2-Q8_0.gguf"; do
    [ -f "$M" ] || continue
    rm -rf "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
    tui_start 220 40 -m "$M" --temp 0 -n 12
    wait_for "ctx 0/" 30
    tm send-keys -t t "Once upon a time" Enter
    wait_for "12 tokens" 60
    tm send-keys -t t C-q
    tui_wait_exit
    [ "$(ls "$XDG_CACHE_HOME/natter" | grep -c '\.nkv$')" -eq 1 ] || fail "$M: no snapshot"
    tui_start 220 40 -m "$M" --temp 0 -n 12 -c
    wait_for "12 tokens" 30
    tm send-keys -t t "The end." Enter
    wait_count "12 tokens" 2
    cached=$(pane | sed -n 's/.*12 tokens · prompt [0-9]* (+\([0-9]*\) cached).*/\1/p' | tail -1)
    [ "${cached:-0}" -ge 4 ] || { pane >&2; fail "$M: the restarted chat restored ${cached:-0} tokens"; }
    # the cache directory removed while the chat runs: the next reply's snapshot makes it again
    rm -rf "$XDG_CACHE_HOME/natter"
    tm send-keys -t t "Again." Enter
    wait_count "12 tokens" 3
    i=0
    until [ "$(ls "$XDG_CACHE_HOME/natter" 2>/dev/null | grep -c '\.nkv$')" -ge 1 ] || [ "$i" -ge 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ "$i" -lt 100 ] || { pane >&2; fail "$M: no snapshot after the cache directory was removed"; }
    pane | grep -q "cache: cannot" && { pane >&2; fail "$M: a cache error after the removal"; }
    tm send-keys -t t C-q
    tui_wait_exit
done
pass
