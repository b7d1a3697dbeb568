/* src/store_merge.c — the migration of the copies an older natter made when a message was
 * edited (see store_merge.h): each becomes a sibling branch of its original. Called by the
 * store's migration, inside its write transaction, on the main thread. */
#include <stdlib.h>
#include <string.h>

#include "store_merge.h"

enum {
    MQ_PAIRS, MQ_ROOT, MQ_NEXT, MQ_MATCH, MQ_ORIGINAL, MQ_FIX_LEAF, MQ_MOVE, MQ_REPARENT,
    MQ_DELETE, MQ_ADOPT, MQ_DROP, MQ_EXISTS, MQ_COUNT
};

static const char *const mq_sql[MQ_COUNT] = {
    /* a copy (b) and the earlier conversations it may copy (a): same title and system prompt */
    [MQ_PAIRS] = "SELECT b.n, a.n FROM conversations b JOIN conversations a ON "
                 "a.title = b.title AND a.title <> '' AND a.n <> b.n AND a.created < b.created "
                 "AND a.system_prompt IS b.system_prompt ORDER BY b.created, b.n, a.created, a.n",
    /* the copy's first message, and the oldest child of one of its messages */
    [MQ_ROOT] = "SELECT id, role FROM messages WHERE conv = ?1 AND parent IS NULL "
                "ORDER BY id LIMIT 1",
    [MQ_NEXT] = "SELECT id, role FROM messages WHERE parent = ?1 ORDER BY id LIMIT 1",
    /* the original's message under ?2 (NULL: a root) with the role and text of message ?3 */
    [MQ_MATCH] = "SELECT k.id FROM messages k, messages b WHERE b.id = ?3 AND k.conv = ?1 AND "
                 "k.parent IS ?2 AND k.role = b.role AND k.content = b.content "
                 "ORDER BY k.id LIMIT 1",
    /* a message the edit replaced: a user message under ?2 written before the copy */
    [MQ_ORIGINAL] = "SELECT count(*) FROM messages m, conversations b WHERE b.n = ?3 AND "
                    "m.conv = ?1 AND m.parent IS ?2 AND m.role = 'user' AND m.created <= "
                    "b.created",
    /* the original's active path written down (its newest message is about to change) */
    [MQ_FIX_LEAF] = "UPDATE conversations SET leaf = (SELECT max(id) FROM messages WHERE conv "
                    "= ?1) WHERE n = ?1 AND (leaf IS NULL OR leaf NOT IN (SELECT id FROM "
                    "messages WHERE conv = ?1))",
    [MQ_MOVE] = "UPDATE messages SET conv = ?2 WHERE conv = ?1",
    [MQ_REPARENT] = "UPDATE messages SET parent = ?2 WHERE parent = ?1",
    [MQ_DELETE] = "DELETE FROM messages WHERE id = ?1",
    /* the original takes the copy's pin, and its active path (when it is not one of the
     * duplicates) when the copy was used later */
    [MQ_ADOPT] = "UPDATE conversations SET pinned = max(pinned, (SELECT pinned FROM "
                 "conversations WHERE n = ?1)), leaf = CASE WHEN (SELECT updated FROM "
                 "conversations WHERE n = ?1) > updated THEN coalesce((SELECT l.id FROM "
                 "conversations b JOIN messages l ON l.id = b.leaf AND l.conv = ?2 WHERE "
                 "b.n = ?1), leaf) ELSE leaf END, "
                 "updated = max(updated, (SELECT updated FROM conversations WHERE n = ?1)) "
                 "WHERE n = ?2",
    [MQ_DROP] = "DELETE FROM conversations WHERE n = ?1",
    [MQ_EXISTS] = "SELECT count(*) FROM conversations WHERE n = ?1 OR n = ?2",
};

struct merge {
    sqlite3 *db;
    sqlite3_stmt *q[MQ_COUNT];
    int64_t *pairs; /* matched messages: copy's, original's, copy's, original's... */
    int n_pairs, cap;
    int bind_rc; /* a failed bind: the next mq_row fails */
};

static void mb_int64(struct merge *m, sqlite3_stmt *q, int i, int64_t v) {
    int rc = sqlite3_bind_int64(q, i, v);
    if (rc != SQLITE_OK && !m->bind_rc)
        m->bind_rc = rc;
}

static void mb_null(struct merge *m, sqlite3_stmt *q, int i) {
    int rc = sqlite3_bind_null(q, i);
    if (rc != SQLITE_OK && !m->bind_rc)
        m->bind_rc = rc;
}

/* Steps q (bound by the caller) to its first row: 1 with a row, 0 with none, -1 on error. The
 * caller resets q. */
