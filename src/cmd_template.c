/* src/cmd_template.c — `natter template list|show|render|detect` and `natter prompts`: the CLI
 * over src/prompts.h (render --jinja / -m goes to src/cmd_jinja.c). Conversation JSON passes the strict check of json_syntax.h, then is read
 * through SQLite's JSON functions (json_each on an in-memory database). Main thread. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "cli.h"
#include "json_syntax.h"
#include "chat_prompt.h"
#include "engine.h"
#include "prompts.h"
#include "reasoning.h"

#define CONV_MAX (64u << 20)  /* conversation JSON on stdin: at most 64 MiB */
#define JINJA_MAX (16u << 20) /* a .jinja file: at most 16 MiB */

static const char template_usage[] =
    "template list | show NAME | render NAME [--no-assistant] < conversation.json | "
    "render --jinja FILE.jinja | -m MODEL.gguf [--bos S] [--eos S] [--no-assistant] "
    "[--now TIME] [--var NAME=JSON]... < conversation.json | "
    "tokens -m MODEL.gguf [--no-assistant] [--template NAME] [--think on|off] "
    "< conversation.json | detect FILE.gguf|FILE.jinja";

/* Loads the registry and reports every malformed file on stderr (natter goes on without it). */
static void load_reporting(void) {
    prompts_load();
    for (int i = 0; i < prompts_n_errors(); i++)
        cli_error("%s", prompts_error(i));
}

static const struct prompts_template *find_or_complain(const char *name) {
    const struct prompts_template *t = prompts_template_find(name);
    if (!t)
        cli_error("unknown template '%s' (see 'natter template list')", name);
    return t;
}

static int template_list(void) {
    for (int i = 0; i < prompts_template_count(); i++) {
        const struct prompts_template *t = prompts_template_at(i);
        printf("%-18s %s%s\n", t->name, t->description, t->from_user ? " (user)" : "");
    }
    return 0;
}

