/* tests/test_reasoning.c — the reasoning splitter (src/reasoning.h): <think> pairs (opened by
 * the reply or already by the prompt), markers that are control tokens (only their SPECIAL
 * event counts, text spelling them is text), harmony channels (analysis, final, commentary to
 * the user or to a tool, constrain), pairs given as data, the other families; every case fed
 * whole and split at every byte (a marker across events is never shown half); the prompt
 * helpers (inside, end of thinking, thinking off); the families from Jinja text and a real
 * vocabulary. */
#include <stdlib.h>

#include "harness.h"
#include "reasoning.h"

struct rs_sink {
    char part[2][4096];
    size_t n[2];
    int bad; /* an empty emit */
};

static void rs_emit(void *ud, int part, const char *s, size_t n) {
    struct rs_sink *k = ud;
    if (n == 0 || (part != 0 && part != 1)) {
        k->bad = 1;
        return;
    }
    if (k->n[part] + n < sizeof k->part[part]) {
        memcpy(k->part[part] + k->n[part], s, n);
        k->n[part] += n;
        k->part[part][k->n[part]] = 0;
    }
}

/* Events: a string starting with \x01 is a control token's text (SPECIAL), others are text. */
static void rs_feed(struct reasoning *r, const char *const *ev, int n_ev, size_t step) {
    for (int i = 0; i < n_ev; i++) {
        if (ev[i][0] == '\x01') {
            reasoning_special(r, ev[i] + 1, strlen(ev[i] + 1));
            continue;
        }
        size_t len = strlen(ev[i]);
        for (size_t o = 0; o < len; o += step)
            reasoning_text(r, ev[i] + o, len - o < step ? len - o : step);
    }
    reasoning_finish(r);
}

/* Runs the events whole and with the text cut at every byte; each must give thought and
 * answer exactly. Returns 0, or the step that differed. */
static size_t rs_check(const struct reasoning_markers *mk, int inside, const char *const *ev,
                       int n_ev, const char *thought, const char *answer, struct rs_sink *got) {
    size_t steps[] = {100000, 1, 2, 3, 5, 7};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        struct reasoning r;
        memset(got, 0, sizeof *got);
        reasoning_init(&r, mk, inside, rs_emit, got);
        rs_feed(&r, ev, n_ev, steps[s]);
        if (got->bad || strcmp(got->part[REASONING_THOUGHT], thought) ||
            strcmp(got->part[REASONING_ANSWER], answer) || r.n_out[0] != got->n[0] ||
            r.n_out[1] != got->n[1])
            return steps[s];
    }
    return 0;
}

#define RS_CHECK(mk, inside, ev, thought, answer)                                            \
    do {                                                                                     \
        struct rs_sink k_;                                                                   \
        size_t st_ = rs_check(mk, inside, ev, (int)(sizeof ev / sizeof ev[0]), thought,      \
                              answer, &k_);                                                  \
        CHECK_MSG(st_ == 0, "step %zu: thought [%s] answer [%s]", st_,                       \
                  k_.part[REASONING_THOUGHT], k_.part[REASONING_ANSWER]);                    \
    } while (0)

TEST(reasoning_think_tags) {
    struct reasoning_markers mk;
    CHECK_EQ_INT(reasoning_markers_family(&mk, "think"), 0);
    const char *a[] = {"<think>\nI ponder.\n</think>\n\nHello!"};
    RS_CHECK(&mk, 0, a, "I ponder.\n", "Hello!");
    /* split across events, leading whitespace before the tag */
    const char *b[] = {"\n <thi", "nk>", "Hmm, 2 < 3 and </th", "ink", ">Yes <think> stays."};
    RS_CHECK(&mk, 0, b, "Hmm, 2 < 3 and ", "Yes <think> stays.");
    /* no reasoning at all: leading whitespace and a late tag are the answer's */
    const char *c[] = {"  Hello <think>x</think> there"};
    RS_CHECK(&mk, 0, c, "", "  Hello <think>x</think> there");
    /* never closed: all reasoning */
    const char *d[] = {"<think>still thinking <"};
    RS_CHECK(&mk, 0, d, "still thinking <", "");
    /* UTF-8 right against the markers */
    const char *e[] = {"<think>\xc3\xa9\xe2\x82\xac</think>\xf0\x9f\x98\x80"};
    RS_CHECK(&mk, 0, e, "\xc3\xa9\xe2\x82\xac", "\xf0\x9f\x98\x80");
    /* a reply of whitespace only */
    const char *f[] = {" \n"};
    RS_CHECK(&mk, 0, f, "", " \n");
    /* an empty thought (Qwen3 with thinking off answers after one) */
    const char *g[] = {"<think>\n\n</think>\n\nShort."};
    RS_CHECK(&mk, 0, g, "", "Short.");
}

