#!/bin/sh
# tests/cli/template.sh — natter template list|show|render|detect and natter prompts.
. tests/lib.sh

out=$("$NATTER" template list) || fail "template list exited $?"
expect_contains "$out" "chatml "
expect_contains "$out" "completion "
expect_eq "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 34

out=$("$NATTER" template show chatml) || fail "template show exited $?"
expect_contains "$out" 'generation = "<|im_start|>assistant\n"'

"$NATTER" template show nosuch >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: unknown template 'nosuch' (see 'natter template list')"

conv='[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]'
printf '%s' "$conv" | "$NATTER" template render chatml >"$TEST_TMPDIR/out" || fail "render exited $?"
printf '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' >"$TEST_TMPDIR/want"
cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render chatml: got [$(cat "$TEST_TMPDIR/out")]"

printf '%s' "$conv" | "$NATTER" template render gemma --no-assistant >"$TEST_TMPDIR/out" || fail "render exited $?"
printf '<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n' >"$TEST_TMPDIR/want"
cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render gemma: got [$(cat "$TEST_TMPDIR/out")]"

# JSON escapes and non-ASCII text come through SQLite's JSON functions intact
printf '[{"role":"user","content":"a\\"b\\n\\u4f60"}]' | "$NATTER" template render completion >"$TEST_TMPDIR/out"
printf 'a"b\n你' >"$TEST_TMPDIR/want"
cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render completion: got [$(cat "$TEST_TMPDIR/out")]"

# an empty array renders the BOS text and the generation prefix
expect_eq "$(printf '[]' | "$NATTER" template render chatglm3)" "[gMASK]sop<|assistant|>"

bad() { # $1 = stdin, $2 = expected message
    printf '%s' "$1" | "$NATTER" template render chatml >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; rc=$?
    expect_eq "$rc" 1
    expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: $2"
    [ -s "$TEST_TMPDIR/out" ] && fail "output on error: $(cat "$TEST_TMPDIR/out")"
    return 0
}
bad '[{"role":"user",' "conversation: invalid JSON at line 1, column 17"
bad '' "conversation: invalid JSON at line 1, column 1"
# a container as an object key: SQLite 3.40's json_valid() accepts it, the strict check does not
bad '[{[{"":""}]:""}]' "conversation: invalid JSON at line 1, column 3"
bad '{"role":"user","content":"x"}' 'conversation: expected a JSON array of {"role", "content"} objects or {"messages": [...]}'
bad '[{"role":"user","content":"x"}, 3]' "conversation: message 2: expected an object"
bad '[{"role":"user","content":5}]' 'conversation: message 1: "role" and "content" must be strings'
bad '[{"role":"robot","content":"x"}]' "conversation: message 1: unknown role 'robot' (system, user, assistant or tool)"

"$NATTER" template render >/dev/null 2>&1; expect_eq "$?" 2
"$NATTER" template frob >/dev/null 2>&1; expect_eq "$?" 2
"$NATTER" template >/dev/null 2>&1; expect_eq "$?" 2

# detect from .jinja files (and a .gguf when the test models are there)
printf '{%% for m in messages %%}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%% endfor %%}' >"$TEST_TMPDIR/t.jinja"
expect_eq "$("$NATTER" template detect "$TEST_TMPDIR/t.jinja")" chatml
: >"$TEST_TMPDIR/empty.jinja"
expect_eq "$("$NATTER" template detect "$TEST_TMPDIR/empty.jinja")" completion
printf '{{ messages }}' >"$TEST_TMPDIR/odd.jinja"
out=$("$NATTER" template detect "$TEST_TMPDIR/odd.jinja" 2>"$TEST_TMPDIR/err") || fail "detect exited $?"
expect_eq "$out" chatml
expect_contains "$(cat "$TEST_TMPDIR/err")" "no known chat-template markers; using chatml"
"$NATTER" template detect "$TEST_TMPDIR/missing.jinja" >/dev/null 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "missing.jinja: No such file or directory"
printf 'GGUF but not really' >"$TEST_TMPDIR/bad.gguf"
"$NATTER" template detect "$TEST_TMPDIR/bad.gguf" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_contains "$(cat "$TEST_TMPDIR/err")" "natter: $TEST_TMPDIR/bad.gguf: "
[ -s "$TEST_TMPDIR/out" ] && fail "detect printed a name for a broken .gguf"
if [ -n "$SHARED" ]; then
    expect_eq "$("$NATTER" template detect "$SHARED/chat-templates/jinja/google-gemma-2-2b-it.jinja")" gemma
    expect_eq "$("$NATTER" template detect "$SHARED/models/syn-qwen2-Q8_0.gguf")" chatml
    expect_eq "$("$NATTER" template detect "$SHARED/models/syn-phi3-Q8_0.gguf")" phi3
    expect_eq "$("$NATTER" template detect "$SHARED/models/stories260K.gguf")" completion
