#!/bin/sh
# tests/cli/tui_conv_model.sh — `natter --conv ID` opens the conversation with its own model,
# not the last one used (issue 17), under tmux; the notice names the model's file.
. tests/lib.sh
. tests/tui_lib.sh
need_shared
S="$SHARED/models/stories260K.gguf"
L="$SHARED/models/syn-llama-Q8_0.gguf"
DB="$TEST_TMPDIR/c.db"
"$NATTER" run -m "$S" --temp 0 -n 4 -p "Once" --save --db "$DB" >/dev/null 2>"$TEST_TMPDIR/err" ||
    fail "run --save: $(cat "$TEST_TMPDIR/err")"
id=$(sed -n 's/^natter: saved in conversation \([0-9a-f]\{8\}\)$/\1/p' "$TEST_TMPDIR/err")
[ -n "$id" ] || fail "no id: $(cat "$TEST_TMPDIR/err")"
# another model becomes the last used
tui_start 100 30 --db "$DB" -m "$L"
wait_for "loaded syn-llama-Q8_0 ("
tm send-keys -t t "/quit" Enter
i=0; while [ ! -s "$TEST_TMPDIR/rc" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
# the conversation brings its own
tui_start 100 30 --db "$DB" --conv "$id"
wait_for "loaded stories260K ("
expect_contains "$(pane)" "Once"
pass
