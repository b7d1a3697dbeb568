/* tests/test_prompts.c — chat templates against llama.cpp's renderings (builtin.ref, all 33
 * formats x 4 variants, byte for byte), detection of the 17 real Jinja templates, the template
 * file parser's errors (FILE:LINE, the other files still load), user overrides, system prompts. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "engine.h"
#include "gguf.h"
#include "harness.h"
#include "paths.h"
#include "prompts.h"
#include "tokenizer.h"

static const struct prompts_msg conv_ref[] = {
    {"system", "You are a helpful assistant.", 0},
    {"user", "Hello", 0},
    {"assistant", "Hi there", 0},
    {"user", "Who are you? 你是谁？", 0},
};

/* Decodes builtin.ref's escapes (\\ \n \t \xHH) in place. */
static void unescape(char *s) {
    char *o = s;
    while (*s) {
        if (*s != '\\' || !s[1]) {
            *o++ = *s++;
            continue;
        }
        char e = s[1];
        s += 2;
        if (e == 'n')
            *o++ = '\n';
        else if (e == 't')
            *o++ = '\t';
        else if (e == 'x' && s[0] && s[1]) {
            char hex[3] = {s[0], s[1], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else
            *o++ = e;
    }
    *o = 0;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[2048];
    paths_mkdir_p(dir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(prompts_builtin_ref_all_formats) {
    REQUIRE_SHARED();
    char *ref = test_read_file(test_shared_path("chat-templates/builtin.ref"), NULL);
    CHECK(ref != NULL);
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    int n_records = 0, n_names = 0;
    char seen[64][64];
    char *save = NULL;
    for (char *line = strtok_r(ref, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64], sys[8];
        int add;
        if (strncmp(line, "template ", 9))
            continue;
        CHECK(sscanf(line, "template %63s system %7s add_assistant %d", name, sys, &add) == 3);
        CHECK_MSG(!strstr(line, "unsupported"), "%s is unsupported in the reference", name);
        char *want = strtok_r(NULL, "\n", &save);
        CHECK(want != NULL);
        unescape(want);
        const struct prompts_template *t = prompts_template_find(name);
        CHECK_MSG(t != NULL, "no template '%s'", name);
        int with_sys = !strcmp(sys, "yes");
        char *got;
        long n = prompts_render(t, conv_ref + (with_sys ? 0 : 1), with_sys ? 4 : 3, add, &got);
        CHECK(n >= 0);
        CHECK_EQ_INT(n, strlen(got));
        CHECK_MSG(!strcmp(got, want), "%s system %s add_assistant %d:\n got [%s]\nwant [%s]",
                  name, sys, add, got, want);
        free(got);
        n_records++;
        int dup = 0;
        for (int i = 0; i < n_names; i++)
            dup |= !strcmp(seen[i], name);
        if (!dup && n_names < 64)
            snprintf(seen[n_names++], sizeof seen[0], "%s", name);
    }
    CHECK_EQ_INT(n_names, 33);
    CHECK_EQ_INT(n_records, 33 * 4);
    free(ref);
}

TEST(prompts_detect_real_jinja) {
    REQUIRE_SHARED();
    char *ref = test_read_file(test_shared_path("chat-templates/builtin.ref"), NULL);
    CHECK(ref != NULL);
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(ref, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char file[256], want[64], rel[300];
        if (sscanf(line, "jinja %255s = %63s", file, want) != 2)
            continue;
        snprintf(rel, sizeof rel, "chat-templates/jinja/%s", file);
        char *jinja = test_read_file(test_shared_path(rel), NULL);
        CHECK_MSG(jinja != NULL, "cannot read %s", rel);
        int recognized = -1;
        const char *got = prompts_detect(jinja, &recognized);
        CHECK_MSG(!strcmp(got, want) && recognized == 1, "%s: detected %s, want %s", file, got,
                  want);
        CHECK_MSG(prompts_template_find(got) != NULL, "%s is not a template", got);
        free(jinja);
        n++;
    }
    CHECK_EQ_INT(n, 17);
    free(ref);
}

TEST(prompts_detect_edge_cases) {
    int rec = -1;
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    CHECK_STR_EQ(prompts_detect(NULL, &rec), "completion");
    CHECK_EQ_INT(rec, 1);
    CHECK_STR_EQ(prompts_detect(" \n", NULL), "completion");
    CHECK_STR_EQ(prompts_detect("gemma\n", NULL), "gemma"); /* a bare template name */
    CHECK_STR_EQ(prompts_detect("{{ bos_token }}{{ messages }}", &rec), "chatml");
    CHECK_EQ_INT(rec, 0);
    CHECK_STR_EQ(prompts_detect("{% if m %}<|im_start|>{{ x }}<|im_sep|>{% endif %}", NULL),
                 "phi4");
    CHECK_STR_EQ(prompts_detect("{{ '[INST] ' + content.strip() + ' [/INST]' }}", NULL),
                 "llama2-sys-strip");
    CHECK_STR_EQ(prompts_detect("[gMASK]<sop>{% for m %}<|user|>\n<|assistant|>", NULL),
                 "chatglm4");
    /* every template the rules can answer exists */
    const char *probes[] = {"<|im_start|>", "[INST][SYSTEM_PROMPT]", "<|assistant|><|end|>",
                            "<|assistant|><|user|></s>", "<|user|><|endoftext|>",
                            "<|start_of_role|>", "<|role_start|>", "rwkv-world"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        CHECK_MSG(prompts_template_find(prompts_detect(probes[i], NULL)) != NULL, "%s",
                  probes[i]);
}

TEST(prompts_render_edges) {
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    char *out;
    /* completion: plain text, no markup */
    const struct prompts_template *c = prompts_template_find("completion");
    CHECK(c != NULL);
    struct prompts_msg story[] = {{"user", "Once upon a time", 0}, {"assistant", " there was", 0}};
    CHECK_EQ_INT(prompts_render(c, story, 2, 1, &out), 26);
    CHECK_STR_EQ(out, "Once upon a time there was");
    free(out);
    CHECK_EQ_INT(c->n_stop, 0);
    /* merged system text with no user message after it still appears */
    const struct prompts_template *g = prompts_template_find("gemma");
    struct prompts_msg only_sys[] = {{"system", "  Be brief.  ", 0}};
    CHECK(prompts_render(g, only_sys, 1, 1, &out) > 0);
    CHECK_STR_EQ(out, "<start_of_turn>user\nBe brief.\n\n<end_of_turn>\n<start_of_turn>model\n");
    free(out);
    /* trimming is per template */
    struct prompts_msg spaced[] = {{"user", "  hi \n", 0}};
    CHECK(prompts_render(prompts_template_find("llama3"), spaced, 1, 0, &out) > 0);
    CHECK_STR_EQ(out, "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
    free(out);
    CHECK(prompts_render(prompts_template_find("chatml"), spaced, 1, 0, &out) > 0);
    CHECK_STR_EQ(out, "<|im_start|>user\n  hi \n<|im_end|>\n");
    free(out);
    /* empty conversation: the BOS text and the generation prefix */
    CHECK(prompts_render(prompts_template_find("chatglm4"), NULL, 0, 1, &out) > 0);
    CHECK_STR_EQ(out, "[gMASK]<sop><|assistant|>");
    free(out);
    /* tool output: its own turn where the template says how, else written as a user turn */
    struct prompts_msg tool[] = {{"system", "S", 0}, {"tool", "42", 0}};
    CHECK(prompts_render(prompts_template_find("chatml"), tool, 2, 0, &out) > 0);
    CHECK_STR_EQ(out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>tool\n42<|im_end|>\n");
    free(out);
    CHECK(prompts_render(g, tool, 2, 0, &out) > 0);
    CHECK_STR_EQ(out, "<start_of_turn>user\nS\n\n42<end_of_turn>\n");
    free(out);
    /* unknown role */
    struct prompts_msg bad[] = {{"robot", "x", 0}};
    CHECK_EQ_INT(prompts_render(g, bad, 1, 1, &out), PROMPTS_E_INVALID);
    CHECK_STR_EQ(prompts_errmsg(), "message 1: unknown role 'robot'");
    CHECK(out == NULL);
    /* a reader's limit: the detail says it, without the file's name */
    FILE *big = tmpfile();
    CHECK(big != NULL);
    for (int i = 0; i < 3000; i++)
        fputc('x', big);
    rewind(big);
    char *text = (char *)1;
    CHECK_EQ_INT(prompts_read_stream(big, 2048, &text, NULL), PROMPTS_E_TOOBIG);
    CHECK_STR_EQ(prompts_errmsg(), "larger than 2048 bytes");
    CHECK(text == NULL);
    fclose(big);
    CHECK_EQ_INT(prompts_read_file("/nonexistent/x.tmpl", 1u << 20, &text, NULL), PROMPTS_E_IO);
    CHECK_STR_EQ(prompts_errmsg(), "No such file or directory");
    /* stop strings are there for the generation loop */
    const struct prompts_template *t = prompts_template_find("chatml");
    CHECK_EQ_INT(t->n_stop, 1);
    CHECK_STR_EQ(t->stop[0], "<|im_end|>");
}

TEST(prompts_malformed_files_reported) {
    char inst[1024], dir[1100];
    snprintf(inst, sizeof inst, "%s/inst", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/templates", inst);
    write_file(dir, "good.tmpl", "# fine\nuser.prefix = \"U: \"  # comment\nstop = \"\\n\"\n");
    write_file(dir, "a-unknown.tmpl", "user.prefix = \"x\"\n\nbogus = \"y\"\n");
    write_file(dir, "b-unterminated.tmpl", "bos = \"<s>\n");
    write_file(dir, "c-escape.tmpl", "description = \"ok\"\nbos = \"\\q\"\n");
    write_file(dir, "d-dup.tmpl", "bos = \"a\"\nbos = \"b\"\n");
    write_file(dir, "e-noeq.tmpl", "\n\n\nuser.prefix \"x\"\n");
    write_file(dir, "f-system.tmpl", "system = maybe\n");
    write_file(dir, "g-trailing.tmpl", "bos = \"a\" \"b\"\n");
    write_file(dir, "h-hex.tmpl", "bos = \"\\x0\"\n");
    write_file(dir, "i-trim.tmpl", "trim = user bots\n");
    write_file(dir, "j-emptystop.tmpl", "stop = \"\"\n");
    write_file(dir, "not-a-template.txt", "garbage");
    snprintf(dir, sizeof dir, "%s/system", inst);
    write_file(dir, "ok.md", "# Title\n\nText.\n");
    write_file(dir, "notitle.md", "\nText.\n");
    write_file(dir, "notext.md", "Only a title\n\n");

    CHECK_EQ_INT(prompts_load_dirs(inst, NULL), 12);
    const char *want[] = {
        "a-unknown.tmpl:3: unknown key 'bogus'",
        "b-unterminated.tmpl:1: unterminated string",
        "c-escape.tmpl:2: unknown escape '\\q'",
        "d-dup.tmpl:2: duplicate key 'bos'",
        "e-noeq.tmpl:4: expected '=' after 'user.prefix'",
        "f-system.tmpl:1: system: expected 'own' or 'merge'",
        "g-trailing.tmpl:1: unexpected text after the string",
        "h-hex.tmpl:1: \\x needs two hex digits",
        "i-trim.tmpl:1: trim: unknown word 'bots'",
        "j-emptystop.tmpl:1: stop: empty string",
        "notext.md:2: no text after the title line",
        "notitle.md:1: the first line must be the title",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (int k = 0; k < prompts_n_errors(); k++)
            found |= strstr(prompts_error(k), want[i]) != NULL &&
                     !strncmp(prompts_error(k), inst, strlen(inst));
        CHECK_MSG(found, "missing error: %s", want[i]);
    }
    CHECK_EQ_INT(prompts_template_count(), 1);
    const struct prompts_template *t = prompts_template_find("good");
    CHECK(t != NULL);
    CHECK_STR_EQ(t->role[PROMPTS_USER].prefix, "U: ");
    CHECK_EQ_INT(t->n_stop, 1);
    CHECK_STR_EQ(t->stop[0], "\n");
    CHECK_EQ_INT(prompts_system_count(), 1);
    CHECK_STR_EQ(prompts_system_at(0)->title, "Title");
}

TEST(prompts_user_overrides) {
    char inst[1024], user[1024], d[1100];
    snprintf(inst, sizeof inst, "%s/inst", test_tmpdir());
    snprintf(user, sizeof user, "%s/conf/natter/prompts", test_tmpdir());
    snprintf(d, sizeof d, "%s/templates", inst);
    write_file(d, "chatml.tmpl", "description = \"installed\"\n");
    write_file(d, "plain.tmpl", "description = \"installed plain\"\n");
    snprintf(d, sizeof d, "%s/system", inst);
    write_file(d, "assistant.md", "Assistant\nYou help.\n");
    snprintf(d, sizeof d, "%s/templates", user);
    write_file(d, "chatml.tmpl", "description = \"mine\"\nbos = \"B\"\n");
    write_file(d, "mine.tmpl", "description = \"new\"\n");
    write_file(d, "plain.tmpl", "description = \"broken\"\nnope\n"); /* installed one stays */
    snprintf(d, sizeof d, "%s/system", user);
    write_file(d, "assistant.md", "My assistant\nYou help me.\n");
    write_file(d, "pirate.md", "Pirate\n\n  Talk like a pirate.\n\n");

    setenv("NATTER_PROMPTS", inst, 1);
    snprintf(d, sizeof d, "%s/conf", test_tmpdir());
    setenv("XDG_CONFIG_HOME", d, 1);
    CHECK_EQ_INT(prompts_load(), 1);
    CHECK(strstr(prompts_error(0), "plain.tmpl:2: expected '=' after 'nope'") != NULL);
    CHECK_EQ_INT(prompts_template_count(), 3);
    CHECK_STR_EQ(prompts_template_at(0)->name, "chatml");
    CHECK_STR_EQ(prompts_template_at(0)->description, "mine");
    CHECK_STR_EQ(prompts_template_at(0)->bos, "B");
    CHECK_EQ_INT(prompts_template_at(0)->from_user, 1);
    CHECK_STR_EQ(prompts_template_at(1)->name, "mine");
    CHECK_STR_EQ(prompts_template_find("plain")->description, "installed plain");
    CHECK_EQ_INT(prompts_template_find("plain")->from_user, 0);
    CHECK_EQ_INT(prompts_system_count(), 2);
    CHECK_STR_EQ(prompts_system_find("assistant")->title, "My assistant");
    CHECK_STR_EQ(prompts_system_find("assistant")->text, "You help me.");
    CHECK_STR_EQ(prompts_system_find("pirate")->text, "Talk like a pirate.");
    CHECK(prompts_system_find("nope") == NULL);
    prompts_free();
}

TEST(prompts_installed_system_prompts) {
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    const char *need[] = {"assistant", "concise", "coder", "translator"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const struct prompts_system *s = prompts_system_find(need[i]);
        CHECK_MSG(s != NULL, "no system prompt '%s'", need[i]);
        CHECK(s->title[0] && s->text[0]);
        CHECK(!strchr(s->title, '\n'));
    }
    CHECK(prompts_system_count() >= 6);
    for (int i = 1; i < prompts_system_count(); i++)
        CHECK(strcmp(prompts_system_at(i - 1)->name, prompts_system_at(i)->name) < 0);
    /* the files are wrapped at 100 columns; the model gets each paragraph as one line */
    const struct prompts_system *c = prompts_system_find("coder");
    CHECK(c != NULL);
    CHECK_MSG(!strchr(c->text, '\n'), "coder's text has a line break: [%s]", c->text);
    CHECK(strstr(c->text, "with clear names and no needless cleverness.") != NULL);
    for (int i = 0; i < prompts_system_count(); i++)
        CHECK_MSG(!strchr(prompts_system_at(i)->text, '\n'), "%s has a line break",
                  prompts_system_at(i)->name);
}

static void unwrap_check(const char *in, const char *want) {
    char *got = prompts_text_unwrap(in, strlen(in));
    if (!got || strcmp(got, want))
        test_fail(__FILE__, __LINE__, "unwrap [%s]:\n got [%s]\nwant [%s]", in,
                  got ? got : "(null)", want);
    free(got);
}

TEST(prompts_text_unwrap_keeps_structure) {
    unwrap_check("", "");
    unwrap_check("one\ntwo \n   three", "one two three");
    unwrap_check("para one\nstill one\n\npara two\n", "para one still one\n\npara two");
    /* lists: each item on its line, a wrapped item joined */
    unwrap_check("Rules:\n- first\n  wraps here\n* second\n1. third\n12) fourth\nend",
                 "Rules:\n- first wraps here\n* second\n1. third\n12) fourth end");
    /* headings, quotes, tables, rules stand on their lines */
    unwrap_check("# Title\ntext\n> quoted\nlazy\n| a | b |\n|---|---|\n---\nafter",
                 "# Title\ntext\n> quoted lazy\n| a | b |\n|---|---|\n---\nafter");
    /* fenced code is kept as it is, fence lines included */
    unwrap_check("Use:\n```sh\nls -l\n  cd /\n```\nthen\nmore",
                 "Use:\n```sh\nls -l\n  cd /\n```\nthen more");
    unwrap_check("~~~\na\nb", "~~~\na\nb"); /* an unclosed fence runs to the end */
    /* an indented code block after a blank line; hard breaks */
    unwrap_check("x\n\n    code 1\n    code 2\n    code 3\ny\nz",
                 "x\n\n    code 1\n    code 2\n    code 3\ny z");
    unwrap_check("line\\\nnext  \nlast", "line\\\nnext  \nlast");
    /* "-" alone, "-x" and "1.5" are text */
    unwrap_check("a\n-x\n1.5 b\n-", "a -x 1.5 b\n-");
    unwrap_check("\n\nlead", "\n\nlead");
    unwrap_check("crlf\r\nline\r\n\r\nnext", "crlf line\r\n\r\nnext");
}

TEST(prompts_template_for_falls_back) {
    char d[1024];
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    CHECK_STR_EQ(prompts_template_for("<start_of_turn>")->name, "gemma");
    CHECK_STR_EQ(prompts_template_for(NULL)->name, "completion");
    snprintf(d, sizeof d, "%s/p/templates", test_tmpdir());
    write_file(d, "zeta.tmpl", "");
    write_file(d, "completion.tmpl", "");
    snprintf(d, sizeof d, "%s/p", test_tmpdir());
    prompts_load_dirs(d, NULL); /* no system/: one error */
    CHECK_STR_EQ(prompts_template_for("<start_of_turn>")->name, "completion");
    snprintf(d, sizeof d, "%s/p/templates/completion.tmpl", test_tmpdir());
    CHECK_EQ_INT(remove(d), 0);
    snprintf(d, sizeof d, "%s/p", test_tmpdir());
    prompts_load_dirs(d, NULL);
    CHECK_STR_EQ(prompts_template_for("<start_of_turn>")->name, "zeta");
    snprintf(d, sizeof d, "%s/nowhere", test_tmpdir());
    prompts_load_dirs(d, NULL);
    CHECK(prompts_template_for("<start_of_turn>") == NULL);
}

TEST(prompts_missing_installed_dir) {
    char d[1024];
    snprintf(d, sizeof d, "%s/nowhere", test_tmpdir());
    CHECK_EQ_INT(prompts_load_dirs(d, NULL), 2); /* templates/ and system/ both reported */
    CHECK(strstr(prompts_error(0), "nowhere/templates: No such file or directory") != NULL);
    CHECK_EQ_INT(prompts_template_count(), 0);
    CHECK(prompts_template_find("chatml") == NULL);
}

/* Counts tok in a prompt rendered with template tmpl and tokenized by the vocab of vocab_file
 * with (parse_special 1) or without special-token parsing. */
static int count_token(const char *vocab_file, const char *tmpl, const char *tok_text,
                       int parse_special) {
    char err[256];
    gguf *g = NULL;
    struct vocab *v = NULL;
    int count = -1;
    char *text = NULL;
    int32_t toks[512];
    if (gguf_open(test_shared_path(vocab_file), &g, err, sizeof err) != ENG_OK ||
        vocab_load(g, &v, err, sizeof err) != ENG_OK)
        goto out;
    int32_t want = vocab_find(v, tok_text, strlen(tok_text));
    long len = prompts_render(prompts_template_find(tmpl), conv_ref, 4, 1, &text);
    int n = len < 0 ? -1 : vocab_tokenize(v, text, (size_t)len, 1, parse_special, toks, 512);
    if (want < 0 || n < 0 || n > 512)
        goto out;
    count = 0;
    for (int i = 0; i < n; i++)
        count += toks[i] == want;
out:
    free(text);
    if (v)
        vocab_free(v);
    if (g)
        gguf_close(g);
    return count;
}

/* Issue 6 item 7: rendered prompts are tokenized with special-token parsing, so the markers
 * become single special tokens, and the templates' stop markers are the models' end tokens. */
TEST(prompts_rendered_special_tokens) {
    REQUIRE_SHARED();
    CHECK_EQ_INT(prompts_load_dirs("prompts", NULL), 0);
    const char *q = "vocab/ggml-vocab-qwen2.gguf", *p = "vocab/ggml-vocab-phi-3.gguf";
    CHECK_EQ_INT(count_token(q, "chatml", "<|im_start|>", 1), 5); /* 4 turns + generation */
    CHECK_EQ_INT(count_token(q, "chatml", "<|im_end|>", 1), 4);
    CHECK_EQ_INT(count_token(q, "chatml", "<|im_start|>", 0), 0); /* plain text otherwise */
    CHECK_EQ_INT(count_token(p, "phi3", "<|user|>", 1), 2);
    CHECK_EQ_INT(count_token(p, "phi3", "<|assistant|>", 1), 2);
    CHECK_EQ_INT(count_token(p, "phi3", "<|end|>", 1), 4);

    const struct { const char *vocab, *tmpl; } pairs[] = {{q, "chatml"}, {p, "phi3"}};
    for (size_t i = 0; i < 2; i++) {
        char err[256];
        gguf *g = NULL;
        struct vocab *v = NULL;
        CHECK(gguf_open(test_shared_path(pairs[i].vocab), &g, err, sizeof err) == ENG_OK);
        CHECK(vocab_load(g, &v, err, sizeof err) == ENG_OK);
        const struct prompts_template *t = prompts_template_find(pairs[i].tmpl);
        CHECK(t->n_stop >= 1);
        int32_t stop = vocab_find(v, t->stop[0], strlen(t->stop[0]));
        CHECK_MSG(stop >= 0 && vocab_is_eog(v, stop), "%s: stop %s is not an end token",
                  pairs[i].tmpl, t->stop[0]);
        vocab_free(v);
        gguf_close(g);
    }
}
