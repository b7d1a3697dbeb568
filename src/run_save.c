/* src/run_save.c — `natter run --save [--conv ID]` (see run_save.h): resolves the
 * conversation, renders its history for the model (leaving the oldest turns out when it
 * outgrows the context), saves the prompt and the streaming reply. Main thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "paths.h"
#include "reasoning.h"
#include "run_save.h"

/* The history as chat messages; role, content and reasoning are copies the history owns. */
struct history {
    struct chat_msg *msgs;
    int n, cap;
};

struct run_save {
    store *s;
    char err[600];
    char id[STORE_ID_LEN + 1]; /* "" until the conversation exists */
    int reply_open;
    struct history *h;    /* the history and the prompt, read at the first render */
    struct app_conv shape;/* its roles and pins, for app_conv_fit (no text) */
    unsigned char *keep;  /* the messages given to the model (NULL: all) */
    const struct run_save_prompt *p; /* run_save_fit: how run_save_tokens made the prompt */
    const char *prompt;
    size_t prompt_len;
};

static int rs_fail(struct run_save *rs) {
    snprintf(rs->err, sizeof rs->err, "%s", store_errmsg(rs->s));
    return -1;
}

const char *run_save_error(const struct run_save *rs) { return rs->err; }

int run_save_open(const char *db, const char *conv, struct run_save **out, char *err,
                  size_t err_len) {
    char path[4096];
    *out = NULL;
    if (!paths_db(db, path, sizeof path)) {
        snprintf(err, err_len, "cannot find the database path: set --db, NATTER_DB or HOME");
        return -1;
    }
    struct run_save *rs = calloc(1, sizeof *rs);
    if (!rs) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (store_open(path, &rs->s, err, err_len) != 0) {
        free(rs);
        return -1;
    }
    if (conv && store_conv_resolve(rs->s, conv, rs->id) != 0) {
        snprintf(err, err_len, "%s", store_errmsg(rs->s));
        run_save_close(rs);
        return -1;
    }
    *out = rs;
    return 0;
}

static int history_push(struct history *h, const char *role, const char *content,
                        size_t content_len, const char *reasoning, size_t reasoning_len) {
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        struct chat_msg *m = realloc(h->msgs, (size_t)cap * sizeof *m);
        if (!m)
            return -1;
        h->msgs = m;
        h->cap = cap;
    }
    char *r = strdup(role), *c = malloc(content_len + 1);
    char *th = reasoning ? malloc(reasoning_len + 1) : NULL;
    if (!r || !c || (reasoning && !th)) {
        free(r), free(c), free(th);
        return -1;
    }
    memcpy(c, content, content_len); /* NUL bytes and all */
    c[content_len] = 0;
    if (th) {
        memcpy(th, reasoning, reasoning_len);
        th[reasoning_len] = 0;
    }
    h->msgs[h->n++] = (struct chat_msg){r, c, content_len, th, th ? reasoning_len : 0};
    return 0;
}

static int history_msg(const struct store_msg *m, void *ud) {
    struct run_save *rs = ud;
    if (history_push(rs->h, m->role, m->content, m->content_len, m->reasoning,
                     m->reasoning_len))
        return 1;
    struct app_msg *a = app_conv_add(&rs->shape, !strcmp(m->role, "user") ? APP_ROLE_USER
                                                 : !strcmp(m->role, "system") ? APP_ROLE_SYSTEM
                                                 : APP_ROLE_ASSISTANT, "", 0);
    if (!a)
        return 1;
    a->pinned = m->pinned;
    return 0;
}

static void history_free(struct history *h) {
    if (!h)
        return;
    for (int i = 0; i < h->n; i++) {
        free((char *)h->msgs[i].role);
        free((char *)h->msgs[i].content);
        free((char *)h->msgs[i].reasoning);
    }
    free(h->msgs);
    free(h);
}

/* Reads the conversation's system prompt and active path, then the new prompt, once. */
static int history_load(struct run_save *rs, const char *prompt, size_t prompt_len) {
    if (rs->h)
        return 0;
    if (!(rs->h = calloc(1, sizeof *rs->h)))
        goto nomem;
    if (*rs->id) {
        struct store_conv c;
        if (store_conv_get(rs->s, rs->id, &c) != 0)
            return rs_fail(rs);
        int r = c.system_prompt && (history_push(rs->h, "system", c.system_prompt,
                                                 strlen(c.system_prompt), NULL, 0) ||
                                    !app_conv_add(&rs->shape, APP_ROLE_SYSTEM, "", 0));
        store_conv_clear(&c);
        if (r)
            goto nomem;
        if ((r = store_msg_each(rs->s, rs->id, history_msg, rs)) < 0)
            return rs_fail(rs);
        if (r)
            goto nomem;
    }
    if (history_push(rs->h, "user", prompt, prompt_len, NULL, 0) ||
        !app_conv_add(&rs->shape, APP_ROLE_USER, "", 0))
        goto nomem;
    return 0;
nomem:
    snprintf(rs->err, sizeof rs->err, "out of memory");
    return -1;
}

int run_save_render(struct run_save *rs, chat_prompt *cp, const struct chat_prompt_opts *o,
                    const char *prompt, size_t prompt_len, char **text, size_t *len,
                    unsigned char **mask) {
    *text = NULL;
    *mask = NULL;
    if (history_load(rs, prompt, prompt_len))
        return -1;
    struct chat_msg *msgs = malloc(((size_t)rs->h->n + 1) * sizeof *msgs);
    if (!msgs) {
        snprintf(rs->err, sizeof rs->err, "out of memory");
        return -1;
    }
    int n = 0;
    for (int i = 0; i < rs->h->n; i++)
        if (!rs->keep || rs->keep[i])
            msgs[n++] = rs->h->msgs[i];
    char err[512];
    int rc = chat_prompt_render(cp, msgs, n, o, text, len, mask, err, sizeof err);
    free(msgs);
    if (rc) {
        snprintf(rs->err, sizeof rs->err, "conversation %s: %s", *rs->id ? rs->id : "(new)",
                 err);
        return -1;
    }
    return 0;
}