fi

# render --jinja: a Jinja chat template over the object form {"messages": [...], "tools": [...]}
cat >"$TEST_TMPDIR/chat.jinja" <<'END'
{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}
{{ m.content | trim }}<|im_end|>
{% endfor %}
{%- if tools is none %}[no tools]{% endif %}
{%- if add_generation_prompt %}<|im_start|>assistant{% if think is defined %} think={{ think | tojson }}{% endif %}
{% endif %}
END
conv='{"messages":[{"role":"user","content":"  Hi {{ x }} <|im_end|>\u00e9  "}]}'
printf '%s' "$conv" | "$NATTER" template render --jinja "$TEST_TMPDIR/chat.jinja" --bos '<s>' \
    >"$TEST_TMPDIR/out" || fail "render --jinja exited $?"
printf '<s><|im_start|>user\nHi {{ x }} <|im_end|>\303\251<|im_end|>\n[no tools]<|im_start|>assistant' >"$TEST_TMPDIR/want"
cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render --jinja: got [$(cat "$TEST_TMPDIR/out")]"
printf '%s' "$conv" | "$NATTER" template render --jinja "$TEST_TMPDIR/chat.jinja" --no-assistant \
    --var 'think={"a": [1, 2.5]}' --var tools=[] >"$TEST_TMPDIR/out" || fail "render --jinja exited $?"
printf '<|im_start|>user\nHi {{ x }} <|im_end|>\303\251<|im_end|>\n' >"$TEST_TMPDIR/want"
cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render --jinja --no-assistant: got [$(cat "$TEST_TMPDIR/out")]"
printf '%s' "$conv" | "$NATTER" template render --jinja "$TEST_TMPDIR/chat.jinja" --var 'think={"a": [1, 2.5]}' \
    --var tools=[] >"$TEST_TMPDIR/out" || fail "render --jinja exited $?"
expect_eq "$(tail -n 1 "$TEST_TMPDIR/out")" '<|im_start|>assistant think={"a": [1, 2.5]}'
# --now freezes strftime_now; a bare array is taken as the messages
printf '{{ strftime_now("%%d %%B %%Y, %%A %%H:%%M") }}|{{ messages | length }}' >"$TEST_TMPDIR/now.jinja"
expect_eq "$(printf '[]' | "$NATTER" template render --jinja "$TEST_TMPDIR/now.jinja" --now 2026-12-01T12:00:00)" \
    "01 December 2026, Tuesday 12:00|0"
