/* src/store_search.c — full-text search (store.h "search") over the FTS5 table the schema keeps
 * in step with messages and titles. Main thread; errors as store.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "store_impl.h"

#define SEARCH_SQL                                                                            \
    "SELECT c.id AS id, c.title AS title, m.role AS role, m.id AS mid, h.snip AS snip, "      \
    "h.rk AS rk FROM (SELECT rowid AS r, snippet(search, 0, '[', ']', '…', 12) AS snip, "     \
    "rank AS rk FROM search WHERE search MATCH ?1 ORDER BY rank LIMIT ?2) h "                 \
    "LEFT JOIN messages m ON m.id = CASE WHEN h.r % 2 = 0 THEN h.r / 2 END "                  \
    "JOIN conversations c ON c.n = coalesce(m.conv, (h.r - 1) / 2) ORDER BY h.rk"

static const char *const sql[ST_COUNT] = {
    /* a NUL byte in a snippet is shown as U+2400 (hits are C strings; JSON keeps \u0000) */
    [ST_SEARCH] = "SELECT id, title, role, mid, replace(snip, char(0), '␀'), rk FROM ("
                  SEARCH_SQL ")",
    [ST_SEARCH_JSON] = "SELECT json_group_array(json_object('id', id, 'title', title, 'role', "
                       "role, 'message', mid, 'snippet', snip, 'rank', rk)) FROM (" SEARCH_SQL ")",
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

/* Turns the user's words into an FTS5 query: each word a quoted phrase (a trailing * kept as a
 * prefix match), all required. Caller frees. */
static char *search_query(const char *in) {
    size_t n = strlen(in);
    char *out = malloc(3 * n + 4), *o = out;
    if (!out)
        return NULL;
    const char *p = in;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        size_t wl = (size_t)(p - w);
        int prefix = wl > 1 && w[wl - 1] == '*';
        if (prefix)
            wl--;
        if (o != out)
            *o++ = ' ';
        *o++ = '"';
        for (size_t i = 0; i < wl; i++) {
            if (w[i] == '"')
                *o++ = '"';
            *o++ = w[i];
        }
        *o++ = '"';
        if (prefix)
            *o++ = '*';
    }
    *o = 0;
    return out;
}

/* The search statement bound to the query into *out; 0 or an error. */
static int search_bind(store *s, enum stmt_id which, const char *query, int limit,
                       sqlite3_stmt **out) {
    int r = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (r)
        return r;
    char *fts = search_query(query);
    if (!fts) {
        store_set_err(s, "out of memory");
        return STORE_E_NOMEM;
    }
    if (!*fts) {
        free(fts);
        store_set_err(s, "empty search");
        return STORE_E_INVALID;
    }
    sqlite3_stmt *q = *out = stmt(s, which);
    if (q) {
        store_bind_text(s, q, 1, fts);
        store_bind_int(s, q, 2, limit > 0 ? limit : 100);
    }
    free(fts);
    return q ? 0 : STORE_E_SQL;
}

int store_search(store *s, const char *query, int limit,
                 int (*fn)(const struct store_hit *h, void *ud), void *ud) {
    sqlite3_stmt *q;
    int rc, r = search_bind(s, ST_SEARCH, query, limit, &q);
    if (r)
        return r;
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
        struct store_hit h = {
            .id = store_col(q, 0),
            .title = store_col(q, 1),
            .role = store_col(q, 2),
            .msg_id = sqlite3_column_int64(q, 3),
            .snippet = store_col(q, 4) ? store_col(q, 4) : "",
            .rank = sqlite3_column_double(q, 5),
            .active = 1,
        };
        if (h.msg_id > 0 && (h.active = store_tree_on_path(s, h.msg_id)) < 0) {
            r = h.active;
            break;
        }
        if ((r = fn(&h, ud)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_sql_err(s, "search");
    store_stmt_done(s, q);
    return r;
}

int store_search_json(store *s, const char *query, int limit, char **out) {
    *out = NULL;
    sqlite3_stmt *q;
    int r = search_bind(s, ST_SEARCH_JSON, query, limit, &q);
    return r ? r : store_json_result(s, q, out, "search");
}
