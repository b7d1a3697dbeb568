/* src/store_msg.c — messages as a tree (store.h "messages" and "the tree"): the active path and
 * every message read through a callback, adding a message, siblings, switching the path,
 * deleting a branch, pins. Main thread; errors as store.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "store_impl.h"

/* A message row (m) for struct store_msg, with its place among its siblings (the messages of
 * the same parent, oldest first). */
#define MSG_COLS                                                                              \
    "m.id, m.parent, m.role, m.content, m.created, m.model, m.finish, m.tokens, "             \
    "m.prompt_tps, m.gen_tps, m.reasoning_content, m.pinned, "                                \
    "(SELECT count(*) FROM messages s WHERE s.conv = m.conv AND s.parent IS m.parent), "      \
    "(SELECT count(*) FROM messages s WHERE s.conv = m.conv AND s.parent IS m.parent "        \
    "AND s.id <= m.id), "                                                                     \
    "(SELECT count(*) FROM messages s WHERE s.conv = m.conv AND s.id <= m.id)"

static const char *const sql[ST_COUNT] = {
    /* the active path, root first: from the leaf up the parent links */
    [ST_MSG_EACH] = "WITH RECURSIVE up(id, d) AS (SELECT " LEAF_OF_C ", 0 FROM conversations c "
                    "WHERE c.n = ?1 UNION ALL SELECT p.parent, up.d + 1 FROM messages p "
                    "JOIN up ON p.id = up.id WHERE p.parent IS NOT NULL) "
                    "SELECT " MSG_COLS ", max(up.d) OVER () - up.d, 1 FROM up "
                    "JOIN messages m ON m.id = up.id "
                    "ORDER BY up.d DESC",
    [ST_MSG_LAST] = "SELECT " LEAF_OF_C " FROM conversations c WHERE c.n = ?1",
    [ST_MSG_INSERT] = "INSERT INTO messages(conv, parent, role, content, created, model, "
                      "reasoning_content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* every message, depth first (a priority queue on depth: DESC walks down first), siblings
     * oldest first; the last column says whether it is on the active path */
    [ST_TREE_EACH] = "WITH RECURSIVE up(id) AS (SELECT " LEAF_OF_C " FROM conversations c "
                     "WHERE c.n = ?1 UNION ALL SELECT p.parent FROM messages p JOIN up ON "
                     "p.id = up.id WHERE p.parent IS NOT NULL), "
                     "t AS (SELECT r.*, 0 AS d FROM messages r WHERE r.conv = ?1 AND r.parent "
                     "IS NULL UNION ALL SELECT k.*, t.d + 1 FROM messages k JOIN t ON "
                     "k.parent = t.id ORDER BY d DESC, id) "
                     /* the rows carried whole: a join would lose the queue's order */
                     "SELECT " MSG_COLS ", m.d, m.id IN (SELECT id FROM up) FROM t m",
    [ST_TREE_CONV_OF] = "SELECT conv, parent FROM messages WHERE id = ?1",
    [ST_TREE_SET_LEAF] = "UPDATE conversations SET leaf = ?2 WHERE n = ?1",
    /* every message above ?1 remembers the child the path to ?1 goes through */
    [ST_TREE_CHOOSE] = "WITH RECURSIVE " CHOSEN_UP("SELECT parent, id FROM messages WHERE id = ?1")
                       " " CHOSEN_SET,
    /* the same when ?1's parent is on the active path already: only the parent changes */
    [ST_TREE_CHOOSE_LAST] = "UPDATE messages SET chosen = ?1 WHERE id = "
                            "(SELECT parent FROM messages WHERE id = ?1)",
    /* the leaf under message ?1: down the chosen child at each step while it is still one of
     * its children, else the newest */
    [ST_TREE_ACTIVATE] = "WITH RECURSIVE down(id, d) AS (SELECT ?1, 0 UNION ALL SELECT "
                         "coalesce((SELECT k.id FROM messages p JOIN messages k ON "
                         "k.id = p.chosen AND k.parent = p.id WHERE p.id = down.id), "
                         "(SELECT max(k.id) FROM messages k WHERE k.parent = down.id)), d + 1 "
                         "FROM down WHERE down.id IS NOT NULL) "
                         "SELECT id FROM down WHERE id IS NOT NULL ORDER BY d DESC LIMIT 1",
    [ST_TREE_SIBLINGS] = "SELECT s.id FROM messages s, messages m WHERE m.id = ?1 AND "
                         "s.conv = m.conv AND s.parent IS m.parent ORDER BY s.id",
    /* is message ?2 in the subtree of ?1? */
    [ST_TREE_IN_SUB] = "WITH RECURSIVE up(id) AS (SELECT ?2 UNION ALL SELECT p.parent FROM "
                       "messages p JOIN up ON p.id = up.id WHERE p.parent IS NOT NULL) "
                       "SELECT count(*) FROM up WHERE id = ?1",
    [ST_TREE_DELETE] = "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL SELECT k.id FROM "
                       "messages k JOIN sub ON k.parent = sub.id) "
                       "DELETE FROM messages WHERE id IN (SELECT id FROM sub)",
    [ST_TREE_PIN] = "UPDATE messages SET pinned = ?2 WHERE id = ?1 AND conv = "
                    "(SELECT n FROM conversations WHERE id = ?3)",
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

/* Steps q (bound) for one integer: its first column into *v when there is a row (left as it
 * is when there is none); 0 or SQLite's error. q is reset. */
static int row_i64(store *s, sqlite3_stmt *q, int64_t *v, const char *what) {
    int rc = store_step(s, q);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(q, 0);
    int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_err(s, what);
    store_stmt_done(s, q);
    return r;
}

/* The last message of conversation n's active path into *last (0: it has none). */
static int msg_last(store *s, int64_t n, int64_t *last) {
    sqlite3_stmt *q = stmt(s, ST_MSG_LAST);
    *last = 0;
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, n);
    return row_i64(s, q, last, "find the last message");
}