static int template_show(const char *name) {
    const struct prompts_template *t = find_or_complain(name);
    if (!t)
        return 1;
    char *text;
    if (prompts_read_file(t->path, 1u << 20, &text, NULL) != 0) {
        cli_error("%s: %s", t->path, prompts_errmsg());
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

/* The conversation: a JSON array of {"role", "content"[, "reasoning_content"]} objects, or
 * an object {"messages": [...]}, parsed with SQLite. */
struct conv {
    struct prompts_msg *msgs;
    struct chat_msg *cmsgs;  /* the same for chat_prompt.h, with lengths and reasoning */
    char **strs; /* owned copies: role, content, reasoning (or NULL), role, ... */
    int n;
};

static void conv_free(struct conv *c) {
    for (int i = 0; i < 3 * c->n; i++)
        free(c->strs[i]);
    free(c->strs);
    free(c->msgs);
    free(c->cmsgs);
    memset(c, 0, sizeof *c);   /* freed twice is harmless */
}

/* The string member in column col (as `->` gives it: a JSON literal) decoded to its exact
 * bytes, NUL included (json_text_decode; SQLite 3.40's json_extract stops at \u0000). */
static char *col_dup(sqlite3_stmt *st, int col, size_t *len) {
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col), dl = 0;
    char *p = malloc(3 * n + 1);
    if (p && (!s || json_text_decode(s, n, p, &dl) < 0))
        dl = 0;
    if (p)
        p[dl] = 0;
    if (len)
        *len = dl;
    return p;
}

/* Fills c from json (len bytes); on error prints one line and returns -1. */
static int conv_parse(const char *json, size_t len, struct conv *c) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, step;
    memset(c, 0, sizeof *c);
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        cli_error("sqlite: %s", db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    char bad[96];
    if (json_syntax_error(json, len, bad, sizeof bad)) { /* before SQLite sees it */
        cli_error("conversation: %s", bad);
        goto out;
    }
    const char top = json_syntax_top(json, len);
    if (top != '[' && top != '{') {
        cli_error("conversation: expected a JSON array of {\"role\", \"content\"} objects "
                  "or {\"messages\": [...]}");
        goto out;
    }
    if (top == '{') {   /* {"messages": [...]}: the array must be there */
        sqlite3_stmt *q = NULL;
        const char *kind = NULL;
        if (sqlite3_prepare_v2(db, "SELECT json_type(?1, '$.messages')", -1, &q, NULL) ==
                SQLITE_OK &&
            sqlite3_bind_text(q, 1, json, (int)len, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            kind = (const char *)sqlite3_column_text(q, 0);
        int ok = kind && !strcmp(kind, "array");
        sqlite3_finalize(q);
        if (!ok) {
            cli_error("conversation: expected a JSON array of {\"role\", \"content\"} objects "
                      "or {\"messages\": [...]}");
            goto out;
        }
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT type, json_type(value, '$.role'), "
                           "value -> '$.role', json_type(value, '$.content'), "
                           "value -> '$.content', "
                           "json_type(value, '$.reasoning_content'), "
                           "value -> '$.reasoning_content' "
                           "FROM json_each(?1, ?2) ORDER BY key",
                           -1, &st, NULL) ||
        sqlite3_bind_text(st, 1, json, (int)len, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 2, top == '{' ? "$.messages" : "$", -1, SQLITE_STATIC)) {
        cli_error("sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int i = c->n;
        const char *t0 = (const char *)sqlite3_column_text(st, 0);
        const char *t1 = (const char *)sqlite3_column_text(st, 1);
        const char *t3 = (const char *)sqlite3_column_text(st, 3);
        if (!t0 || strcmp(t0, "object")) {
            cli_error("conversation: message %d: expected an object", i + 1);
            goto out;
        }
        if (!t1 || !t3 || strcmp(t1, "text") || strcmp(t3, "text")) {
            cli_error("conversation: message %d: \"role\" and \"content\" must be strings", i + 1);
            goto out;
        }
        const char *t5 = (const char *)sqlite3_column_text(st, 5);
        if (t5 && strcmp(t5, "text") && strcmp(t5, "null")) {
            cli_error("conversation: message %d: \"reasoning_content\" must be a string", i + 1);
            goto out;
        }
        struct prompts_msg *m = realloc(c->msgs, (size_t)(i + 1) * sizeof *m);
        if (m)
            c->msgs = m;
        struct chat_msg *cm = m ? realloc(c->cmsgs, (size_t)(i + 1) * sizeof *cm) : NULL;
        if (cm)
            c->cmsgs = cm;
        char **s = cm ? realloc(c->strs, (size_t)(3 * i + 3) * sizeof *s) : NULL;
        if (!s) {
            cli_error("out of memory");
            goto out;
        }
        c->strs = s;
        size_t cl = 0, rl = 0;
        const int has_r = t5 && !strcmp(t5, "text");
        size_t role_len = 0;
        s[3 * i] = col_dup(st, 2, &role_len);
        s[3 * i + 1] = col_dup(st, 4, &cl);
        s[3 * i + 2] = has_r ? col_dup(st, 6, &rl) : NULL;
        c->n++;
        if (!s[3 * i] || !s[3 * i + 1] || (has_r && !s[3 * i + 2])) {
            cli_error("out of memory");
            goto out;
        }
        if (prompts_role_parse(s[3 * i]) < 0 || role_len != strlen(s[3 * i])) {
            cli_error("conversation: message %d: unknown role '%.40s' (system, user, "
                      "assistant or tool)", i + 1, s[3 * i]);
            goto out;
        }
        c->msgs[i].role = s[3 * i];
        c->msgs[i].content = s[3 * i + 1];
        c->msgs[i].content_len = cl;
        c->cmsgs[i] = (struct chat_msg){s[3 * i], s[3 * i + 1], cl, s[3 * i + 2], rl};
    }
    if (step != SQLITE_DONE) {
        cli_error("sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (rc)
        conv_free(c);
    return rc;
}

#define RENDER_USAGE "template render NAME [--no-assistant] < conversation.json"

static int template_render(int argc, char **argv) {
    const char *name = NULL;
    int add_assistant = 1;
    for (int i = 2; i < argc; i++) /* a Jinja template: src/cmd_jinja.c */
        if (!strncmp(argv[i], "--jinja", 7) || !strcmp(argv[i], "-m") ||
            !strncmp(argv[i], "--model", 7))
            return cmd_template_render_jinja(argc, argv);
    enum { O_NO_ASSISTANT = ARGV_ID };
    static const struct argv_opt opts[] = {
        {"--no-assistant", NULL, ARGV_FLAG, O_NO_ASSISTANT}, {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc - 1, argv + 1, RENDER_USAGE, NULL); /* argv[1] is "render" */
    int o;
    while ((o = argv_next(&st, opts)) > ARGV_END) {
        if (o == O_NO_ASSISTANT)
            add_assistant = 0;
        else if (o == ARGV_POS && !name)
            name = st.val;
        else if (o == ARGV_POS)
            return argv_error(&st, "unexpected argument '%s'", st.val);
        else
            return argv_unknown(&st);
    }
    if (o < ARGV_END)
        return argv_status(o);
    if (!name)
        return cli_usage(RENDER_USAGE);
    const struct prompts_template *t = find_or_complain(name);
    if (!t)
        return 1;
    size_t len;
    char *json;
    if (prompts_read_stream(stdin, CONV_MAX, &json, &len) != 0) {
        cli_error("standard input: %s", prompts_errmsg());
        return 1;
    }
    struct conv c;
    int rc = conv_parse(json, len, &c);
    free(json);
    if (rc)
        return 1;
    char *out;
    long n = prompts_render(t, c.msgs, c.n, add_assistant, &out);
    conv_free(&c);
    if (n < 0) {
        cli_error("render: %s", prompts_errmsg());
        return 1;
    }
    fwrite(out, 1, (size_t)n, stdout);
    free(out);
    return fflush(stdout) ? 1 : 0;
}

#define TOKENS_USAGE "template tokens -m MODEL.gguf [--no-assistant] [--template NAME] " \
                     "[--think on|off] < conversation.json"

/* `natter template tokens`: the token ids the chat feeds the model for a conversation (the
 * model's own template unless --template names a built-in one), one line. */
static int template_tokens(int argc, char **argv) {
    const char *model = NULL, *tname = NULL;
    struct chat_prompt_opts o = {1, -1};
    enum { O_MODEL = ARGV_ID, O_TEMPLATE, O_THINK, O_NO_ASSISTANT };
    static const struct argv_opt opts[] = {
        {"--model", "-m", ARGV_VALUE, O_MODEL}, {"--template", NULL, ARGV_VALUE, O_TEMPLATE},
        {"--think", NULL, ARGV_VALUE, O_THINK}, {"--no-assistant", NULL, ARGV_FLAG, O_NO_ASSISTANT},
        {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc - 1, argv + 1, TOKENS_USAGE, NULL); /* argv[1] is "tokens" */
    int opt;
    while ((opt = argv_next(&st, opts)) > ARGV_END) {
        switch (opt) {
        case O_MODEL: model = st.val; break;
        case O_TEMPLATE: tname = st.val; break;
        case O_THINK:
            if (strcmp(st.val, "on") && strcmp(st.val, "off"))
                return argv_error(&st, "--think takes on or off, not '%s'", st.val);
            o.think = !strcmp(st.val, "on");
            break;
        case O_NO_ASSISTANT: o.add_generation = 0; break;
        case ARGV_POS: return argv_error(&st, "unexpected argument '%s'", st.val);
        default: return argv_unknown(&st);
        }
    }
    if (opt < ARGV_END)
        return argv_status(opt);
    if (!model)
        return cli_usage(TOKENS_USAGE);
    eng_model *m = cli_vocab_load(model);
    if (!m)
        return 1;
    int rc = 1, n = 0;
    chat_prompt *p = NULL;
    struct conv c = {0};
    char err[512], *json = NULL;
    int32_t *toks = NULL;
    size_t len;
    if (chat_prompt_new(m, tname, &p, err, sizeof err)) {
        cli_error("%s", err);
        goto out;
    }
    if (*chat_prompt_notice(p))
        cli_error("%s: %s", model, chat_prompt_notice(p));
    if (prompts_read_stream(stdin, CONV_MAX, &json, &len) != 0) {
        cli_error("standard input: %s", prompts_errmsg());
        goto out;
    }
    if (conv_parse(json, len, &c))
        goto out;
    struct reasoning_markers mk; /* as the chat and run ask a model not to think */
    reasoning_markers_detect(&mk, eng_model_meta_str(m, "tokenizer.chat_template"));
    reasoning_markers_vocab(&mk, m);
    if ((n = chat_prompt_tokens(p, c.cmsgs, c.n, &o, &mk, &toks, NULL, NULL, NULL, err,
                                sizeof err)) < 0) {
        cli_error("%s", err);
        goto out;
    }
    for (int i = 0; i < n; i++)
        printf(i ? " %d" : "%d", (int)toks[i]);
    putchar('\n');
    rc = fflush(stdout) ? 1 : 0;
out:
    conv_free(&c);
    free(toks);
    free(json);
    chat_prompt_free(p);
    eng_model_free(m);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The Jinja text of a .gguf's tokenizer.chat_template (NULL text when it has none), or of a
 * text file. Returns -1 after printing an error. */
static int detect_read(const char *path, char **text) {
    *text = NULL;
    if (ends_with(path, ".gguf")) {
        if (eng_file_meta_str(path, "tokenizer.chat_template", JINJA_MAX - 1, text) != ENG_OK) {
            cli_error("%s", eng_last_error()); /* it names the file */
            return -1;
        }
        return 0;
    }
    if (prompts_read_file(path, JINJA_MAX, text, NULL) != 0) {
        cli_error("%s: %s", path, prompts_errmsg());
        return -1;
    }
    return 0;
}

static int template_detect(const char *path) {
    char *text;
    int recognized;
    if (detect_read(path, &text) < 0)
        return 1;
    const char *name = prompts_detect(text, &recognized);
    free(text);
    if (!recognized)
        cli_error("%s: no known chat-template markers; using %s", path, name);
    printf("%s\n", name);
    return 0;
}

int cmd_template(int argc, char **argv) {
    struct argv_state st;
    argv_init(&st, argc, argv, template_usage, NULL);
    int o = argv_next(&st, NULL); /* the subcommand, or --help */
    if (o == ARGV_END)
        return cli_usage(template_usage);
    if (o != ARGV_POS)
        return o < ARGV_END ? argv_status(o) : argv_unknown(&st);
    const char *sub = argv[1];
    for (int i = 2; i < argc; i++) /* template list --help, show --help, detect --help */
        if ((!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) && strcmp(sub, "render") &&
            strcmp(sub, "tokens")) {
            printf("usage: natter %s\n", template_usage);
            return 0;
        }
    int want = !strcmp(sub, "list") ? 2 : !strcmp(sub, "show") || !strcmp(sub, "detect") ? 3 : 0;
    if (!strcmp(sub, "render")) {
        load_reporting();
        return template_render(argc, argv);
    }
    if (!strcmp(sub, "tokens")) {
        load_reporting();
        return template_tokens(argc, argv);
    }
    if (!want || argc != want)
        return cli_usage(template_usage);
    load_reporting();
    if (!strcmp(sub, "list"))
        return template_list();
    if (!strcmp(sub, "show"))
        return template_show(argv[2]);
    return template_detect(argv[2]);
}

int cmd_prompts(int argc, char **argv) {
    struct argv_state st;
    argv_init(&st, argc, argv, "prompts [NAME]", NULL);
    const char *name = NULL;
    int o;
    while ((o = argv_next(&st, NULL)) > ARGV_END) {
        if (o != ARGV_POS)
            return argv_unknown(&st);
        if (name)
            return argv_error(&st, "unexpected argument '%s'", st.val);
        name = st.val;
    }
    if (o < ARGV_END)
        return argv_status(o);
    load_reporting();
    if (name) {
        const struct prompts_system *s = prompts_system_find(name);
        if (!s) {
            cli_error("unknown system prompt '%s' (see 'natter prompts')", name);
            return 1;
        }
        printf("%s\n", s->text);
        return 0;
    }
    for (int i = 0; i < prompts_system_count(); i++) {
        const struct prompts_system *s = prompts_system_at(i);
        printf("%-14s %s%s\n", s->name, s->title, s->from_user ? " (user)" : "");
    }
    return 0;
}
