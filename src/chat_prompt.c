/* src/chat_prompt.c — a conversation rendered for a model (chat_prompt.h): the model's Jinja
 * template through src/jinja.h with per-byte origins, or a built-in format through
 * prompts_render_masked; then eng_tokenize_masked. Main thread. */
#include "chat_prompt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"
#include "json_write.h"
#include "reasoning.h"

struct chat_prompt {
    const eng_model *m;
    jinja_tmpl *jt;                       /* the model's template, or NULL: bt */
    const char *jinja;                    /* its text (borrowed from the model) */
    const struct prompts_template *bt;
    char family[64];
    char notice[384];
    char *bos, *eos;                      /* the vocabulary's special tokens' text, or NULL */
    int sw_enable, sw_thinking, sw_effort, sw_budget, effort_no_think;
    int tmpl_switch;                      /* the model's template reads enable_thinking (for a
                                           * built-in format of its family) */
};

/* A special token's text, or NULL when the model has none. */
static char *chat_token_text(const eng_model *m, int32_t tok) {
    if (tok < 0)
        return NULL;
    int n = eng_token_to_piece(m, tok, NULL, 0, 1);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!s)
        return NULL;
    eng_token_to_piece(m, tok, s, n, 1);
    s[n] = 0;
    return s;
}

static int chat_ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* 1 when the template text names the variable (as a whole identifier). */
static int chat_uses_var(const char *text, const char *name) {
    const size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)); p += n)
        if ((p == text || !chat_ident_char(p[-1])) && !chat_ident_char(p[n]))
            return 1;
    return 0;
}

int chat_prompt_new(const eng_model *m, const char *tmpl_name, chat_prompt **out, char *err,
                    size_t err_len) {
    *out = NULL;
    chat_prompt *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    p->m = m;
    const char *jinja = m ? eng_model_meta_str(m, "tokenizer.chat_template") : NULL;
    if (tmpl_name && *tmpl_name) {
        if (!(p->bt = prompts_template_find(tmpl_name))) {
            snprintf(err, err_len, "unknown template '%s' (see 'natter template list')",
                     tmpl_name);
            free(p);
            return -1;
        }
    } else if (jinja && *jinja) {
        char perr[256];
        if (jinja_parse(jinja, strlen(jinja), &p->jt, perr, sizeof perr) == 0) {
            p->jinja = jinja;
        } else {
            p->bt = prompts_template_for(jinja);
            snprintf(p->notice, sizeof p->notice, "the model's chat template does not parse "
                     "(%s): using %s", perr, p->bt ? p->bt->name : "none");
        }
    } else {
        p->bt = prompts_template_for(NULL);
    }
    if (!p->jt && !p->bt) {
        snprintf(err, err_len, "no chat templates found (is prompts/ installed?)");
        free(p);
        return -1;
    }
    int known = 1;
    const char *fam = p->jt ? prompts_detect(jinja, &known) : p->bt->name;
    snprintf(p->family, sizeof p->family, "%s", known ? fam : "jinja");
    if (m) {
        p->bos = chat_token_text(m, eng_token_bos(m));
        p->eos = chat_token_text(m, eng_token_eos(m));
    }
    p->tmpl_switch = reasoning_template_switch(jinja);
    if (p->jt) {
        p->sw_enable = chat_uses_var(jinja, "enable_thinking");
        p->sw_thinking = chat_uses_var(jinja, "thinking");
        p->sw_effort = chat_uses_var(jinja, "reasoning_effort");
        p->sw_budget = chat_uses_var(jinja, "thinking_budget");
        p->effort_no_think = strstr(jinja, "no_think") != NULL;
    }
    *out = p;
    return 0;
}

void chat_prompt_free(chat_prompt *p) {
    if (!p)
        return;
    jinja_free(p->jt);
    free(p->bos);
    free(p->eos);
    free(p);
}

int chat_prompt_is_jinja(const chat_prompt *p) { return p->jt != NULL; }
const char *chat_prompt_family(const chat_prompt *p) { return p->family; }
const struct prompts_template *chat_prompt_builtin(const chat_prompt *p) { return p->bt; }
const char *chat_prompt_notice(const chat_prompt *p) { return p->notice; }

int chat_prompt_has_think_switch(const chat_prompt *p) {
    return p->sw_enable || p->sw_thinking || p->sw_effort || p->sw_budget;
}

/* The messages as the conversation JSON the template reads: {"messages": [{"role", "content",
 * "reasoning_content"}...]}. */