/* Walks a query of MSG_COLS plus depth and active (bound to conversation n) through fn. */
static int msg_rows_each(store *s, enum stmt_id which, const char *id,
                         int (*fn)(const struct store_msg *m, void *ud), void *ud) {
    int64_t n;
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    int r = store_conv_n(s, id, &n);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, which);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, n);
    int rc;
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
        struct store_msg m = {
            .id = sqlite3_column_int64(q, 0),
            .parent = sqlite3_column_int64(q, 1),
            .role = store_col(q, 2),
            .content = store_col(q, 3),
            .created = store_col(q, 4),
            .model = store_col(q, 5),
            .finish = store_col(q, 6),
            .n_tokens = sqlite3_column_type(q, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 7),
            .prompt_tps = sqlite3_column_type(q, 8) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 8),
            .gen_tps = sqlite3_column_type(q, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 9),
            .reasoning = store_col(q, 10),
            .pinned = sqlite3_column_int(q, 11),
            .n_sibs = sqlite3_column_int(q, 12),
            .sib = sqlite3_column_int(q, 13),
            .num = sqlite3_column_int(q, 14),
            .depth = sqlite3_column_int(q, 15),
            .active = sqlite3_column_int(q, 16),
        };
        if (!m.content)
            m.content = "";
        /* the texts' lengths, NUL bytes included (after column_text, as SQLite asks) */
        m.content_len = (size_t)sqlite3_column_bytes(q, 3);
        m.reasoning_len = m.reasoning ? (size_t)sqlite3_column_bytes(q, 10) : 0;
        if ((r = fn(&m, ud)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_sql_err(s, "read messages");
    store_stmt_done(s, q);
    return r;
}

int store_msg_each(store *s, const char *id, int (*fn)(const struct store_msg *m, void *ud),
                   void *ud) {
    return msg_rows_each(s, ST_MSG_EACH, id, fn, ud);
}

int store_msg_tree(store *s, const char *id, int (*fn)(const struct store_msg *m, void *ud),
                   void *ud) {
    return msg_rows_each(s, ST_TREE_EACH, id, fn, ud);
}

int store_role_ok(const char *role) {
    return role && (!strcmp(role, "system") || !strcmp(role, "user") ||
                    !strcmp(role, "assistant") || !strcmp(role, "tool"));
}

/* Checks that message msg belongs to conversation n; its parent (0: a root) into *parent. */
static int tree_msg_check(store *s, int64_t n, int64_t msg, int64_t *parent) {
    sqlite3_stmt *q = stmt(s, ST_TREE_CONV_OF);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, msg);
    int rc = store_step(s, q);
    int found = rc == SQLITE_ROW && sqlite3_column_int64(q, 0) == n;
    if (found && parent)
        *parent = sqlite3_column_int64(q, 1);
    store_stmt_done(s, q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_sql_err(s, "find message");
    if (!found) {
        store_set_err(s, "no message %lld in this conversation", (long long)msg);
        return STORE_E_NOTFOUND;
    }
    return 0;
}

/* Makes leaf the end of conversation n's active path (0: none, the newest message) and every
 * message above it remember the child the path goes through; when parent_on_path says leaf's
 * parent is on the active path already, only the parent changes (an appended message: no walk
 * up a long conversation). */
int store_tree_set_leaf(store *s, int64_t n, int64_t leaf, int parent_on_path) {
    sqlite3_stmt *q = stmt(s, ST_TREE_SET_LEAF);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, n);
    if (leaf > 0)
        store_bind_int64(s, q, 2, leaf);
    else
        store_bind_null(s, q, 2);
    int r = store_exec(s, q, "set the active path");
    if (r == 0 && leaf <= 0) { /* the newest message ends it: its path is the one chosen */
        if ((r = msg_last(s, n, &leaf)) != 0)
            return r;
        parent_on_path = 0;
    }
    if (r || leaf <= 0)
        return r;
    if (!(q = stmt(s, parent_on_path ? ST_TREE_CHOOSE_LAST : ST_TREE_CHOOSE)))
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, leaf);
    return store_exec(s, q, "set the active path");
}

