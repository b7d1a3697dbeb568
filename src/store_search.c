/* src/store_search.c — search (store.h "search"). Words of spaced scripts go through the
 * FTS5 table the schema keeps in step with messages and titles, each word as a prefix
 * ("pira" finds "pirate"), diacritics and case folded, ranked by bm25. A query with a word of
 * a script written without spaces (CJK: "日本" in "日本語", where FTS5's unicode61 sees one
 * token per run and trigram needs 3 characters) is a substring scan of the texts instead
 * (natter_search_count / natter_search_snippet below; ASCII case folded), ranked by the
 * count of matches. Main thread; errors as store.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* The hits h(r, snip, rk) of a query, as rows for struct store_hit: r is the search rowid
 * (message id * 2, conversation n * 2 + 1). */
#define SEARCH_JOIN(hits)                                                                     \
    "SELECT c.id AS id, c.title AS title, m.role AS role, m.id AS mid, h.snip AS snip, "      \
    "h.rk AS rk FROM (" hits ") h "                                                           \
    "LEFT JOIN messages m ON m.id = CASE WHEN h.r % 2 = 0 THEN h.r / 2 END "                  \
    "JOIN conversations c ON c.n = coalesce(m.conv, (h.r - 1) / 2) ORDER BY h.rk"
#define SEARCH_FTS                                                                            \
    SEARCH_JOIN("SELECT rowid AS r, snippet(search, 0, '[', ']', '…', 12) AS snip, "          \
                "rank AS rk FROM search WHERE search MATCH ?1 ORDER BY rank LIMIT ?2")
#define SEARCH_SCAN                                                                           \
    SEARCH_JOIN("SELECT r, natter_search_snippet(t, ?1) AS snip, -n AS rk FROM ("            \
                "SELECT id * 2 AS r, content AS t, natter_search_count(content, ?1) AS n "    \
                "FROM messages UNION ALL SELECT n * 2 + 1, title, "                          \
                "natter_search_count(title, ?1) FROM conversations) WHERE n > 0 "             \
                "ORDER BY -n, r LIMIT ?2")
/* a NUL byte in a snippet is shown as U+2400 (hits are C strings; JSON keeps \u0000) */
#define HIT_ROWS(q) "SELECT id, title, role, mid, replace(snip, char(0), '␀'), rk FROM (" q ")"
#define HIT_JSON(q)                                                                           \
    "SELECT json_group_array(json_object('id', id, 'title', title, 'role', role, 'message', " \
    "mid, 'snippet', snip, 'rank', rk)) FROM (" q ")"