TEST(reasoning_prompt_opened) {
    struct reasoning_markers mk;
    reasoning_markers_family(&mk, "think");
    /* the template ended the prompt with <think>\n: only </think> arrives */
    const char *a[] = {"\nLet me see.", "</think>", "\n\nAnswer."};
    RS_CHECK(&mk, 1, a, "Let me see.", "Answer.");
    /* the model opens it again anyway */
    const char *b[] = {"<think>x</think>y"};
    RS_CHECK(&mk, 1, b, "x", "y");
    /* not inside, but the reply starts with the closing tag: an empty thought */
    const char *c[] = {"</think>\n\nHi"};
    RS_CHECK(&mk, 0, c, "", "Hi");
    /* thinking reported while inside, not after */
    struct reasoning r;
    struct rs_sink k;
    memset(&k, 0, sizeof k);
    reasoning_init(&r, &mk, 1, rs_emit, &k);
    CHECK(reasoning_thinking(&r));
    reasoning_text(&r, "abc</thi", 8);
    CHECK(reasoning_thinking(&r));
    CHECK_STR_EQ(k.part[REASONING_THOUGHT], "abc");
    reasoning_text(&r, "nk>", 3);
    CHECK(!reasoning_thinking(&r));
    reasoning_finish(&r);
    memset(&k, 0, sizeof k);
    reasoning_init(&r, &mk, 0, rs_emit, &k);
    CHECK(!reasoning_thinking(&r));
    reasoning_text(&r, "<think>", 7);
    CHECK(reasoning_thinking(&r));
}

/* Markers that are control tokens: only their SPECIAL events count. */
TEST(reasoning_control_token_markers) {
    struct reasoning_markers mk;
    reasoning_markers_family(&mk, "think");
    for (int i = 0; i < mk.n; i++)
        mk.m[i].as_text = 0;
    const char *a[] = {"\x01<think>", "\nabc", "\x01</think>", "\nans"};
    RS_CHECK(&mk, 0, a, "abc", "ans");
    /* text spelling the markers is text, wherever it is */
    const char *b[] = {"<think>x</think>y"};
    RS_CHECK(&mk, 0, b, "", "<think>x</think>y");
    const char *c[] = {"\x01<think>", "a </think> b", "\x01</think>", "c"};
    RS_CHECK(&mk, 0, c, "a </think> b", "c");
    /* other control tokens are never shown, and break held text */
    reasoning_markers_family(&mk, "think");
    const char *d[] = {"x <", "\x01<|im_sep|>", "think>y"};
    RS_CHECK(&mk, 0, d, "", "x <think>y");
    const char *e[] = {"\x01<|junk|>", "<think>a</think>b"};
    RS_CHECK(&mk, 0, e, "a", "b");
}