/* Conversation id's key and a check that msg is one of its messages (parent may be NULL). */
static int tree_find(store *s, const char *id, int64_t msg, int64_t *n, int64_t *parent) {
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    int r = store_conv_n(s, id, n);
    return r ? r : tree_msg_check(s, *n, msg, parent);
}

/* The active path goes through msg (of conversation n) and on below it through the children
 * chosen last. */
static int tree_activate(store *s, int64_t n, int64_t msg) {
    sqlite3_stmt *q = stmt(s, ST_TREE_ACTIVATE);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, msg);
    int rc = store_step(s, q);
    int64_t leaf = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : msg;
    store_stmt_done(s, q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_sql_err(s, "find the active path");
    return store_tree_set_leaf(s, n, leaf, 0);
}

/* 1 when message msg is on its conversation's active path (an ancestor of the leaf). */
int store_tree_on_path(store *s, int64_t msg) {
    int64_t n = 0, leaf = 0, on = 0;
    sqlite3_stmt *q = stmt(s, ST_TREE_CONV_OF);
    int r = q ? 0 : STORE_E_SQL;
    if (r == 0) {
        store_bind_int64(s, q, 1, msg);
        r = row_i64(s, q, &n, "find message");
    }
    if (r == 0)
        r = msg_last(s, n, &leaf);
    if (r == 0 && (q = stmt(s, ST_TREE_IN_SUB)) == NULL)
        r = STORE_E_SQL;
    if (r == 0) {
        store_bind_int64(s, q, 1, msg);
        store_bind_int64(s, q, 2, leaf);
        r = row_i64(s, q, &on, "find the active path");
    }
    return r ? r : on > 0;
}

int store_msg_activate(store *s, const char *id, int64_t msg) {
    int64_t n;
    int r = tree_find(s, id, msg, &n, NULL);
    if (r || (r = store_tx_begin(s)) != 0)
        return r;
    if ((r = tree_activate(s, n, msg)) == 0 && (r = store_tx_commit(s)) == 0)
        return 0;
    store_tx_rollback(s);
    return r;
}

int store_msg_sibling(store *s, const char *id, int64_t msg, int delta, int64_t *out) {
    int64_t n;
    int r = tree_find(s, id, msg, &n, NULL);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, ST_TREE_SIBLINGS);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, msg);
    /* the siblings in order; the one delta places from msg, clamped to the ends */
    int64_t *ids = NULL;
    int n_ids = 0, cap = 0, at = 0, rc;
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
        if (n_ids == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *g = realloc(ids, (size_t)cap * sizeof *g);
            if (!g) {
                rc = SQLITE_NOMEM;
                break;
            }
            ids = g;
        }
        ids[n_ids] = sqlite3_column_int64(q, 0);
        if (ids[n_ids] == msg)
            at = n_ids;
        n_ids++;
    }
    store_stmt_done(s, q);
    if (rc == SQLITE_DONE) {
        long k = (long)at + delta;
        *out = n_ids == 0 ? msg : ids[k < 0 ? 0 : k >= n_ids ? n_ids - 1 : k];
    }
    free(ids);
    if (rc == SQLITE_NOMEM) {
        store_set_err(s, "out of memory");
        return STORE_E_NOMEM;
    }
    return rc == SQLITE_DONE ? 0 : store_sql_err(s, "find siblings");
}