static const char *const sql[ST_COUNT] = {
    [ST_SEARCH] = HIT_ROWS(SEARCH_FTS),
    [ST_SEARCH_JSON] = HIT_JSON(SEARCH_FTS),
    [ST_SEARCH_SCAN] = HIT_ROWS(SEARCH_SCAN),
    [ST_SEARCH_SCAN_JSON] = HIT_JSON(SEARCH_SCAN),
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The next whitespace-separated word of *p (its length into *n), NULL at the end. */
static const char *next_word(const char **p, size_t *n) {
    const char *w = *p;
    while (is_space(*w))
        w++;
    if (!*w)
        return NULL;
    const char *e = w;
    while (*e && !is_space(*e))
        e++;
    *n = (size_t)(e - w);
    *p = e;
    return w;
}

/* 1 when the n bytes at w hold a character of a script written without spaces between words
 * (CJK radicals onwards to Hangul, U+2E80..U+D7FF, and the compatibility ideographs and forms
 * U+F900..U+FAFF, U+FE30..U+FE4F, U+FF00..U+FFEF, U+20000 and up). */
static int word_unspaced(const char *w, size_t n) {
    const unsigned char *u = (const unsigned char *)w;
    for (size_t i = 0; i < n; i++) {
        unsigned cp;
        if (u[i] >= 0xf0 && i + 3 < n) {
            cp = (unsigned)(u[i] & 7) << 18 | (unsigned)(u[i + 1] & 63) << 12 |
                 (unsigned)(u[i + 2] & 63) << 6 | (u[i + 3] & 63);
        } else if (u[i] >= 0xe0 && u[i] < 0xf0 && i + 2 < n) {
            cp = (unsigned)(u[i] & 15) << 12 | (unsigned)(u[i + 1] & 63) << 6 | (u[i + 2] & 63);
        } else {
            continue;
        }
        if ((cp >= 0x2e80 && cp <= 0xd7ff) || (cp >= 0xf900 && cp <= 0xfaff) ||
            (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xffef) || cp >= 0x20000)
            return 1;
    }
    return 0;
}

/* Turns the user's words into an FTS5 query: each word a quoted phrase matched as a prefix
 * (a trailing * the user typed means the same), all required; *unspaced says whether a word is
 * of a script written without spaces (the query then goes to the scan). Caller frees. */
static char *search_query(const char *in, int *unspaced) {
    size_t n = strlen(in), wl;
    char *out = malloc(3 * n + 4), *o = out;
    if (!out)
        return NULL;
    *unspaced = 0;
    const char *p = in, *w;
    while ((w = next_word(&p, &wl)) != NULL) {
        *unspaced |= word_unspaced(w, wl);
        if (wl > 1 && w[wl - 1] == '*')
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
        *o++ = '*';
    }
    *o = 0;
    return out;
}

/* ---- the substring scan ---- */

static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* The first place at or after `from` where the n bytes of w occur in t (ASCII case folded). */
static const char *find_folded(const char *t, size_t tn, size_t from, const char *w, size_t n) {
    for (size_t i = from; n && i + n <= tn; i++) {
        size_t k = 0;
        while (k < n && fold((unsigned char)t[i + k]) == fold((unsigned char)w[k]))
            k++;
        if (k == n)
            return t + i;
    }
    return NULL;
}

/* The count of matches of the query's words in the text (0 unless every word occurs). */
static long scan_count(const char *t, size_t tn, const char *query) {
    const char *p = query, *w;
    size_t wl;
    long total = 0;
    while ((w = next_word(&p, &wl)) != NULL) {
        if (wl > 1 && w[wl - 1] == '*')
            wl--;
        long c = 0;
        for (const char *at = find_folded(t, tn, 0, w, wl); at;
             at = find_folded(t, tn, (size_t)(at - t) + wl, w, wl))
            c++;
        if (!c)
            return 0;
        total += c;
    }
    return total;
}

static void sql_search_count(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    const char *q = (const char *)sqlite3_value_text(argv[1]);
    sqlite3_result_int64(ctx, t && q ? scan_count(t, (size_t)sqlite3_value_bytes(argv[0]), q)
                                     : 0);
}

#define SNIP_CONTEXT 40 /* bytes of context on each side, moved to a character boundary */

/* The first match of the first word in its context, the match between [ and ]. */
static void sql_search_snippet(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    const char *q = (const char *)sqlite3_value_text(argv[1]);
    size_t tn = t ? (size_t)sqlite3_value_bytes(argv[0]) : 0, wl = 0;
    const char *p = q ? q : "", *w = next_word(&p, &wl);
    if (w && wl > 1 && w[wl - 1] == '*')
        wl--;
    const char *at = t && w ? find_folded(t, tn, 0, w, wl) : NULL;
    if (!at) {
        sqlite3_result_null(ctx);
        return;
    }
    size_t m = (size_t)(at - t), a = m > SNIP_CONTEXT ? m - SNIP_CONTEXT : 0;
    size_t b = m + wl + SNIP_CONTEXT < tn ? m + wl + SNIP_CONTEXT : tn;
    while (a > 0 && ((unsigned char)t[a] & 0xc0) == 0x80)
        a--;
    while (b < tn && ((unsigned char)t[b] & 0xc0) == 0x80)
        b++;
    char *out = sqlite3_malloc64((sqlite3_uint64)(b - a) + 16);
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    size_t o = 0;
    if (a > 0)
        memcpy(out + o, "…", 3), o += 3;
    memcpy(out + o, t + a, m - a), o += m - a;
    out[o++] = '[';
    memcpy(out + o, at, wl), o += wl;
    out[o++] = ']';
    memcpy(out + o, at + wl, b - m - wl), o += b - m - wl;
    if (b < tn)
        memcpy(out + o, "…", 3), o += 3;
    sqlite3_result_text64(ctx, out, (sqlite3_uint64)o, sqlite3_free, SQLITE_UTF8);
}

int store_search_register(sqlite3 *db) {
    int rc = sqlite3_create_function(db, "natter_search_count", 2,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_search_count,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "natter_search_snippet", 2,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                     sql_search_snippet, NULL, NULL);
    return rc;
}

/* The search statement bound to the query into *out; 0 or an error. */
static int search_bind(store *s, enum stmt_id which, const char *query, int limit,
                       sqlite3_stmt **out) {
    int r = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (r)
        return r;
    int unspaced;
    char *fts = search_query(query, &unspaced);
    if (!fts) {
        store_set_err(s, "out of memory");
        return STORE_E_NOMEM;
    }
    if (!*fts) {
        free(fts);
        store_set_err(s, "empty search");
        return STORE_E_INVALID;
    }
    if (unspaced)
        which = which == ST_SEARCH ? ST_SEARCH_SCAN : ST_SEARCH_SCAN_JSON;
    sqlite3_stmt *q = *out = stmt(s, which);
    if (q) {
        store_bind_text(s, q, 1, unspaced ? query : fts);
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
