#!/bin/sh
# tests/cli/tui_robust.sh — the chat under tmux when files change underneath it: a message
# holding U+0000 shows as ^@; the model file truncated mid-reply ends the reply with "the model
# file changed on disk: reload it", the partial reply stays (marked error, saved), the chat goes
# on and /model loads the file again; the database replaced by another file (mv) or made
# read-only mid-chat says NOT SAVED, keeps the conversation on screen and writes nothing more;
# a SIGBUS that is no model's (a real crash) still restores the terminal and kills natter.
. tests/lib.sh
need_shared
. tests/tui_lib.sh
D="$TEST_TMPDIR"
S="$SHARED/models/stories260K.gguf"

# 1. U+0000 in the transcript: visible, harmless, the text after it kept
printf '[{"role":"user","content":"left\\u0000right"}]' >"$D/nul.json"
id=$("$NATTER" import "$D/nul.json" | sed -n 's/^imported \([0-9a-f]*\) .*/\1/p')
[ -n "$id" ] || fail "import failed"
tui_start 100 30 --conv "$id"
wait_for "left^@right"
tm send-keys -t t C-q
tui_wait_exit

# 2. the model file truncated while a reply streams (a 48 MB F32 model: ~10 s of reply)
"$NATTER_TOOLS/mkmodel" -o "$D/orig.gguf" -v "$SHARED/vocab/ggml-vocab-llama-spm.gguf" \
    --type F32 --n-embd 256 --n-layer 2 --n-ff 512 --ctx 4096 || fail "mkmodel failed"
cp "$D/orig.gguf" "$D/m.gguf"
size=$(wc -c <"$D/m.gguf")
tui_start 120 40 -m "$D/m.gguf" --temp 0 -n 3000 --ctx 4096 -t 2
wait_for "ctx 0/4096" 30
tm send-keys -t t "Hello" Enter
wait_for " t/s │ RSS" 30 # the live speed: the reply is streaming
truncate -s $((size / 2)) "$D/m.gguf"
wait_for "the model file changed on disk: reload it (/model with no name loads it again)" 30
wait_for "(error)"
pane | grep -q "F1 help" || fail "the chat is gone"
cid=$("$NATTER" ls --json | sed 's/^\[{"id":"\([0-9a-f]*\)".*/\1/')
json=$("$NATTER" export "$cid" --format json)
expect_contains "$json" '"finish":"error"'
case "$json" in *'"role":"assistant","content":"",'*) fail "the partial reply was not saved";; esac
# sending again says so before any reply starts; /model loads the file again once it is whole
tm send-keys -t t "Again" Enter
wait_for "Again"
wait_for "the model file changed on disk"
# a message refused before its reply started goes back into the input, unsaved: clear it
tm send-keys -t t C-c
cp "$D/orig.gguf" "$D/m.gguf"
tm send-keys -t t "/model" Enter
wait_for "loaded " 60
tm send-keys -t t "/set n-predict 8" Enter
tm send-keys -t t C-r
wait_for "8 tokens" 60
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$D/rc")" 0

# 3. the database replaced mid-chat by another one (mv): NOT SAVED, the chat goes on, nothing
# is written into the file now at the path
printf '[{"role":"user","content":"the other database"}]' >"$D/other.json"
"$NATTER" import "$D/other.json" --db "$D/other.db" >/dev/null || fail "import failed"
other_before=$("$NATTER" export --all --format json --db "$D/other.db")
tui_start 120 40 -m "$S" --temp 0 -n 8 --db "$D/chat.db"
wait_for "ctx 0/" 30
tm send-keys -t t "First message" Enter
wait_for "8 tokens" 60
mv "$D/other.db" "$D/chat.db"
tm send-keys -t t "Second message" Enter
wait_for "NOT SAVED"
wait_for "was replaced by another file"
wait_count "8 tokens" 2
expect_contains "$(pane)" "Second message"
tm send-keys -t t C-q
tui_wait_exit
expect_eq "$(cat "$D/rc")" 0
expect_eq "$("$NATTER" export --all --format json --db "$D/chat.db")" "$other_before"

# 4. made read-only mid-chat: the same (also as root, who could still write it)
tui_start 120 40 -m "$S" --temp 0 -n 8 --db "$D/ro.db"
wait_for "ctx 0/" 30
tm send-keys -t t "Kept message" Enter
wait_for "8 tokens" 60
chmod 444 "$D/ro.db"
tm send-keys -t t "Unsaved message" Enter
wait_for "was made read-only"
wait_for "NOT SAVED"
wait_count "8 tokens" 2
tm send-keys -t t C-q
tui_wait_exit
chmod 644 "$D/ro.db"
json=$("$NATTER" export --all --format json --db "$D/ro.db")
expect_contains "$json" '"content":"Kept message"'
case "$json" in *"Unsaved message"*) fail "a message was written into the read-only file";; esac

# 5. a crash once a model is loaded (its SIGBUS guard installed): the terminal is restored and
# natter dies of the signal, as before
tui_start 100 30 -m "$S"
wait_for "ctx 0/" 30
kill -BUS "$(tm display-message -p -t t '#{pane_pid}' | xargs pgrep -P | head -1)"
tui_wait_exit
expect_eq "$(cat "$D/rc")" 135
expect_eq "$(tm display-message -p -t t '#{alternate_on}')" 0
pass
