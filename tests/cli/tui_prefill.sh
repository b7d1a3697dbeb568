#!/bin/sh
# tests/cli/tui_prefill.sh — type-ahead prefill in the chat, end to end under tmux: a draft
# left to rest is processed in the background, so Enter leaves only its last tokens to compute
# (the reply's "prompt N" is small), and the reply is the one a chat without the rest (all the
# text at once) writes; an edit of the draft is processed again from what still matches.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
M="$SHARED/models/stories260K.gguf"
rest=
export NATTER_CACHE_MAX=0   # the prompts come from memory only
# session PART...: a chat's first turn, then the parts of the second one typed with a rest
# between them (none after the last: Enter follows at once); prints "processed restored"
session() {
    tui_start 220 40 -m "$M" --temp 0 -n 12
    wait_for "ctx 0/" 30
    tm send-keys -t t "Once upon a time" Enter
    wait_for "12 tokens" 60
    for part in "$@"; do
        [ -n "$rest" ] && sleep 1
        rest=1
        tm send-keys -t t -l "$part"
    done
    rest=
    tm send-keys -t t Enter
    wait_count "12 tokens" 2
    pane | sed -n 's/.*12 tokens · prompt \([0-9]*\) (+\([0-9]*\) cached).*/\1 \2/p' | tail -1
    tm send-keys -t t C-q
    tui_wait_exit
}
all=$(session "The little girl went to the park with her mom")
n_all=${all% *}
rested=$(session "The little girl went to the park with her " "mom")
n_rested=${rested% *}
[ "$n_rested" -lt "$n_all" ] || fail "the rested draft was not processed ahead: $rested vs $all"
[ "$n_rested" -le 3 ] || fail "Enter left $n_rested tokens to compute ($rested; at once: $all)"
# an edit: "shop with her " typed and rested, then erased, "park with her " typed and rested
erase=$(printf '%014d' 0 | tr 0 '\177')
edited=$(session "The little girl went to the shop with her " "${erase}park with her " "mom")
n_edited=${edited% *}
[ "$n_edited" -le 3 ] || fail "after the edit, Enter left $n_edited tokens to compute ($edited)"
# the same replies in the three chats (the export lists the newest first)
replies=$("$NATTER" export --all --format json | grep -o '"role":"assistant","content":"[^"]*"')
[ "$(printf '%s\n' "$replies" | sort -u | wc -l)" -eq 2 ] ||
    fail "the chats wrote different replies: $replies"
pass