static int mq_row(struct merge *m, int which) {
    if (m->bind_rc) {
        m->bind_rc = 0;
        return -1;
    }
    int rc = sqlite3_step(m->q[which]);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int mq_run(struct merge *m, int which, int64_t a, int64_t b) {
    sqlite3_stmt *q = m->q[which];
    mb_int64(m, q, 1, a);
    if (sqlite3_bind_parameter_count(q) >= 2)
        mb_int64(m, q, 2, b);
    int r = mq_row(m, which);
    sqlite3_reset(q);
    return r < 0 ? -1 : 0;
}

static int pair_push(struct merge *m, int64_t b, int64_t a) {
    if (m->n_pairs == m->cap) {
        int cap = m->cap ? 2 * m->cap : 32;
        int64_t *p = realloc(m->pairs, (size_t)cap * 2 * sizeof *p);
        if (!p)
            return -1;
        m->pairs = p;
        m->cap = cap;
    }
    m->pairs[2 * m->n_pairs] = b;
    m->pairs[2 * m->n_pairs + 1] = a;
    m->n_pairs++;
    return 0;
}

/* Walks copy b and original a down together while the copy's oldest child has the role and
 * text of one of the original's children. 1 when at least one message matched and the next
 * one is a user message where the original has an earlier one (the edit), 0 when not a copy,
 * -1 on error. */
static int merge_match(struct merge *m, int64_t b, int64_t a, int64_t *edit) {
    m->n_pairs = 0;
    sqlite3_stmt *q = m->q[MQ_ROOT];
    mb_int64(m, q, 1, b);
    int r = mq_row(m, MQ_ROOT);
    int64_t cur = r > 0 ? sqlite3_column_int64(q, 0) : 0, at = 0; /* at: original's, 0 root */
    int user = r > 0 && !strcmp((const char *)sqlite3_column_text(q, 1), "user");
    sqlite3_reset(q);
    while (r > 0) {
        q = m->q[MQ_MATCH];
        mb_int64(m, q, 1, a);
        if (at)
            mb_int64(m, q, 2, at);
        else
            mb_null(m, q, 2);
        mb_int64(m, q, 3, cur);
        r = mq_row(m, MQ_MATCH);
        int64_t match = r > 0 ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_clear_bindings(q);
        sqlite3_reset(q);
        if (r <= 0)
            break;
        if (pair_push(m, cur, match))
            return -1;
        at = match;
        q = m->q[MQ_NEXT];
        mb_int64(m, q, 1, cur);
        r = mq_row(m, MQ_NEXT);
        cur = r > 0 ? sqlite3_column_int64(q, 0) : 0;
        user = r > 0 && !strcmp((const char *)sqlite3_column_text(q, 1), "user");
        sqlite3_reset(q);
    }
    if (r < 0)
        return -1;
    if (m->n_pairs == 0 || !cur || !user)
        return 0; /* nothing shared, or nothing after it (a plain copy), or not an edit */
    q = m->q[MQ_ORIGINAL];
    mb_int64(m, q, 1, a);
    mb_int64(m, q, 2, at);
    mb_int64(m, q, 3, b);
    r = mq_row(m, MQ_ORIGINAL);
    int found = r > 0 && sqlite3_column_int64(q, 0) > 0;
    sqlite3_reset(q);
    *edit = cur;
    return r < 0 ? -1 : found;
}

/* Moves copy b into original a: what follows the shared messages hangs under the original's,
 * the copy's own duplicates and the copy go. */
static int merge_one(struct merge *m, int64_t b, int64_t a) {
    if (mq_run(m, MQ_FIX_LEAF, a, 0) || mq_run(m, MQ_FIX_LEAF, b, 0) ||
        mq_run(m, MQ_MOVE, b, a))
        return -1;
    for (int i = 0; i < m->n_pairs; i++)
        if (mq_run(m, MQ_REPARENT, m->pairs[2 * i], m->pairs[2 * i + 1]))
            return -1;
    for (int i = 0; i < m->n_pairs; i++)
        if (mq_run(m, MQ_DELETE, m->pairs[2 * i], 0))
            return -1;
    return mq_run(m, MQ_ADOPT, b, a) || mq_run(m, MQ_DROP, b, 0) ? -1 : 0;
}

int store_merge_edit_copies(sqlite3 *db, int *n_merged) {
    struct merge m = {.db = db};
    int64_t *cand = NULL;
    int n_cand = 0, cap = 0, r = 0;
    *n_merged = 0;
    for (int i = 0; i < MQ_COUNT && r == 0; i++)
        if (sqlite3_prepare_v2(db, mq_sql[i], -1, &m.q[i], NULL) != SQLITE_OK)
            r = -1;
    /* the candidate pairs first: merging deletes conversations under the query */
    while (r == 0 && (r = mq_row(&m, MQ_PAIRS)) > 0) {
        if (n_cand == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *g = realloc(cand, (size_t)cap * 2 * sizeof *g);
            if (!g) {
                r = -1;
                break;
            }
            cand = g;
        }
        cand[2 * n_cand] = sqlite3_column_int64(m.q[MQ_PAIRS], 0);
        cand[2 * n_cand + 1] = sqlite3_column_int64(m.q[MQ_PAIRS], 1);
        n_cand++;
        r = 0;
    }
    /* oldest copies first, each into the oldest original it copies (a copy of a copy then
     * finds its branch in the original) */
    for (int i = 0; r == 0 && i < n_cand; i++) {
        int64_t b = cand[2 * i], a = cand[2 * i + 1], edit = 0;
        sqlite3_stmt *q = m.q[MQ_EXISTS];
        mb_int64(&m, q, 1, b);
        mb_int64(&m, q, 2, a);
        int both = mq_row(&m, MQ_EXISTS) > 0 && sqlite3_column_int64(q, 0) == 2;
        sqlite3_reset(q);
        if (!both)
            continue;
        int match = merge_match(&m, b, a, &edit);
        if (match < 0 || (match > 0 && merge_one(&m, b, a)))
            r = -1;
        else
            *n_merged += match;
    }
    free(cand);
    free(m.pairs);
    for (int i = 0; i < MQ_COUNT; i++)
        sqlite3_finalize(m.q[i]);
    return r < 0 ? -1 : 0;
}
