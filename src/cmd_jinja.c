/* src/cmd_jinja.c — `natter template render --jinja FILE.jinja | -m MODEL.gguf [options] <
 * conversation.json`: renders a Jinja chat template (a file, or a model's
 * tokenizer.chat_template with its BOS/EOS tokens) over a conversation with src/jinja.h, the
 * way transformers' apply_chat_template does, and prints exactly the result. Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argv.h"
#include "cli.h"
#include "engine.h"
#include "jinja.h"
#include "json_syntax.h"
#include "prompts.h"

#define CONV_MAX (64u << 20)  /* conversation JSON on stdin: at most 64 MiB */
#define JINJA_MAX (16u << 20) /* a .jinja file: at most 16 MiB */

static const char jinja_usage[] =
    "template render --jinja FILE.jinja | -m MODEL.gguf [--bos S] [--eos S] [--no-assistant] "
    "[--now YYYY-MM-DDTHH:MM:SS] [--var NAME=JSON]... < conversation.json";

/* "2026-12-01T12:00:00" (or with a space, or a date alone) as local time; -1 if malformed. */
static int parse_now(const char *s, struct tm *tm) {
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    char sep = 0;
    memset(tm, 0, sizeof *tm);
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return -1;
    if (s[n]) {
        int m = 0;
        if (sscanf(s + n, "%c%2d:%2d:%2d%n", &sep, &h, &mi, &sec, &m) != 4 || s[n + m] ||
            (sep != 'T' && sep != ' '))
            return -1;
    }
    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 59 || h < 0 || mi < 0 || sec < 0)
        return -1;
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = sec;
    tm->tm_isdst = -1;
    struct tm want = *tm;
    if (mktime(tm) == (time_t)-1 && (tm->tm_year != want.tm_year))
        return -1;
    if (tm->tm_mday != want.tm_mday || tm->tm_mon != want.tm_mon) /* e.g. 2026-02-30 */
        return -1;
    /* a DST gap may move the hour: keep the clock time asked for, with mktime's weekday */
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = sec;
    return 0;
}

static char *read_file(const char *path) {
    char *text;
    if (prompts_read_file(path, JINJA_MAX, &text, NULL) != 0)
        cli_error("%s: %s", path, prompts_errmsg());
    return text;
}

/* A special token's text (special=1), or NULL when the model has none. */
static char *token_text(const eng_model *m, int32_t tok) {
    if (tok < 0)
        return NULL;
    int n = eng_token_to_piece(m, tok, NULL, 0, 1);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s)
        return NULL;
    eng_token_to_piece(m, tok, s, n, 1);
    s[n] = 0;
    return s;
}