# the template's own error (raise_exception), with its place: exit 1, nothing on stdout
printf 'x\n{{ raise_exception("System role not supported") }}' >"$TEST_TMPDIR/raise.jinja"
printf '{"messages":[]}' | "$NATTER" template render --jinja "$TEST_TMPDIR/raise.jinja" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; rc=$?
expect_eq "$rc" 1
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: $TEST_TMPDIR/raise.jinja:2:4: System role not supported"
[ -s "$TEST_TMPDIR/out" ] && fail "output on a template error: $(cat "$TEST_TMPDIR/out")"
jbad() { # $1 = stdin, $2 = expected message, then the arguments after 'render'
    input=$1; want=$2; shift 2
    printf '%s' "$input" | "$NATTER" template render "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; rc=$?
    expect_eq "$rc" 1
    expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: $want"
    [ -s "$TEST_TMPDIR/out" ] && fail "output on error: $(cat "$TEST_TMPDIR/out")"
    return 0
}
printf '{%% for m in messages %%}{{ m.content }' >"$TEST_TMPDIR/broken.jinja"
jbad '{}' "$TEST_TMPDIR/broken.jinja:1:37: unexpected '}'" --jinja "$TEST_TMPDIR/broken.jinja"
jbad '{}' "$TEST_TMPDIR/missing.jinja: No such file or directory" --jinja "$TEST_TMPDIR/missing.jinja"
jbad '{"messages":[' "conversation: invalid JSON at line 1, column 14" --jinja "$TEST_TMPDIR/chat.jinja"
jbad '"text"' 'conversation: expected a JSON object {"messages": [...], "tools": [...]}' --jinja "$TEST_TMPDIR/chat.jinja"
jbad '{}' "--var think: invalid JSON at line 1, column 1" --jinja "$TEST_TMPDIR/chat.jinja" --var think=yes
jbad '{}' "--var 'think': expected NAME=JSON" --jinja "$TEST_TMPDIR/chat.jinja" --var think
jbad '{}' "--now 'noon': expected a time as YYYY-MM-DDTHH:MM:SS" --jinja "$TEST_TMPDIR/chat.jinja" --now noon
jbad '{"messages": 5}' "$TEST_TMPDIR/chat.jinja:1:19: 'int' object is not iterable" --jinja "$TEST_TMPDIR/chat.jinja"
"$NATTER" template render --jinja >/dev/null 2>&1; expect_eq "$?" 2
"$NATTER" template render --jinja "$TEST_TMPDIR/chat.jinja" --frob </dev/null >/dev/null 2>&1; expect_eq "$?" 2
"$NATTER" template render --jinja a.jinja -m b.gguf </dev/null >/dev/null 2>&1; expect_eq "$?" 2
# -m: the model's own template, its BOS/EOS tokens from the vocabulary
if [ -n "$SHARED" ]; then
    conv='{"messages":[{"role":"system","content":"S"},{"role":"user","content":"Hi"}]}'
    printf '%s' "$conv" | "$NATTER" template render -m "$SHARED/models/syn-qwen2-Q8_0.gguf" >"$TEST_TMPDIR/out" || fail "render -m exited $?"
    printf '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' >"$TEST_TMPDIR/want"
    cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render -m qwen2: got [$(cat "$TEST_TMPDIR/out")]"
    printf '%s' "$conv" | "$NATTER" template render --no-assistant -m "$SHARED/models/syn-phi3-Q8_0.gguf" >"$TEST_TMPDIR/out" || fail "render -m exited $?"
    printf '<s><|user|>\nHi<|end|>\n<|assistant|>\n' >"$TEST_TMPDIR/want" # Phi-3's own quirk
    cmp -s "$TEST_TMPDIR/out" "$TEST_TMPDIR/want" || fail "render -m phi3: got [$(cat "$TEST_TMPDIR/out")]"
    jbad '{}' "$SHARED/models/stories260K.gguf: the model has no chat template (tokenizer.chat_template)" \
        -m "$SHARED/models/stories260K.gguf"
    # a real template's own error: Gemma 2 refuses a system role
    jbad "$conv" "$SHARED/chat-templates/jinja-hf/google-gemma-2-2b-it.jinja:1:59: System role not supported" \
        --jinja "$SHARED/chat-templates/jinja-hf/google-gemma-2-2b-it.jinja" --bos '<bos>'
fi

# user templates and system prompts add to and override the installed ones; a broken file is
# reported with its line and the others still load
mkdir -p "$XDG_CONFIG_HOME/natter/prompts/templates" "$XDG_CONFIG_HOME/natter/prompts/system"
printf 'description = "my own"\nuser.prefix = ">> "\nuser.suffix = "\\n"\n' >"$XDG_CONFIG_HOME/natter/prompts/templates/mine.tmpl"
printf 'user.prefix = "x"\nwhat = "y"\n' >"$XDG_CONFIG_HOME/natter/prompts/templates/broken.tmpl"
printf 'Pirate\nTalk like a pirate.\n' >"$XDG_CONFIG_HOME/natter/prompts/system/pirate.md"
printf 'My concise\nShort.\n' >"$XDG_CONFIG_HOME/natter/prompts/system/concise.md"
out=$("$NATTER" template list 2>"$TEST_TMPDIR/err") || fail "list exited $?"
expect_contains "$out" "mine               my own (user)"
expect_eq "$(cat "$TEST_TMPDIR/err")" "natter: $XDG_CONFIG_HOME/natter/prompts/templates/broken.tmpl:2: unknown key 'what'"
expect_eq "$(printf '[{"role":"user","content":"hey"}]' | "$NATTER" template render mine 2>/dev/null)" ">> hey"

out=$("$NATTER" prompts 2>/dev/null) || fail "prompts exited $?"
expect_contains "$out" "assistant      Helpful assistant"
expect_contains "$out" "coder          Programmer"
expect_contains "$out" "translator     Translator"
expect_contains "$out" "concise        My concise (user)"
expect_contains "$out" "pirate         Pirate (user)"
expect_eq "$("$NATTER" prompts pirate 2>/dev/null)" "Talk like a pirate."
"$NATTER" prompts nosuch >/dev/null 2>&1; expect_eq "$?" 1
pass
