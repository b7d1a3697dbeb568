#!/bin/sh
# tests/cli/run_reasoning.sh — control tokens and reasoning in `natter run` with the real
# TinyStories model: its replies never end in a visible <|end_story|> (the model spells it
# with ordinary tokens before its EOS); a marker pair given as data (", ." — greedy TinyStories
# opens its reply with a comma, so the first clause is the "reasoning") splits the reply: the
# reasoning to stderr (default), to stdout before a blank line (show) or nowhere (hide), the
# answer alone on stdout; --save keeps the reasoning apart; bad values are usage errors.
. tests/lib.sh
need_shared
M="$SHARED/models/TinyStories-656K-Q8_0.gguf"

# 1. no <|end_story|>: greedy runs to the model's end of generation
out=$("$NATTER" run -m "$M" --temp 0 -p "Once upon a time" 2>"$TEST_TMPDIR/err") ||
    fail "run failed: $(cat "$TEST_TMPDIR/err")"
case "$out" in *"<|"*|*"end_story"*) fail "a control token's text was printed: [$out]";; esac
case "$out" in *"hugged her mommy.") ;; *) fail "the story does not end as it should: [$out]";; esac
# seeded sampling too: several stories, none shows the marker
for seed in 1 2 3 4 5; do
    out=$("$NATTER" run -m "$M" --seed "$seed" -p "Once upon a time" 2>/dev/null)
    case "$out" in *"end_story"*) fail "seed $seed printed the end marker";; esac
done

# 2. reasoning to stderr, the answer to stdout
think="a little girl named Lily lived in a small house with her mom"
answer_start="Lily loved to play with her toys"
out=$("$NATTER" run -m "$M" --temp 0 -p "Once upon a time" --reasoning-markers ", ." \
    2>"$TEST_TMPDIR/err") || fail "run with markers failed: $(cat "$TEST_TMPDIR/err")"
case "$out" in "$answer_start"*) ;; *) fail "stdout is not the answer: [$out]";; esac
case "$out" in *"$think"*) fail "the reasoning is on stdout";; esac
expect_eq "$(head -n 1 "$TEST_TMPDIR/err")" "$think"
expect_contains "$(sed -n 2p "$TEST_TMPDIR/err")" "natter: prompt 6 tokens"

# 3. --reasoning show: on stdout, a blank line before the answer; hide: nowhere
out=$("$NATTER" run -m "$M" --temp 0 -n 30 -p "Once upon a time" --reasoning-markers ", ." \
    --reasoning show 2>/dev/null)
expect_eq "$(printf '%s\n' "$out" | sed -n 1p)" "$think"
expect_eq "$(printf '%s\n' "$out" | sed -n 2p)" ""
case "$(printf '%s\n' "$out" | sed -n 3p)" in "$answer_start"*) ;; *) fail "show: [$out]";; esac
out=$("$NATTER" run -m "$M" --temp 0 -n 30 -p "Once upon a time" --reasoning-markers ", ." \
    --reasoning hide 2>"$TEST_TMPDIR/err")
case "$out" in "$answer_start"*) ;; *) fail "hide: [$out]";; esac
expect_eq "$(grep -c "$think" "$TEST_TMPDIR/err")" 0
# a family that never appears changes nothing
out=$("$NATTER" run -m "$M" --temp 0 -n 30 -p "Once upon a time" --reasoning-markers harmony \
    2>/dev/null)
case "$out" in ", $think."*) ;; *) fail "harmony markers changed a plain reply: [$out]";; esac

# 4. --save keeps the two apart
DB="$TEST_TMPDIR/r.db"
"$NATTER" run -m "$M" --temp 0 -n 30 -p "Once upon a time" --reasoning-markers ", ." --save \
    --db "$DB" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || fail "run --save: $(cat "$TEST_TMPDIR/err")"
id=$(sed -n 's/^natter: saved in conversation \([0-9a-f]\{8\}\)$/\1/p' "$TEST_TMPDIR/err")
[ -n "$id" ] || fail "not saved: $(cat "$TEST_TMPDIR/err")"
json=$("$NATTER" export "$id" --format json --db "$DB")
expect_contains "$json" "\"content\":\"$answer_start"
expect_contains "$json" "\",\"reasoning_content\":\"$think\",\"created\""
case "$(cat "$TEST_TMPDIR/out")" in "$answer_start"*) ;; *) fail "--save changed stdout";; esac
expect_contains "$("$NATTER" show "$id" --db "$DB")" "┆ $think"

# 5. usage errors
"$NATTER" run -m "$M" -p x --reasoning loud >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "--reasoning takes stderr, show or hide"
"$NATTER" run -m "$M" -p x --reasoning-markers "a b c" >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 2
"$NATTER" run -m "$M" -p x --think maybe >/dev/null 2>"$TEST_TMPDIR/err"
expect_eq "$?" 2
expect_contains "$(cat "$TEST_TMPDIR/err")" "'maybe' is not on or off"
pass