/* The model's chat template and special tokens (vocabulary only). */
static int read_model(const char *path, char **tmpl, char **bos, char **eos) {
    eng_model *m = cli_vocab_load(path);
    if (!m)
        return -1;
    const char *t = eng_model_meta_str(m, "tokenizer.chat_template");
    if (!t) {
        cli_error("%s: the model has no chat template (tokenizer.chat_template)", path);
        eng_model_free(m);
        return -1;
    }
    *tmpl = strdup(t);
    *bos = token_text(m, eng_token_bos(m));
    *eos = token_text(m, eng_token_eos(m));
    eng_model_free(m);
    if (!*tmpl) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

int cmd_template_render_jinja(int argc, char **argv) {
    const char *file = NULL, *model = NULL, *bos = NULL, *eos = NULL, *now = NULL;
    int add_assistant = 1, n_vars = 0;
    const char **vars = calloc((size_t)argc + 1, sizeof *vars);
    char *tmpl = NULL, *mbos = NULL, *meos = NULL, *json = NULL;
    jinja_tmpl *t = NULL;
    jinja_ctx *c = NULL;
    struct jinja_out out = {0};
    char err[1024];
    int rc = 1;
    if (!vars) {
        cli_error("out of memory");
        return 1;
    }
    enum { O_JINJA = ARGV_ID, O_MODEL, O_BOS, O_EOS, O_NOW, O_VAR, O_NO_ASSISTANT };
    static const struct argv_opt opts[] = {
        {"--jinja", NULL, ARGV_VALUE, O_JINJA}, {"--model", "-m", ARGV_VALUE, O_MODEL},
        {"--bos", NULL, ARGV_VALUE, O_BOS},     {"--eos", NULL, ARGV_VALUE, O_EOS},
        {"--now", NULL, ARGV_VALUE, O_NOW},     {"--var", NULL, ARGV_VALUE, O_VAR},
        {"--no-assistant", NULL, ARGV_FLAG, O_NO_ASSISTANT}, {NULL, NULL, 0, 0},
    };
    struct argv_state st;
    argv_init(&st, argc - 1, argv + 1, jinja_usage, NULL); /* argv[1] is "render" */
    int o;
    while ((o = argv_next(&st, opts)) > ARGV_END) {
        if ((o == O_JINJA || o == O_MODEL) && (file || model)) {
            free(vars);
            return argv_error(&st, "one template: --jinja FILE or -m MODEL");
        }
        switch (o) {
        case O_JINJA: file = st.val; break;
        case O_MODEL: model = st.val; break;
        case O_BOS: bos = st.val; break;
        case O_EOS: eos = st.val; break;
        case O_NOW: now = st.val; break;
        case O_VAR: vars[n_vars++] = st.val; break;
        case O_NO_ASSISTANT: add_assistant = 0; break;
        default:
            free(vars);
            return o == ARGV_POS ? argv_error(&st, "unexpected argument '%s'", st.val)
                                 : argv_unknown(&st);
        }
    }
    if (o < ARGV_END) {
        free(vars);
        return argv_status(o);
    }
    if (!file && !model) {
        free(vars);
        return cli_usage(jinja_usage);
    }
    struct tm now_tm;
    if (now && parse_now(now, &now_tm)) {
        cli_error("--now '%s': expected a time as YYYY-MM-DDTHH:MM:SS", now);
        goto out;
    }
    for (int i = 0; i < n_vars; i++) {
        const char *eq = strchr(vars[i], '=');
        if (!eq || eq == vars[i]) {
            cli_error("--var '%s': expected NAME=JSON", vars[i]);
            goto out;
        }
    }
    const char *where = file ? file : model;
    if (file ? !(tmpl = read_file(file)) : read_model(model, &tmpl, &mbos, &meos))
        goto out;
    if (!bos)
        bos = mbos;
    if (!eos)
        eos = meos;
    if (jinja_parse(tmpl, strlen(tmpl), &t, err, sizeof err)) {
        cli_error("%s:%s", where, err);
        goto out;
    }
    size_t len;
    if (prompts_read_stream(stdin, CONV_MAX, &json, &len) != 0) {
        cli_error("standard input: %s", prompts_errmsg());
        goto out;
    }
    if (!(c = jinja_ctx_new())) {
        cli_error("out of memory");
        goto out;
    }
    char bad[128];
    if (json_syntax_error(json, len, bad, sizeof bad)) {
        cli_error("conversation: %s", bad);
        goto out;
    }
    char top = json_syntax_top(json, len);
    int set = top == '{'   ? jinja_ctx_set_json_vars(c, json, len, 0, err, sizeof err)
              : top == '[' ? jinja_ctx_set_json(c, "messages", json, len, 0, err, sizeof err)
                           : (snprintf(err, sizeof err, "expected a JSON object "
                                                        "{\"messages\": [...], \"tools\": [...]}"),
                              -1);
    if (set) {
        cli_error("conversation: %s", err);
        goto out;
    }
    for (int i = 0; i < n_vars; i++) {
        const char *eq = strchr(vars[i], '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - vars[i]), vars[i]);
        if (jinja_ctx_set_json(c, name, eq + 1, strlen(eq + 1), 0, err, sizeof err)) {
            cli_error("--var %s: %s", name, err);
            goto out;
        }
    }
    if ((!jinja_ctx_has(c, "tools") && jinja_ctx_set_none(c, "tools")) ||
        (!jinja_ctx_has(c, "documents") && jinja_ctx_set_none(c, "documents")) ||
        jinja_ctx_set_bool(c, "add_generation_prompt", add_assistant) ||
        (bos && jinja_ctx_set_str(c, "bos_token", bos, strlen(bos), JINJA_ORIGIN_TEMPLATE)) ||
        (eos && jinja_ctx_set_str(c, "eos_token", eos, strlen(eos), JINJA_ORIGIN_TEMPLATE))) {
        cli_error("out of memory");
        goto out;
    }
    if (now)
        jinja_ctx_set_now(c, &now_tm);
    if (jinja_render(t, c, &out, err, sizeof err)) {
        cli_error("%s:%s", where, err);
        goto out;
    }
    fwrite(out.text, 1, out.len, stdout);
    rc = fflush(stdout) ? 1 : 0;
out:
    jinja_out_free(&out);
    jinja_ctx_free(c);
    jinja_free(t);
    free(json);
    free(tmpl);
    free(mbos);
    free(meos);
    free(vars);
    return rc;
}
