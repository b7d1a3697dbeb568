/* src/store_reply.c — a reply saved as it streams (store.h "streaming replies"): the text kept
 * in memory and written in a short transaction at most every STORE_REPLY_INTERVAL_MS, so a
 * failed write leaves it there to retry. Main thread; errors as store.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "store_impl.h"

static const char *const sql[ST_COUNT] = {
    [ST_REPLY_UPDATE] = "UPDATE messages SET content = ?2, reasoning_content = ?3 WHERE id = ?1",
    /* while only the reasoning grows: the content (and its search row) is left alone */
    [ST_REPLY_REASONING] = "UPDATE messages SET reasoning_content = ?2 WHERE id = ?1",
    [ST_REPLY_FINISH] = "UPDATE messages SET content = ?2, finish = ?3, tokens = ?4, "
                        "prompt_tps = ?5, gen_tps = ?6, reasoning_content = ?7 WHERE id = ?1",
    [ST_CONV_TOUCH] = "UPDATE conversations SET updated = ?2 WHERE n = ?1",
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t store_reply_begin(store *s, const char *id, const char *model) {
    return store_reply_begin_at(s, id, model, 0);
}

int64_t store_reply_begin_at(store *s, const char *id, const char *model, int64_t parent) {
    if (s->reply.msg_id) {
        store_set_err(s, "a reply is already being saved");
        return STORE_E_INVALID;
    }
    int64_t n;
    int r = store_tx_begin_conv(s, id, &n);
    if (r)
        return r;
    int64_t m = store_msg_insert(s, n, "assistant", "", 0, NULL, 0, parent, model);
    if (m < 0 || (r = store_tx_commit(s)) != 0) {
        store_tx_rollback(s);
        return m < 0 ? m : r;
    }
    s->reply.msg_id = m;
    s->reply.conv_n = n;
    s->reply.text.len = s->reply.think.len = 0;
    s->reply.text.dirty = s->reply.think.dirty = 0;
    s->reply.text.used = s->reply.think.used = 0;
    s->reply.last_write_ms = mono_ms();
    return m;
}

/* Binds a growing text (NULL when nothing was ever appended and null_unused). */
static void bind_grow(store *s, sqlite3_stmt *q, int i, const struct growbuf *g, int null_unused) {
    if (null_unused && !g->used)
        store_bind_null(s, q, i);
    else
        store_bind_text_len(s, q, i, g->buf ? g->buf : "", g->len);
}

static int reply_write(store *s) {
    struct reply *rp = &s->reply;
    /* the content (and so its search row) only when it changed */
    sqlite3_stmt *q = stmt(s, rp->text.dirty ? ST_REPLY_UPDATE : ST_REPLY_REASONING);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, rp->msg_id);
    if (rp->text.dirty) {
        bind_grow(s, q, 2, &rp->text, 0);
        bind_grow(s, q, 3, &rp->think, 1);
    } else {
        bind_grow(s, q, 2, &rp->think, 1);
    }
    int r = store_exec(s, q, "save reply");
    rp->last_write_ms = mono_ms();
    if (r == 0)
        rp->text.dirty = rp->think.dirty = 0;
    return r;
}

static int reply_grow(store *s, struct growbuf *g, const char *text, size_t len) {
    struct reply *rp = &s->reply;
    if (!rp->msg_id) {
        store_set_err(s, "no reply is being saved");
        return STORE_E_INVALID;
    }
    if (len > (size_t)0x3fffffff - g->len) {
        store_set_err(s, "reply too long");
        return STORE_E_INVALID;
    }
    if (g->len + len + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < g->len + len + 1)
            cap *= 2;
        char *b = realloc(g->buf, cap);
        if (!b) {
            store_set_err(s, "out of memory");
            return STORE_E_NOMEM;
        }
        g->buf = b;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, text, len);
    g->len += len;
    g->buf[g->len] = 0;
    g->dirty = g->used = 1;
    if (mono_ms() - rp->last_write_ms >= STORE_REPLY_INTERVAL_MS)
        return reply_write(s);
    return 0;
}

int store_reply_append(store *s, const char *text, size_t len) {
    return reply_grow(s, &s->reply.text, text, len);
}

int store_reply_append_reasoning(store *s, const char *text, size_t len) {
    return reply_grow(s, &s->reply.think, text, len);
}

int store_reply_active(const store *s) { return s && s->reply.msg_id != 0; }

int store_reply_flush(store *s) {
    if (!s->reply.msg_id || !(s->reply.text.dirty || s->reply.think.dirty))
        return 0;
    return reply_write(s);
}

int store_reply_finish(store *s, const char *reason, const struct store_reply_stats *st) {
    struct reply *rp = &s->reply;
    if (!rp->msg_id) {
        store_set_err(s, "no reply is being saved");
        return STORE_E_INVALID;
    }
    char now[32];
    store_now_iso(now, sizeof now);
    int r = store_tx_begin(s);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, ST_REPLY_FINISH);
    if (!q) {
        store_tx_rollback(s);
        return STORE_E_SQL;
    }
    store_bind_int64(s, q, 1, rp->msg_id);
    bind_grow(s, q, 2, &rp->text, 0);
    store_bind_text(s, q, 3, reason ? reason : "stop");
    if (st && st->n_tokens >= 0)
        store_bind_int(s, q, 4, st->n_tokens);
    if (st && st->prompt_tps >= 0)
        store_bind_double(s, q, 5, st->prompt_tps);
    if (st && st->gen_tps >= 0)
        store_bind_double(s, q, 6, st->gen_tps);
    bind_grow(s, q, 7, &rp->think, 1);
    if ((r = store_exec(s, q, "finish reply")) == 0) {
        q = stmt(s, ST_CONV_TOUCH);
        if (!q)
            r = STORE_E_SQL;
        else {
            store_bind_int64(s, q, 1, rp->conv_n);
            store_bind_text(s, q, 2, now);
            r = store_exec(s, q, "finish reply");
        }
    }
    if (r == 0)
        r = store_tx_commit(s);
    if (r) {
        store_tx_rollback(s);
        return r;
    }
    rp->msg_id = 0;
    rp->text.len = rp->think.len = 0;
    rp->text.dirty = rp->think.dirty = 0;
    return 0;
}