int store_msg_delete(store *s, const char *id, int64_t msg) {
    int64_t n, parent = 0;
    int r = tree_find(s, id, msg, &n, &parent);
    if (r)
        return r;
    if ((r = store_tx_begin(s)) != 0)
        return r;
    /* does the active path, or the reply being saved, go through it? */
    int64_t hits[2] = {0, s->reply.msg_id};
    sqlite3_stmt *q;
    if ((r = msg_last(s, n, &hits[0])) != 0)
        goto fail;
    int64_t in_sub[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (hits[k] <= 0)
            continue;
        if (!(q = stmt(s, ST_TREE_IN_SUB))) {
            r = STORE_E_SQL;
            goto fail;
        }
        store_bind_int64(s, q, 1, msg);
        store_bind_int64(s, q, 2, hits[k]);
        if ((r = row_i64(s, q, &in_sub[k], "delete messages")) != 0)
            goto fail;
    }
    if (!(q = stmt(s, ST_TREE_DELETE))) {
        r = STORE_E_SQL;
        goto fail;
    }
    store_bind_int64(s, q, 1, msg);
    if ((r = store_exec(s, q, "delete messages")) != 0)
        goto fail;
    int count = sqlite3_changes(s->db);
    if (in_sub[0])
        r = parent > 0 ? tree_activate(s, n, parent) : store_tree_set_leaf(s, n, 0, 0);
    if (r == 0)
        r = store_tx_commit(s);
    if (r)
        goto fail;
    if (in_sub[1])
        s->reply.msg_id = 0; /* its reply went with it */
    return count;
fail:
    store_tx_rollback(s);
    return r;
}

int store_msg_set_pinned(store *s, const char *id, int64_t msg, int pinned) {
    int64_t n;
    int r = tree_find(s, id, msg, &n, NULL);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, ST_TREE_PIN);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, msg);
    store_bind_int(s, q, 2, pinned != 0);
    store_bind_text(s, q, 3, id);
    return store_exec(s, q, "pin message");
}

/* Inserts one message into conversation n inside the caller's transaction; sets the default
 * title on the first user message. */
int64_t store_msg_insert(store *s, int64_t n, const char *role, const char *content,
                          size_t content_len, const char *reasoning, size_t reasoning_len,
                          int64_t parent, const char *model) {
    char now[32];
    store_now_iso(now, sizeof now);
    int after_leaf = parent == 0; /* under the active path's last message */
    if (parent > 0) {
        int r = tree_msg_check(s, n, parent, NULL);
        if (r)
            return r;
    } else if (parent == 0) {
        int r = msg_last(s, n, &parent);
        if (r)
            return r;
    }
    sqlite3_stmt *q = stmt(s, ST_MSG_INSERT);
    if (!q)
        return STORE_E_SQL;
    store_bind_int64(s, q, 1, n);
    if (parent > 0)
        store_bind_int64(s, q, 2, parent);
    else
        store_bind_null(s, q, 2);
    store_bind_text(s, q, 3, role);
    store_bind_text_len(s, q, 4, content, content_len);
    store_bind_text(s, q, 5, now);
    store_bind_text(s, q, 6, model);
    if (reasoning)
        store_bind_text_len(s, q, 7, reasoning, reasoning_len);
    else
        store_bind_null(s, q, 7);
    int r = store_exec(s, q, "add message");
    if (r)
        return r;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if ((r = store_tree_set_leaf(s, n, id, after_leaf)) != 0)
        return r;
    if (!strcmp(role, "user") && (r = store_conv_autotitle(s, n, content, content_len)) != 0)
        return r;
    return id;
}

int64_t store_msg_add(store *s, const char *id, const char *role, const char *content,
                      int64_t parent) {
    return store_msg_add_len(s, id, role, content, content ? strlen(content) : 0, NULL, 0,
                             parent);
}

int64_t store_msg_add_reasoning(store *s, const char *id, const char *role, const char *content,
                                const char *reasoning, int64_t parent) {
    return store_msg_add_len(s, id, role, content, content ? strlen(content) : 0, reasoning,
                             reasoning ? strlen(reasoning) : 0, parent);
}

int64_t store_msg_add_len(store *s, const char *id, const char *role, const char *content,
                          size_t content_len, const char *reasoning, size_t reasoning_len,
                          int64_t parent) {
    if (!store_role_ok(role) || !content) {
        store_set_err(s, "invalid message role '%s'", role ? role : "(null)");
        return STORE_E_INVALID;
    }
    if (content_len > 0x3fffffff || reasoning_len > 0x3fffffff) {
        store_set_err(s, "message too long");
        return STORE_E_INVALID;
    }
    int fr = store_reply_flush(s); /* a failed write keeps the reply's text to retry */
    if (fr)
        return fr;
    int64_t n;
    int r = store_tx_begin_conv(s, id, &n);
    if (r)
        return r;
    int64_t m = store_msg_insert(s, n, role, content, content_len, reasoning, reasoning_len, parent,
                           NULL);
    if (m > 0 && (r = store_tx_commit(s)) != 0)
        m = r;
    if (m < 0)
        store_tx_rollback(s);
    return m;
}
