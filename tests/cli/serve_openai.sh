#!/bin/sh
# tests/cli/serve_openai.sh — `natter serve` driven by the official `openai` npm client
# (tests/serve_openai.cjs): models list, chat and completions, whole and streamed, with the
# greedy texts `natter run` gives on the same model and messages, and the client's own error
# classes for a bad field and a wrong key. The client is installed once into
# ${XDG_CACHE_HOME:-~/.cache}/natter-test/npm; without node and npm, or when the install
# fails (no registry), the test says it skipped.
NPM_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/natter-test/npm" # before lib.sh moves XDG_CACHE_HOME
. tests/lib.sh
need_shared
command -v node >/dev/null && command -v npm >/dev/null || skip "node or npm is not installed"
if [ ! -f "$NPM_DIR/node_modules/openai/package.json" ]; then
    mkdir -p "$NPM_DIR" || skip "cannot create $NPM_DIR"
    (cd "$NPM_DIR" && npm install --no-audit --no-fund --silent openai) >"$TEST_TMPDIR/npm.log" 2>&1 ||
        skip "npm install openai failed: $(tail -n 1 "$TEST_TMPDIR/npm.log")"
fi
. tests/serve_lib.sh
M="$SHARED/models/syn-phi3-Q8_0.gguf"
T="$TEST_TMPDIR"
"$NATTER" run -m "$M" --ctx 512 -t 1 --temp 0 -n 24 -p "Tell me a story" >"$T/chat.txt" 2>"$T/run.err" || fail "run: $(cat "$T/run.err")"
"$NATTER" run -m "$M" --ctx 512 -t 1 --temp 0 -n 16 --raw -p "Once upon a time" >"$T/compl.txt" \
    2>"$T/run.err" || fail "run: $(cat "$T/run.err")"
serve_start main -m "$M" --ctx 512 -t 1 --api-key k3y
node tests/serve_openai.cjs "$NPM_DIR" "$URL" syn-phi3-Q8_0.gguf "$T/chat.txt" "$T/compl.txt" \
    >"$T/node.out" 2>&1 || fail "$(cat "$T/node.out")"
expect_eq "$(grep -c '^ok ' "$T/node.out")" 11
serve_stop "$PID"
pass