TEST(reasoning_harmony) {
    struct reasoning_markers mk;
    CHECK_EQ_INT(reasoning_markers_family(&mk, "harmony"), 0);
    for (int i = 0; i < mk.n; i++)
        mk.m[i].as_text = 0; /* gpt-oss's are control tokens */
    const char *a[] = {"\x01<|channel|>", "analysis", "\x01<|message|>", "User asks. <|end|> ok.",
                       "\x01<|end|>", "\x01<|start|>", "assistant", "\x01<|channel|>", "final",
                       "\x01<|message|>", "The answer.", "\x01<|return|>"};
    RS_CHECK(&mk, 0, a, "User asks. <|end|> ok.", "The answer.");
    /* commentary: a preamble for the user is answer, a tool call (to=...) is not */
    const char *b[] = {"\x01<|channel|>", "commentary", "\x01<|message|>", "Let me check.",
                       "\x01<|end|>", "\x01<|start|>", "assistant", "\x01<|channel|>",
                       "commentary to=functions.get_weather ", "\x01<|constrain|>", "json",
                       "\x01<|message|>", "{\"city\":\"Paris\"}", "\x01<|call|>"};
    RS_CHECK(&mk, 0, b, "{\"city\":\"Paris\"}", "Let me check.");
    /* a constraint right after the channel's name does not change the name */
    const char *b2[] = {"\x01<|channel|>", "analysis", "\x01<|constrain|>", "json",
                        "\x01<|message|>", "x"};
    RS_CHECK(&mk, 0, b2, "x", "");
    /* recipient before the channel, as gpt-oss also writes it */
    const char *c[] = {"\x01<|start|>", "assistant to=functions.f", "\x01<|channel|>",
                       "commentary json", "\x01<|message|>", "{}"};
    RS_CHECK(&mk, 0, c, "{}", "");
    /* a message without <|end|><|start|> in between */
    const char *d[] = {"\x01<|channel|>", "analysis", "\x01<|message|>", "t", "\x01<|channel|>",
                       "final", "\x01<|message|>", "f"};
    RS_CHECK(&mk, 0, d, "t", "f");
    /* a model that never speaks harmony: all answer; a long header is text too */
    const char *e[] = {"Just text."};
    RS_CHECK(&mk, 0, e, "", "Just text.");
    char longtext[400];
    memset(longtext, 'w', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = 0;
    const char *f[] = {longtext, "\x01<|message|>", "x"};
    {
        struct rs_sink k;
        struct reasoning r;
        memset(&k, 0, sizeof k);
        reasoning_init(&r, &mk, 0, rs_emit, &k);
        rs_feed(&r, f, 3, 100000);
        CHECK_EQ_INT((int)k.n[REASONING_ANSWER], 400);
    }
    /* the prompt opened the analysis channel */
    const char *g[] = {"more", "\x01<|end|>", "\x01<|start|>", "assistant", "\x01<|channel|>",
                       "final", "\x01<|message|>", "done"};
    RS_CHECK(&mk, 1, g, "more", "done");
    /* the thinking state follows the channel */
    struct reasoning r;
    struct rs_sink k;
    memset(&k, 0, sizeof k);
    reasoning_init(&r, &mk, 0, rs_emit, &k);
    CHECK(!reasoning_thinking(&r));
    reasoning_special(&r, "<|channel|>", 11);
    reasoning_text(&r, "analysis", 8);
    reasoning_special(&r, "<|message|>", 11);
    CHECK(reasoning_thinking(&r));
    reasoning_special(&r, "<|end|>", 7);
    CHECK(!reasoning_thinking(&r));
    /* harmony markers a vocabulary lacks match in the text */
    reasoning_markers_family(&mk, "harmony");
    const char *h[] = {"<|channel|>analysis<|mess", "age|>hm<|end|><|start|>assistant<|channel|>"
                       "final<|message|>ok"};
    RS_CHECK(&mk, 0, h, "hm", "ok");
}

TEST(reasoning_pairs_as_data) {
    struct reasoning_markers mk;
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "[THINK] [/THINK]"), 0);
    CHECK_STR_EQ(mk.family, "custom");
    const char *a[] = {"[THINK]plan[/THI", "NK]Here."};
    RS_CHECK(&mk, 0, a, "plan", "Here.");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "mistral"), 0);
    RS_CHECK(&mk, 0, a, "plan", "Here.");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "thought"), 0);
    const char *b[] = {"<|begin_of_thought|>\nhm\n<|end_of_thought|>\n\nSo."};
    RS_CHECK(&mk, 0, b, "hm\n", "So.");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "seed"), 0);
    const char *c[] = {"<seed:think>q</seed:think>a"};
    RS_CHECK(&mk, 0, c, "q", "a");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "kimi"), 0);
    const char *d[] = {"\xe2\x97\x81think\xe2\x96\xb7q\xe2\x97\x81/think\xe2\x96\xb7" "a"};
    RS_CHECK(&mk, 0, d, "q", "a");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "cohere"), 0);
    const char *d2[] = {"<|START_THINKING|>plan<|END_THINKING|>go"};
    RS_CHECK(&mk, 0, d2, "plan", "go");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "gemma4"), 0);
    const char *d3[] = {"<|channel>thought\nhm<channel|>Yes."};
    RS_CHECK(&mk, 0, d3, "hm", "Yes.");
    /* a pair whose closing tag is a sentence's end, as the CLI test drives TinyStories */
    CHECK_EQ_INT(reasoning_markers_parse(&mk, ", ."), 0);
    const char *e[] = {", there was a girl", ". She, too, ran."};
    RS_CHECK(&mk, 0, e, "there was a girl", "She, too, ran.");
    /* no opening tag: the prompt always opens it */
    CHECK_EQ_INT(reasoning_markers_pair(&mk, NULL, "</r>"), 0);
    CHECK(reasoning_prompt_inside(&mk, "x", 1));
    const char *f[] = {"a</r>b"};
    RS_CHECK(&mk, 1, f, "a", "b");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "none"), 0);
    const char *g[] = {"<think>a</think>b"};
    RS_CHECK(&mk, 0, g, "", "<think>a</think>b");
    /* bad specs */
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "nosuch"), -1);
    CHECK_STR_EQ(mk.family, "none");
    CHECK_EQ_INT(reasoning_markers_parse(&mk, "a b c"), -1);
    CHECK_EQ_INT(reasoning_markers_pair(&mk, "<t>", ""), -1);
    CHECK_EQ_INT(reasoning_markers_pair(&mk, "<t>", "0123456789012345678901234567890123"), -1);
    CHECK_EQ_INT(reasoning_markers_parse(&mk, NULL), -1);
}