static int chat_json(const struct chat_msg *msgs, int n, struct json_buf *b) {
    json_puts(b, "{\"messages\":[");
    for (int i = 0; i < n; i++) {
        if (prompts_role_parse(msgs[i].role) < 0)
            return -1;
        json_puts(b, i ? ",{\"role\":" : "{\"role\":");
        json_put_str(b, msgs[i].role, strlen(msgs[i].role));
        json_puts(b, ",\"content\":");
        json_put_str(b, msgs[i].content ? msgs[i].content : "", msgs[i].content_len);
        if (msgs[i].reasoning && msgs[i].reasoning_len) {
            json_puts(b, ",\"reasoning_content\":");
            json_put_str(b, msgs[i].reasoning, msgs[i].reasoning_len);
        }
        json_puts(b, "}");
    }
    json_puts(b, "]}");
    return 0;
}

/* The thinking switch as the template spells it. */
static int chat_set_think(const chat_prompt *p, jinja_ctx *c, int on) {
    int rc = 0;
    char jerr[128];
    if (p->sw_enable)
        rc |= jinja_ctx_set_bool(c, "enable_thinking", on);
    if (p->sw_thinking)
        rc |= jinja_ctx_set_bool(c, "thinking", on);
    if (p->sw_effort && !on) {
        const char *e = p->effort_no_think ? "no_think" : "low";
        rc |= jinja_ctx_set_str(c, "reasoning_effort", e, strlen(e), JINJA_ORIGIN_TEMPLATE);
    }
    if (p->sw_budget && !on)
        rc |= jinja_ctx_set_json(c, "thinking_budget", "0", 1, 0, jerr, sizeof jerr);
    return rc;
}

static int chat_render_jinja(chat_prompt *p, const struct chat_msg *msgs, int n,
                             const struct chat_prompt_opts *o, char **text, size_t *len,
                             unsigned char **mask, char *err, size_t err_len) {
    struct json_buf b = {0};
    if (chat_json(msgs, n, &b)) {
        free(b.p);
        snprintf(err, err_len, "a message has an unknown role");
        return -1;
    }
    jinja_ctx *c = jinja_ctx_new();
    struct jinja_out out = {0};
    char jerr[512];
    int rc = -1;
    if (b.oom || !c) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    /* roles are natter's own four words: a template may build tokens from them */
    if (jinja_ctx_set_json_vars(c, b.p, b.len, JINJA_JSON_ROLES_TRUSTED, jerr, sizeof jerr)) {
        snprintf(err, err_len, "%s", jerr);
        goto done;
    }
    if (jinja_ctx_set_none(c, "tools") || jinja_ctx_set_none(c, "documents") ||
        jinja_ctx_set_bool(c, "add_generation_prompt", o->add_generation) ||
        (p->bos && jinja_ctx_set_str(c, "bos_token", p->bos, strlen(p->bos),
                                     JINJA_ORIGIN_TEMPLATE)) ||
        (p->eos && jinja_ctx_set_str(c, "eos_token", p->eos, strlen(p->eos),
                                     JINJA_ORIGIN_TEMPLATE)) ||
        (o->think >= 0 && chat_set_think(p, c, o->think))) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    if (jinja_render(p->jt, c, &out, jerr, sizeof jerr)) {
        snprintf(err, err_len, "the model's chat template: %s", jerr);
        goto done;
    }
    /* JINJA_ORIGIN_DATA is 1: the origins are the mask */
    *text = out.text;
    *len = out.len;
    *mask = out.origin;
    out.text = NULL;
    out.origin = NULL;
    rc = 0;
done:
    jinja_out_free(&out);
    jinja_ctx_free(c);
    free(b.p);
    return rc;
}

int chat_prompt_render(chat_prompt *p, const struct chat_msg *msgs, int n,
                       const struct chat_prompt_opts *o, char **text, size_t *len,
                       unsigned char **mask, char *err, size_t err_len) {
    *text = NULL;
    *mask = NULL;
    *len = 0;
    if (p->jt)
        return chat_render_jinja(p, msgs, n, o, text, len, mask, err, err_len);
    struct prompts_msg *pm = malloc((size_t)(n > 0 ? n : 1) * sizeof *pm);
    if (!pm) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        pm[i].role = msgs[i].role;
        pm[i].content = msgs[i].content_len ? msgs[i].content : ""; /* NUL bytes and all */
        pm[i].content_len = msgs[i].content_len;
    }
    long l = prompts_render_masked(p->bt, pm, n, o->add_generation, text, mask);
    free(pm);
    if (l < 0) {
        snprintf(err, err_len, "cannot render the conversation with template '%s': %s",
                 p->bt->name, prompts_errmsg());
        return -1;
    }
    *len = (size_t)l;
    return 0;
}

