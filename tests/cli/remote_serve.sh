#!/bin/sh
# tests/cli/remote_serve.sh — natter's remote backend against natter's own server: greedy text
# through `natter run --remote` to `natter serve` equals `natter run`'s local text on the same
# model and messages — a chat through syn-phi3's Phi-3 template (system message, two turns of
# history via --save/--conv) and a raw completion on stories260K (llama.cpp's reference
# continuation); the server's usage is the figures line; the model list is the one model;
# a wrong API key is the auth error.
. tests/lib.sh
need_shared
. tests/serve_lib.sh
T="$TEST_TMPDIR"
M="$SHARED/models/syn-phi3-Q8_0.gguf"

serve_start chat -m "$M" --ctx 512 -t 1
"$NATTER" run -m "$M" --ctx 512 -t 1 --temp 0 -n 24 -s "Be brief." -p "Tell me a story" \
    >"$T/loc" 2>"$T/loc.err" || fail "local run: $(cat "$T/loc.err")"
[ "$(wc -c <"$T/loc")" -gt 40 ] || fail "a short reply: [$(cat "$T/loc")]"
"$NATTER" run --remote "$URL" --temp 0 -n 24 -s "Be brief." -p "Tell me a story" \
    >"$T/rem" 2>"$T/rem.err" || fail "remote run: $(cat "$T/rem.err")"
cmp -s "$T/loc" "$T/rem" || fail "remote [$(cat "$T/rem")] is not local [$(cat "$T/loc")]"
n_local=$(sed -n 's/^natter: prompt \([0-9]*\) tokens.*/\1/p' "$T/loc.err")
n_rem=$(sed -n 's/^natter: prompt \([0-9]*\) tokens (+\([0-9]*\) cached).*/\1 \2/p' "$T/rem.err")
expect_eq "$(( ${n_rem% *} + ${n_rem#* } ))" "$n_local"
expect_contains "$(cat "$T/rem.err")" "generated 24 tokens"

# a second turn on the saved conversation: the history goes to the server as messages
DB="$T/c.db"
"$NATTER" run --remote "$URL" --temp 0 -n 24 -s "Be brief." -p "Tell me a story" --save \
    --db "$DB" >/dev/null 2>"$T/s.err" || fail "remote --save: $(cat "$T/s.err")"
id=$(sed -n 's/^natter: saved in conversation \([0-9a-f]*\)$/\1/p' "$T/s.err")
[ -n "$id" ] || fail "no id: $(cat "$T/s.err")"
"$NATTER" run --conv "$id" --db "$DB" --temp 0 -n 16 -p "And then?" >"$T/rem2" 2>"$T/e" ||
    fail "remote --conv: $(cat "$T/e")"
"$NATTER" run -m "$M" --ctx 512 -t 1 --temp 0 -n 24 -s "Be brief." -p "Tell me a story" --save \
    --db "$T/l.db" >/dev/null 2>"$T/s.err" || fail "local --save: $(cat "$T/s.err")"
lid=$(sed -n 's/^natter: saved in conversation \([0-9a-f]*\)$/\1/p' "$T/s.err")
"$NATTER" run --conv "$lid" --db "$T/l.db" --ctx 512 -t 1 --temp 0 -n 16 -p "And then?" \
    >"$T/loc2" 2>"$T/e" || fail "local --conv: $(cat "$T/e")"
[ -s "$T/rem2" ] || fail "an empty second turn"
cmp -s "$T/loc2" "$T/rem2" || fail "second turn: remote [$(cat "$T/rem2")] is not local [$(cat "$T/loc2")]"
serve_stop "$PID"

# a raw completion, stories260K: llama.cpp's reference continuation both ways
M="$SHARED/models/stories260K.gguf"
want=$(sed -n 's/^text //p' "$SHARED/reference/stories260K.ref" | head -n 1)
serve_start raw -m "$M" -t 1 --api-key sk-natter
got=$(NATTER_API_KEY=sk-natter "$NATTER" run --remote "$URL" --raw --temp 0 -n 48 \
    -p "Once upon a time" 2>"$T/e") || fail "remote raw: $(cat "$T/e")"
expect_eq "$got" "$want"
err=$(NATTER_API_KEY=wrong "$NATTER" run --remote "$URL" --raw -p x 2>&1 >/dev/null) &&
    fail "a wrong key passed"
expect_contains "$err" "natter: generate: not authorized (HTTP 401): check the endpoint's API key"
serve_stop "$PID"
pass