TEST(reasoning_prompt_helpers) {
    struct reasoning_markers mk;
    reasoning_markers_family(&mk, "think");
    const char *p1 = "<|im_start|>assistant\n<think>\n";
    CHECK(reasoning_prompt_inside(&mk, p1, strlen(p1)));
    const char *p2 = "<|im_start|>assistant\n<think>\n\n</think>\n\n";
    CHECK(!reasoning_prompt_inside(&mk, p2, strlen(p2)));
    const char *p3 = "user: what is <think>?\n<|im_start|>assistant\n";
    CHECK(!reasoning_prompt_inside(&mk, p3, strlen(p3)));
    char buf[128];
    CHECK_EQ_INT((int)reasoning_end_text(&mk, buf, sizeof buf), 10);
    CHECK_STR_EQ(buf, "</think>\n\n");
    reasoning_markers_family(&mk, "harmony");
    CHECK(reasoning_end_text(&mk, buf, sizeof buf) > 0);
    CHECK_STR_EQ(buf, "<|end|><|start|>assistant<|channel|>final<|message|>");
    const char *p4 = "<|start|>assistant<|channel|>analysis<|message|>";
    CHECK(reasoning_prompt_inside(&mk, p4, strlen(p4)));
    CHECK(!reasoning_prompt_inside(&mk, p4, strlen(p4) - 3));
    reasoning_markers_family(&mk, "none");
    CHECK_EQ_INT((int)reasoning_end_text(&mk, buf, sizeof buf), 0);

    /* thinking off */
    reasoning_markers_family(&mk, "think");
    char *t = strdup("<|im_start|>assistant\n");
    size_t len = strlen(t);
    CHECK_EQ_INT(reasoning_prompt_no_think(&mk, 0, &t, &len), 0); /* no switch: unchanged */
    CHECK_EQ_INT(reasoning_prompt_no_think(&mk, 1, &t, &len), 1);
    CHECK_STR_EQ(t, "<|im_start|>assistant\n<think>\n\n</think>\n\n");
    CHECK_EQ_INT((int)len, (int)strlen(t));
    free(t);
    t = strdup("User: hi\nAssistant: <think>\n");
    len = strlen(t);
    CHECK_EQ_INT(reasoning_prompt_no_think(&mk, 0, &t, &len), 1); /* opened: closed at once */
    CHECK_STR_EQ(t, "User: hi\nAssistant: <think>\n\n</think>\n\n");
    CHECK_EQ_INT((int)len, (int)strlen(t));
    free(t);
    reasoning_markers_family(&mk, "harmony");
    t = strdup("<|start|>assistant");
    len = strlen(t);
    CHECK_EQ_INT(reasoning_prompt_no_think(&mk, 1, &t, &len), 0);
    free(t);
}