int chat_tokenize(const eng_model *m, const char *text, size_t len, int add_special,
                  int parse_special, const unsigned char *mask, int32_t **toks, char *err,
                  size_t err_len) {
    *toks = NULL;
    int n = mask ? eng_tokenize_masked(m, text, len, add_special, mask, NULL, 0)
                 : eng_tokenize(m, text, len, add_special, parse_special, NULL, 0);
    int32_t *t = n >= 0 ? malloc((size_t)(n > 0 ? n : 1) * sizeof *t) : NULL;
    int again = !t ? -1
              : mask ? eng_tokenize_masked(m, text, len, add_special, mask, t, n)
                     : eng_tokenize(m, text, len, add_special, parse_special, t, n);
    if (n < 0 || again != n) {
        snprintf(err, err_len, "tokenizing failed: %s", n < 0 || t ? eng_last_error()
                                                                 : "out of memory");
        free(t);
        return -1;
    }
    *toks = t;
    return n;
}

int chat_prompt_tokenize(const chat_prompt *p, const char *text, size_t len,
                         const unsigned char *mask, int32_t **toks, char *err, size_t err_len) {
    *toks = NULL;
    /* one BOS: the template's own when it spells the vocabulary's, else the tokenizer's */
    const char *tb = p->bt && p->bt->bos && p->bt->bos[0] ? p->bt->bos : p->bos;
    const size_t tbl = tb ? strlen(tb) : 0;
    const int starts = tbl && len >= tbl && !memcmp(text, tb, tbl) && !(mask && mask[0]);
    const int32_t bos = eng_token_bos(p->m);
    size_t skip = 0;
    int add = !starts;
    if (starts && p->bt && (!p->bos || strcmp(tb, p->bos))) {
        /* a built-in format's "bos" line that is not this vocabulary's BOS text (e.g. "<s>"
         * for a vocabulary whose BOS is another token): the vocabulary's BOS instead */
        skip = tbl;
        add = 0;
    }
    int32_t *t = NULL;
    int n = chat_tokenize(p->m, text + skip, len - skip, add, 1, mask ? mask + skip : NULL, &t,
                          err, err_len);
    if (n < 0)
        return -1;
    if (skip && bos >= 0) {
        int32_t *nt = realloc(t, ((size_t)n + 1) * sizeof *t);
        if (!nt) {
            free(t);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        t = nt;
        memmove(t + 1, t, (size_t)n * sizeof *t);
        t[0] = bos;
        n++;
    }
    if (n >= 2 && bos >= 0 && t[0] == bos && t[1] == bos) { /* never two */
        memmove(t, t + 1, (size_t)(n - 1) * sizeof *t);
        n--;
    }
    *toks = t;
    return n;
}

int chat_prompt_tokens(chat_prompt *p, const struct chat_msg *msgs, int n,
                       const struct chat_prompt_opts *o, const struct reasoning_markers *mk,
                       int32_t **toks, char **text_out, size_t *len_out, int *inside,
                       char *err, size_t err_len) {
    char *text = NULL;
    unsigned char *mask = NULL;
    size_t len = 0;
    *toks = NULL;
    if (chat_prompt_render(p, msgs, n, o, &text, &len, &mask, err, err_len))
        return -1;
    const size_t before = len;
    /* thinking off and a template without its own switch: the prompt asks instead (closes a
     * reasoning it opened; built-in formats of a family with a switch get the empty thought) */
    const int jinja_switch = p->jt && chat_prompt_has_think_switch(p);
    int nt = -1;
    if (mk && o->think == 0 && !jinja_switch &&
        reasoning_prompt_no_think(mk, p->jt ? 0 : p->tmpl_switch, &text, &len) < 0)
        goto nomem;
    if (len != before) { /* the added text is the template's own */
        unsigned char *nm = realloc(mask, len ? len : 1);
        if (!nm)
            goto nomem;
        mask = nm;
        if (len > before)
            memset(mask + before, 0, len - before);
    }
    if (inside)
        *inside = mk ? reasoning_prompt_inside(mk, text, len) : 0;
    nt = chat_prompt_tokenize(p, text, len, mask, toks, err, err_len);
    free(mask);
    if (nt >= 0 && text_out) {
        *text_out = text;
        *len_out = len;
    } else {
        free(text);
    }
    return nt;
nomem:
    free(text);
    free(mask);
    snprintf(err, err_len, "out of memory");
    return -1;
}

void chat_prompt_log(const int32_t *toks, int n) {
    const char *path = getenv("NATTER_PROMPT_LOG");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    for (int i = 0; i < n; i++)
        fprintf(f, i ? " %d" : "%d", (int)toks[i]);
    fputc('\n', f);
    fclose(f);
}
