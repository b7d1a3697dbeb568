/* src/run_save.c — `natter run --save [--conv ID]` (see run_save.h): resolves the
 * conversation, renders its history for the model, saves the prompt and the streaming reply.
 * Main thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "run_save.h"

struct run_save {
    store *s;
    char err[600];
    char id[STORE_ID_LEN + 1]; /* "" until the conversation exists */
    int reply_open;
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

/* The history as chat messages; role, content and reasoning are copies the history owns. */
struct history {
    struct chat_msg *msgs;
    int n, cap;
};

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
    return history_push(ud, m->role, m->content, m->content_len, m->reasoning,
                        m->reasoning_len) ? 1 : 0;
}

static void history_free(struct history *h) {
    for (int i = 0; i < h->n; i++) {
        free((char *)h->msgs[i].role);
        free((char *)h->msgs[i].content);
        free((char *)h->msgs[i].reasoning);
    }
    free(h->msgs);
}

int run_save_render(struct run_save *rs, chat_prompt *cp, const struct chat_prompt_opts *o,
                    const char *prompt, size_t prompt_len, char **text, size_t *len,
                    unsigned char **mask) {
    struct history h = {0};
    int r = 0;
    *text = NULL;
    *mask = NULL;
    if (*rs->id) {
        struct store_conv c;
        if (store_conv_get(rs->s, rs->id, &c) != 0)
            return rs_fail(rs);
        if (c.system_prompt && history_push(&h, "system", c.system_prompt, strlen(c.system_prompt), NULL, 0))
            r = -1;
        store_conv_clear(&c);
        if (r == 0) {
            r = store_msg_each(rs->s, rs->id, history_msg, &h);
            if (r < 0) {
                history_free(&h);
                return rs_fail(rs);
            }
        }
    }
    if (r == 0)
        r = history_push(&h, "user", prompt, prompt_len, NULL, 0);
    if (r != 0) {
        history_free(&h);
        snprintf(rs->err, sizeof rs->err, "out of memory");
        return -1;
    }
    char err[512];
    int rc = chat_prompt_render(cp, h.msgs, h.n, o, text, len, mask, err, sizeof err);
    history_free(&h);
    if (rc) {
        snprintf(rs->err, sizeof rs->err, "conversation %s: %s", *rs->id ? rs->id : "(new)",
                 err);
        return -1;
    }
    return 0;
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
    free(rs);
}
