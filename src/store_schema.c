/* src/store_schema.c — the store's schema: the header check before SQLite touches a file and
 * the forward migrations (PRAGMA user_version), run inside one write transaction at open.
 * Main thread; errors as store.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_merge.h"

#include "store_impl.h"

/* ---- schema: migrations[i] brings user_version i to i + 1 ---- */

static const char *const migrations[] = {
    /* 0 -> 1: the first schema. Conversations carry a short random text id for people and an
     * integer key for joins; search rowids are message id * 2 and conversation n * 2 + 1. */
    "CREATE TABLE conversations("
    "  n INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  title_set INTEGER NOT NULL DEFAULT 0,"
    "  created TEXT NOT NULL,"
    "  updated TEXT NOT NULL,"
    "  model TEXT,"
    "  template TEXT,"
    "  system_prompt TEXT,"
    "  sampling TEXT CHECK (sampling IS NULL OR json_valid(sampling)),"
    "  pinned INTEGER NOT NULL DEFAULT 0,"
    "  archived INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX conversations_updated ON conversations(updated);"
    "CREATE TABLE messages("
    "  id INTEGER PRIMARY KEY,"
    "  conv INTEGER NOT NULL REFERENCES conversations(n) ON DELETE CASCADE,"
    "  parent INTEGER REFERENCES messages(id) ON DELETE SET NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),"
    "  content TEXT NOT NULL DEFAULT '',"
    "  created TEXT NOT NULL,"
    "  tokens INTEGER,"
    "  model TEXT,"
    "  prompt_tps REAL,"
    "  gen_tps REAL,"
    "  finish TEXT);"
    "CREATE INDEX messages_conv ON messages(conv, id);"
    "CREATE INDEX messages_parent ON messages(parent);"
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE VIRTUAL TABLE search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
    "  INSERT INTO search(rowid, text) VALUES (new.id * 2, new.content);"
    "  UPDATE conversations SET updated = new.created WHERE n = new.conv; END;"
    "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
    "  DELETE FROM search WHERE rowid = old.id * 2; END;"
    "CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN"
    "  UPDATE search SET text = new.content WHERE rowid = new.id * 2; END;"
    "CREATE TRIGGER conversations_ai AFTER INSERT ON conversations BEGIN"
    "  INSERT INTO search(rowid, text) VALUES (new.n * 2 + 1, new.title); END;"
    "CREATE TRIGGER conversations_ad AFTER DELETE ON conversations BEGIN"
    "  DELETE FROM search WHERE rowid = old.n * 2 + 1; END;"
    "CREATE TRIGGER conversations_au AFTER UPDATE OF title ON conversations BEGIN"
    "  UPDATE search SET text = new.title WHERE rowid = new.n * 2 + 1; END;",
    /* 1 -> 2: a reply's reasoning (<think>..., harmony's analysis) apart from its content;
     * NULL when it had none. Not in the search index: search finds what a conversation shows
     * (reasoning is folded away, long and repetitive, and would swamp the ranking). */
    "ALTER TABLE messages ADD COLUMN reasoning_content TEXT;",
    /* 2 -> 3: a conversation is a tree of messages (parent links) with one active path, the
     * one ending at conversations.leaf (NULL or gone: the newest message); a pinned message is
     * never left out of the context. Older natters chained every message to the one before
     * it, so a regenerated reply (Ctrl-R) followed the reply it replaced: it becomes that
     * reply's sibling, an answer to the same message, and the newest (the one that stood)
     * stays active. A message without a parent but the first follows the one before it. */
    "ALTER TABLE conversations ADD COLUMN leaf INTEGER;"
    "ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;"
    "UPDATE messages SET parent = (SELECT max(p.id) FROM messages p WHERE p.conv = messages.conv"
    "  AND p.id < messages.id) WHERE parent IS NULL AND id > (SELECT min(f.id) FROM messages f"
    "  WHERE f.conv = messages.conv);"
    "UPDATE messages SET parent = (SELECT max(p.id) FROM messages p WHERE p.conv = messages.conv"
    "  AND p.id < messages.id AND p.role <> 'assistant') WHERE role = 'assistant' AND"
    "  (SELECT q.role FROM messages q WHERE q.id = messages.parent) = 'assistant';"
    "UPDATE conversations SET leaf = (SELECT max(m.id) FROM messages m WHERE m.conv ="
    "  conversations.n);",
    /* 3 -> 4 (after store_merge_edit_copies made the copies an edit left sibling branches):
     * every message remembers which of its children the active path went through
     * last (messages.chosen; NULL or no longer its child: the newest), so switching a version
     * higher up and back restores the whole path below it. The existing active paths are
     * written down as the first choices. */
    "ALTER TABLE messages ADD COLUMN chosen INTEGER;"
    "WITH RECURSIVE " CHOSEN_UP("SELECT m.parent, m.id FROM conversations c JOIN messages m ON "
                                "m.id = " LEAF_OF_C) " " CHOSEN_SET ";",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* Refuses a file that exists but is not an SQLite database, before SQLite may write to it. */
int store_schema_check_header(const char *path, int *exists, char *err, size_t err_len) {
    struct stat st;
    *exists = 0;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return STORE_E_IO;
    }
    *exists = 1;
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        return STORE_E_NOTDB;
    }
    if (st.st_size == 0)
        return 0; /* SQLite treats an empty file as an empty database */
    char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return STORE_E_IO;
    }
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n != (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0 ||
        st.st_size < 512) {
        snprintf(err, err_len, "%s: not an SQLite database (left untouched)", path);
        return STORE_E_NOTDB;
    }
    return 0;
}

/* Reads one integer from a query ("PRAGMA user_version"...). */
int store_schema_query_int(sqlite3 *db, const char *sql, int64_t *v) {
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(q, 0);
        rc = SQLITE_OK;
    }
    int frc = sqlite3_finalize(q); /* repeats a failed step's code */
    return rc == SQLITE_OK ? frc : rc;
}

/* Runs the forward migrations from the current user_version inside one write transaction
 * (another process may have migrated since we looked: the version is read again inside). */
int store_schema_migrate(store *s) {
    int r = store_tx_begin(s);
    if (r)
        return r;
    int64_t v = 0;
    if (store_schema_query_int(s->db, "PRAGMA user_version", &v) != SQLITE_OK) {
        r = store_sql_err(s, "read schema version");
        goto fail;
    }
    if (v > STORE_SCHEMA_VERSION) {
        store_set_err(s, "%s: written by a newer natter (schema %lld > %d); left untouched", s->path,
                (long long)v, STORE_SCHEMA_VERSION);
        r = STORE_E_NEWER;
        goto fail;
    }
    for (; v < STORE_SCHEMA_VERSION; v++) {
        int n_merged;
        if (v == 3 && store_merge_edit_copies(s->db, &n_merged) != 0) {
            r = store_sql_err(s, "merge the copies of edited conversations");
            goto fail;
        }
        if (sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            r = store_sql_err(s, "migrate schema");
            goto fail;
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", (long long)v + 1);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            r = store_sql_err(s, "set schema version");
            goto fail;
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APP_ID);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        r = store_sql_err(s, "set application id");
        goto fail;
    }
    return store_tx_commit(s);
fail:
    store_tx_rollback(s);
    return r;
}