TEST(reasoning_families_detected) {
    struct reasoning_markers mk;
    reasoning_markers_detect(&mk, NULL);
    CHECK_STR_EQ(mk.family, "think");
    reasoning_markers_detect(&mk, "{{ '<|start|>assistant<|channel|>final<|message|>' }}");
    CHECK_STR_EQ(mk.family, "harmony");
    CHECK(mk.harmony);
    reasoning_markers_detect(&mk, "[SYSTEM_PROMPT]...[THINK]");
    CHECK_STR_EQ(mk.family, "mistral");
    reasoning_markers_detect(&mk, "<|START_THINKING|>");
    CHECK_STR_EQ(mk.family, "cohere");
    reasoning_markers_detect(&mk, "<|begin_of_thought|>");
    CHECK_STR_EQ(mk.family, "thought");
    reasoning_markers_detect(&mk, "{% if enable_thinking %}<seed:think>");
    CHECK_STR_EQ(mk.family, "seed");
    reasoning_markers_detect(&mk, "{{- '<|im_start|>assistant\\n<think>\\n' }}");
    CHECK_STR_EQ(mk.family, "think");
    CHECK(reasoning_template_switch("{%- if enable_thinking is defined and enable_thinking is "
                                    "false %}"));
    CHECK(!reasoning_template_switch("<|im_start|>"));
    CHECK(!reasoning_template_switch(NULL));
    /* the shared Jinja templates: gpt-oss speaks harmony, Qwen3 has the switch */
    REQUIRE_SHARED();
    size_t n;
    char *j = test_read_file(test_shared_path("chat-templates/jinja-hf/openai-gpt-oss-120b.jinja"), &n);
    CHECK(j);
    reasoning_markers_detect(&mk, j);
    free(j);
    CHECK_STR_EQ(mk.family, "harmony");
    j = test_read_file(test_shared_path("chat-templates/jinja-hf/Qwen-Qwen3-0.6B.jinja"), &n);
    CHECK(j);
    reasoning_markers_detect(&mk, j);
    int sw = reasoning_template_switch(j);
    free(j);
    CHECK_STR_EQ(mk.family, "think");
    CHECK(sw);
    const struct {
        const char *file, *family;
    } more[] = {
        {"mistralai-Ministral-3-14B-Reasoning-2512.jinja", "mistral"},
        {"ByteDance-Seed-OSS.jinja", "seed"},
        {"google-gemma-4-31B-it.jinja", "gemma4"},
        {"CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", "cohere"},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "think"},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "chat-templates/jinja-hf/%s", more[i].file);
        j = test_read_file(test_shared_path(rel), &n);
        CHECK_MSG(j, "%s", rel);
        reasoning_markers_detect(&mk, j);
        free(j);
        CHECK_STR_EQ(mk.family, more[i].family);
    }
}

/* A real vocabulary: TinyStories' <|start_story|> is a control token, <think> is not. */
TEST(reasoning_markers_from_vocab) {
    REQUIRE_SHARED();
    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = 1;
    eng_model *m = NULL;
    CHECK(eng_model_load(test_shared_path("models/TinyStories-656K-Q8_0.gguf"), &mp, &m) ==
          ENG_OK);
    struct reasoning_markers mk;
    CHECK_EQ_INT(reasoning_markers_pair(&mk, "<|start_story|>", "<think>"), 0);
    reasoning_markers_vocab(&mk, m);
    CHECK_EQ_INT(mk.m[0].as_text, 0);
    CHECK_EQ_INT(mk.m[1].as_text, 1);
    reasoning_markers_vocab(&mk, NULL); /* nothing changes */
    CHECK_EQ_INT(mk.m[0].as_text, 0);
    /* so its spelled-out text is text, its token the marker */
    const char *a[] = {"<|start_story|>x<think>y"};
    RS_CHECK(&mk, 0, a, "", "<|start_story|>x<think>y");
    const char *b[] = {"\x01<|start_story|>", "x<think>y"};
    RS_CHECK(&mk, 0, b, "x", "y");
    eng_model_free(m);
}