int run_save_tokens(struct run_save *rs, const struct run_save_prompt *p, const char *prompt,
                    size_t prompt_len, char **text, size_t *text_len, int32_t **toks) {
    size_t len = 0;
    unsigned char *mask = NULL;
    char err[512];
    *toks = NULL;
    if (run_save_render(rs, p->cp, &p->o, prompt, prompt_len, text, &len, &mask) != 0)
        return -1;
    const size_t before = len;
    int n = -1;
    if (p->mk && reasoning_prompt_no_think(p->mk, p->has_switch, text, &len) < 0)
        goto nomem;
    if (len != before) { /* what was added is the template's own text */
        unsigned char *nm = realloc(mask, len ? len : 1);
        if (!nm)
            goto nomem;
        mask = nm;
        if (len > before)
            memset(mask + before, 0, len - before);
    }
    /* the messages' text is plain text: it cannot make control tokens */
    if ((n = chat_prompt_tokenize(p->cp, *text, len, mask, toks, err, sizeof err)) < 0)
        snprintf(rs->err, sizeof rs->err, "run: %s", err);
    *text_len = len;
    free(mask);
    return n;
nomem:
    free(mask);
    snprintf(rs->err, sizeof rs->err, "out of memory");
    return -1;
}

/* app_conv_fit's count: the prompt's tokens with the messages of keep. */
static int fit_count(const unsigned char *keep, void *ud) {
    struct run_save *rs = ud;
    char *text = NULL;
    size_t len = 0;
    int32_t *toks = NULL;
    memcpy(rs->keep, keep, (size_t)rs->shape.n_msgs);
    int n = run_save_tokens(rs, rs->p, rs->prompt, rs->prompt_len, &text, &len, &toks);
    free(text);
    free(toks);
    return n;
}

int run_save_fit(struct run_save *rs, const struct run_save_prompt *p, const char *prompt,
                 size_t prompt_len, int n_ctx, int room, int n, char **text, size_t *text_len,
                 int32_t **toks) {
    if (n + room <= n_ctx)
        return n;
    if (history_load(rs, prompt, prompt_len))
        return -1;
    unsigned char *keep = malloc((size_t)rs->shape.n_msgs);
    free(rs->keep);
    rs->keep = malloc((size_t)rs->shape.n_msgs);
    if (!keep || !rs->keep) {
        free(keep);
        snprintf(rs->err, sizeof rs->err, "out of memory");
        return -1;
    }
    rs->p = p;
    rs->prompt = prompt;
    rs->prompt_len = prompt_len;
    int dropped = app_conv_fit(&rs->shape, n_ctx, room, keep, fit_count, rs, &n);
    if (dropped == -2)
        snprintf(rs->err, sizeof rs->err, "run: the prompt with what cannot be left out (the "
                 "system prompt, pinned messages) takes %d tokens, the context %d (--ctx); "
                 "nothing saved", n, n_ctx);
    if (dropped > 0) { /* else all of it fits after all (in less than room): as it was */
        memcpy(rs->keep, keep, (size_t)rs->shape.n_msgs);
        free(*text);
        free(*toks);
        *text = NULL;
        *toks = NULL;
        if ((n = run_save_tokens(rs, p, prompt, prompt_len, text, text_len, toks)) < 0)
            dropped = -1;
        else
            fprintf(stderr, "natter: %d oldest message%s left out of the context\n", dropped,
                    dropped == 1 ? "" : "s");
    }
    free(keep);
    return dropped < 0 ? -1 : n;
}

int run_save_begin(struct run_save *rs, const char *model, const char *template_name,
                   const char *prompt, size_t prompt_len) {
    if (!*rs->id) {
        struct store_conv_params p = {.model = model, .template_name = template_name};
        if (store_conv_new(rs->s, &p, rs->id) != 0)
            return rs_fail(rs);
    } else if ((model && store_conv_set_model(rs->s, rs->id, model) != 0) ||
               (template_name && store_conv_set_template(rs->s, rs->id, template_name) != 0))
        return rs_fail(rs);
    if (store_msg_add_len(rs->s, rs->id, "user", prompt, prompt_len, NULL, 0, 0) < 0 ||
        store_reply_begin(rs->s, rs->id, model) < 0)
        return rs_fail(rs);
    rs->reply_open = 1;
    return 0;
}

const char *run_save_id(const struct run_save *rs) { return rs->id; }

int run_save_append(struct run_save *rs, const char *text, size_t len) {
    return store_reply_append(rs->s, text, len) < 0 ? rs_fail(rs) : 0;
}

int run_save_append_reasoning(struct run_save *rs, const char *text, size_t len) {
    return store_reply_append_reasoning(rs->s, text, len) < 0 ? rs_fail(rs) : 0;
}

int run_save_flush(struct run_save *rs) {
    return store_reply_flush(rs->s) < 0 ? rs_fail(rs) : 0;
}

int run_save_finish(struct run_save *rs, const char *reason, const struct store_reply_stats *st) {
    if (store_reply_finish(rs->s, reason, st) != 0)
        return rs_fail(rs);
    rs->reply_open = 0;
    return 0;
}

void run_save_close(struct run_save *rs) {
    if (!rs)
        return;
    store_close(rs->s); /* flushes a reply in progress */
    history_free(rs->h);
    app_conv_clear(&rs->shape);
    free(rs->keep);
    free(rs);
}
