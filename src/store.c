/* src/store.c — saved conversations in SQLite (see store.h): opening with checks before any
 * write, forward migrations, prepared statements kept per connection, conversations, messages
 * as a tree with an active path (siblings, switching, deleting a branch, pins), streaming
 * replies batched in short transactions, FTS5 search, settings, JSON export/import
 * through SQLite's JSON functions (untrusted JSON reaches them only after json_syntax_check).
 * A store handle is used by one thread (the UI/main thread). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "json_syntax.h"
#include "paths.h"
#include "store.h"
#include "store_merge.h"

#define STORE_APP_ID 0x4e415452 /* "NATR" in PRAGMA application_id */
#define STORE_BUSY_MS 5000

/* ---- prepared statements, kept for the connection's lifetime ---- */

enum stmt_id {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_CONV_INSERT, ST_CONV_N, ST_CONV_GET, ST_CONV_LIST, ST_CONV_LAST, ST_CONV_RESOLVE,
    ST_CONV_RENAME, ST_CONV_DELETE, ST_CONV_PINNED, ST_CONV_ARCHIVED, ST_CONV_MODEL,
    ST_CONV_TEMPLATE, ST_CONV_SYSTEM, ST_CONV_SAMPLING, ST_CONV_AUTOTITLE, ST_CONV_TOUCH,
    ST_MSG_EACH, ST_MSG_LAST, ST_MSG_INSERT, ST_REPLY_UPDATE, ST_REPLY_REASONING,
    ST_REPLY_FINISH,
    ST_TREE_EACH, ST_TREE_CONV_OF, ST_TREE_SET_LEAF, ST_TREE_CHOOSE, ST_TREE_CHOOSE_LAST,
    ST_TREE_ACTIVATE,
    ST_TREE_SIBLINGS,
    ST_TREE_IN_SUB, ST_TREE_DELETE, ST_TREE_PIN,
    ST_SEARCH, ST_SEARCH_JSON, ST_LIST_JSON, ST_EXPORT_ONE, ST_EXPORT_ALL,
    ST_SET_GET, ST_SET_PUT, ST_SET_DEL,
    ST_IMP_IS_LIST, ST_IMP_ITEMS, ST_IMP_CONV, ST_IMP_MSGS, ST_IMP_ID_FREE, ST_IMP_INSERT,
    ST_IMP_BASE, ST_IMP_FIRST_USER, ST_IMP_FINISH,
    ST_COUNT
};

#define CONV_COLS                                                                             \
    "c.id, c.title, c.created, c.updated, c.model, c.template, c.system_prompt, c.sampling, "  \
    "c.pinned, c.archived, (SELECT count(*) FROM messages m WHERE m.conv = c.n)"

#define SEARCH_SQL                                                                            \
    "SELECT c.id AS id, c.title AS title, m.role AS role, m.id AS mid, h.snip AS snip, "      \
    "h.rk AS rk FROM (SELECT rowid AS r, snippet(search, 0, '[', ']', '…', 12) AS snip, "     \
    "rank AS rk FROM search WHERE search MATCH ?1 ORDER BY rank LIMIT ?2) h "                 \
    "LEFT JOIN messages m ON m.id = CASE WHEN h.r % 2 = 0 THEN h.r / 2 END "                  \
    "JOIN conversations c ON c.n = coalesce(m.conv, (h.r - 1) / 2) ORDER BY h.rk"

/* The active path's last message of conversation row c: its stored leaf while that is one of
 * its messages, else its newest message (NULL when it has none). */
#define LEAF_OF_C                                                                             \
    "coalesce((SELECT l.id FROM messages l WHERE l.id = c.leaf AND l.conv = c.n), "           \
    "(SELECT max(x.id) FROM messages x WHERE x.conv = c.n))"

/* The active path's choices, stored in messages.chosen: up(id, child) walks from the rows of
 * start (a message's parent and the message) up the parent links, and CHOSEN_SET makes each
 * message on the way remember the child the path goes through. */
#define CHOSEN_UP(start)                                                                      \
    "up(id, child) AS (" start " UNION ALL SELECT p.parent, p.id FROM messages p "            \
    "JOIN up ON p.id = up.id WHERE p.parent IS NOT NULL)"
#define CHOSEN_SET                                                                            \
    "UPDATE messages SET chosen = up.child FROM up WHERE messages.id = up.id "                \
    "AND messages.chosen IS NOT up.child"

/* A message row (m) for struct store_msg, with its place among its siblings (the messages of
 * the same parent, oldest first). */
#define MSG_COLS                                                                              \
    "m.id, m.parent, m.role, m.content, m.created, m.model, m.finish, m.tokens, "             \
    "m.prompt_tps, m.gen_tps, m.reasoning_content, m.pinned, "                                \
    "(SELECT count(*) FROM messages s WHERE s.conv = m.conv AND s.parent IS m.parent), "      \
    "(SELECT count(*) FROM messages s WHERE s.conv = m.conv AND s.parent IS m.parent "        \
    "AND s.id <= m.id), "                                                                     \
    "(SELECT count(*) FROM messages s WHERE s.conv = m.conv AND s.id <= m.id)"

/* One conversation as natter's JSON export object (c is the conversations row). The system
 * prompt comes first as a message; message fields that are NULL are left out. */
#define EXPORT_OBJ                                                                            \
    "json_object('natter', 1, 'id', c.id, 'title', c.title, 'model', c.model, "               \
    "'template', c.template, 'created', c.created, 'updated', c.updated, "                    \
    "'pinned', json(CASE WHEN c.pinned THEN 'true' ELSE 'false' END), "                       \
    "'archived', json(CASE WHEN c.archived THEN 'true' ELSE 'false' END), "                   \
    "'sampling', json(CASE WHEN natter_json_ok(c.sampling) THEN c.sampling END), "            \
    "'leaf', (SELECT count(*) FROM messages x WHERE x.conv = c.n AND x.id <= " LEAF_OF_C     \
    "HAVING count(*) > 0), "                                                                  \
    "'messages', json((SELECT json_group_array(json(x)) FROM ("                                \
    "SELECT json_object('role', 'system', 'content', c.system_prompt, 'created', c.created) "  \
    "AS x, 0 AS o WHERE c.system_prompt IS NOT NULL UNION ALL "                               \
    "SELECT json_patch('{}', json_object('id', m.k, 'parent', coalesce(pm.k, 0), "            \
    "'role', m.role, 'content', m.content, "                                                  \
    "'reasoning_content', m.reasoning_content, 'created', m.created, 'model', m.model, 'tokens', m.tokens, 'prompt_tps', m.prompt_tps, " \
    "'gen_tps', m.gen_tps, 'finish', m.finish, "                                              \
    "'pinned', CASE WHEN m.pinned THEN json('true') END)), m.k "                              \
    "FROM (SELECT *, row_number() OVER (ORDER BY id) AS k FROM messages WHERE conv = c.n) m "  \
    "LEFT JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM messages "               \
    "WHERE conv = c.n) pm ON pm.id = m.parent "                                               \
    "ORDER BY o))))"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CONV_INSERT] = "INSERT INTO conversations(id, title, title_set, created, updated, model, "
                       "template, system_prompt, sampling) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, "
                       "?7, ?8)",
    [ST_CONV_N] = "SELECT n FROM conversations WHERE id = ?1",
    [ST_CONV_GET] = "SELECT " CONV_COLS " FROM conversations c WHERE c.id = ?1",
    [ST_CONV_LIST] = "SELECT " CONV_COLS " FROM conversations c WHERE ?1 OR c.archived = 0 "
                     "ORDER BY c.updated DESC, c.n DESC",
    [ST_CONV_LAST] = "SELECT id FROM conversations WHERE archived = 0 "
                     "ORDER BY updated DESC, n DESC LIMIT 1",
    [ST_CONV_RESOLVE] = "SELECT id FROM conversations WHERE id >= ?1 AND id < ?1 || '~' "
                        "ORDER BY id LIMIT 11",
    [ST_CONV_RENAME] = "UPDATE conversations SET title = ?2, title_set = 1 WHERE id = ?1",
    [ST_CONV_DELETE] = "DELETE FROM conversations WHERE id = ?1",
    [ST_CONV_PINNED] = "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
    [ST_CONV_ARCHIVED] = "UPDATE conversations SET archived = ?2 WHERE id = ?1",
    [ST_CONV_MODEL] = "UPDATE conversations SET model = ?2 WHERE id = ?1",
    [ST_CONV_TEMPLATE] = "UPDATE conversations SET template = ?2 WHERE id = ?1",
    [ST_CONV_SYSTEM] = "UPDATE conversations SET system_prompt = ?2 WHERE id = ?1",
    [ST_CONV_SAMPLING] = "UPDATE conversations SET sampling = ?2 WHERE id = ?1",
    [ST_CONV_AUTOTITLE] = "UPDATE conversations SET title = ?2 WHERE n = ?1 AND title_set = 0 "
                          "AND title = ''",
    [ST_CONV_TOUCH] = "UPDATE conversations SET updated = ?2 WHERE n = ?1",
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
    [ST_REPLY_UPDATE] = "UPDATE messages SET content = ?2, reasoning_content = ?3 WHERE id = ?1",
    /* while only the reasoning grows: the content (and its search row) is left alone */
    [ST_REPLY_REASONING] = "UPDATE messages SET reasoning_content = ?2 WHERE id = ?1",
    [ST_REPLY_FINISH] = "UPDATE messages SET content = ?2, finish = ?3, tokens = ?4, "
                        "prompt_tps = ?5, gen_tps = ?6, reasoning_content = ?7 WHERE id = ?1",
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
    /* a NUL byte in a snippet is shown as U+2400 (hits are C strings; JSON keeps \u0000) */
    [ST_SEARCH] = "SELECT id, title, role, mid, replace(snip, char(0), '␀'), rk FROM ("
                  SEARCH_SQL ")",
    [ST_SEARCH_JSON] = "SELECT json_group_array(json_object('id', id, 'title', title, 'role', "
                       "role, 'message', mid, 'snippet', snip, 'rank', rk)) FROM (" SEARCH_SQL ")",
    [ST_LIST_JSON] = "SELECT json_group_array(json_object('id', c.id, 'title', c.title, "
                     "'created', c.created, 'updated', c.updated, 'model', c.model, 'template', "
                     "c.template, 'messages', (SELECT count(*) FROM messages m WHERE m.conv = "
                     "c.n), 'pinned', json(CASE WHEN c.pinned THEN 'true' ELSE 'false' END), "
                     "'archived', json(CASE WHEN c.archived THEN 'true' ELSE 'false' END))) "
                     "FROM (SELECT * FROM conversations WHERE ?1 OR archived = 0 "
                     "ORDER BY updated DESC, n DESC) c",
    [ST_EXPORT_ONE] = "SELECT " EXPORT_OBJ " FROM conversations c WHERE c.id = ?1",
    [ST_EXPORT_ALL] = "SELECT json_group_array(json(o)) FROM (SELECT " EXPORT_OBJ " AS o "
                      "FROM conversations c ORDER BY c.created, c.n)",
    [ST_SET_GET] = "SELECT value FROM settings WHERE key = ?1",
    [ST_SET_PUT] = "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_SET_DEL] = "DELETE FROM settings WHERE key = ?1",
    /* import: ?1 is always the whole document */
    /* is the document an array of natter conversation objects (export --all)? */
    [ST_IMP_IS_LIST] = "SELECT count(*) > 0 AND count(*) = sum(type = 'object' AND "
                       "json_type(value, '$.messages') IS NOT NULL) FROM json_each(?1)",
    /* the conversation objects: the document itself, the elements of a natter array (?2), or
     * a plain message array wrapped as {"messages": [...]} */
    [ST_IMP_ITEMS] = "SELECT json(?1) WHERE json_type(?1) = 'object' "
                     "UNION ALL SELECT value FROM json_each(?1) WHERE json_type(?1) = 'array' "
                     "AND ?2 UNION ALL SELECT json_object('messages', json(?1)) "
                     "WHERE json_type(?1) = 'array' AND NOT ?2",
    [ST_IMP_CONV] = "SELECT json_type(?1, '$.messages'), json_type(?1, '$.title'), "
                    "natter_text(?1 -> '$.title'), json_type(?1, '$.model'), "
                    "natter_text(?1 -> '$.model'), json_type(?1, '$.template'), "
                    "natter_text(?1 -> '$.template'), "
                    "json_type(?1, '$.created'), strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> '$.created'), "
                    "json_type(?1, '$.updated'), strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> '$.updated'), "
                    "json_type(?1, '$.sampling'), json(?1 -> '$.sampling'), "
                    "json_type(?1, '$.pinned'), json_type(?1, '$.archived'), "
                    "json_type(?1, '$.id'), natter_text(?1 -> '$.id'), "
                    "json_type(?1, '$.messages[0].role') = 'text' AND "
                    "natter_text(?1 -> '$.messages[0].role') = 'system', "
                    "natter_text(?1 -> '$.messages[0].content'), "
                    /* 19: what the short fields hold (JSON_TEXT_* flags), 20: the same for
                     * the system prompt, which a conversation keeps as a C string */
                    "natter_text_flags(?1 -> '$.title') | natter_text_flags(?1 -> '$.model') | "
                    "natter_text_flags(?1 -> '$.template') | natter_text_flags(?1 -> '$.id'), "
                    "natter_text_flags(?1 -> '$.messages[0].content'), "
                    /* 21-23: the tree's active end, the messages' count */
                    "json_type(?1, '$.leaf'), ?1 ->> '$.leaf', json_array_length(?1, '$.messages')",
    [ST_IMP_MSGS] = "SELECT key, type, json_type(value, '$.role'), natter_text(value -> '$.role'), "
                    "json_type(value, '$.content'), json_type(value, '$.created'), "
                    "strftime('%Y-%m-%dT%H:%M:%fZ', value ->> '$.created'), "
                    "json_type(value, '$.model'), "
                    /* an integer too big for 64 bits, or a speed of 1e300 or more, is
                     * reported as a wrong type: it would not export as it came in */
                    "CASE WHEN typeof(value ->> '$.tokens') = 'real' THEN 'big' "
                    "ELSE json_type(value, '$.tokens') END, "
                    "CASE WHEN abs(value ->> '$.prompt_tps' + 0.0) >= 1e300 THEN 'big' "
                    "ELSE json_type(value, '$.prompt_tps') END, "
                    "CASE WHEN abs(value ->> '$.gen_tps' + 0.0) >= 1e300 THEN 'big' "
                    "ELSE json_type(value, '$.gen_tps') END, "
                    "json_type(value, '$.finish'), json_type(value, '$.reasoning_content'), "
                    /* 13: what the texts hold (JSON_TEXT_* flags), 14: the short fields */
                    "natter_text_flags(value -> '$.content') | "
                    "natter_text_flags(value -> '$.reasoning_content'), "
                    "natter_text_flags(value -> '$.role') | natter_text_flags(value -> '$.model') | "
                    "natter_text_flags(value -> '$.finish'), "
                    /* 15-19: the message's number and its parent's, pinned */
                    "json_type(value, '$.id'), value ->> '$.id', json_type(value, '$.parent'), "
                    "value ->> '$.parent', json_type(value, '$.pinned') "
                    "FROM json_each(?1, '$.messages') ORDER BY key",
    [ST_IMP_ID_FREE] = "SELECT NOT EXISTS (SELECT 1 FROM conversations WHERE id = ?1)",
    /* message k of the array (1-based, the leading system message not counted) gets id
     * ?5 + k - 1, so the parent links ("parent": k, 0 for a root, none: the message before)
     * become ids; the check made sure each parent comes before its child */
    [ST_IMP_INSERT] = "INSERT INTO messages(id, parent, pinned, conv, role, content, created, "
                      "model, tokens, prompt_tps, gen_tps, finish, reasoning_content) SELECT "
                      "?5 + key - ?4, CASE WHEN value ->> '$.parent' IS NULL THEN "
                      "CASE WHEN key > ?4 THEN ?5 + key - ?4 - 1 END "
                      "WHEN value ->> '$.parent' = 0 THEN NULL "
                      "ELSE ?5 + (value ->> '$.parent') - 1 END, "
                      "coalesce(value ->> '$.pinned', 0), ?2, "
                      "natter_text(value -> '$.role'), natter_text(value -> '$.content'), "
                      "coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', value ->> '$.created'), ?3), "
                      "natter_text(value -> '$.model'), value ->> '$.tokens', "
                      "value ->> '$.prompt_tps', value ->> '$.gen_tps', "
                      "natter_text(value -> '$.finish'), "
                      "natter_text(value -> '$.reasoning_content') "
                      "FROM json_each(?1, '$.messages') WHERE key >= ?4 ORDER BY key",
    [ST_IMP_BASE] = "SELECT coalesce(max(id), 0) + 1 FROM messages",
    [ST_IMP_FIRST_USER] = "SELECT content FROM messages WHERE conv = ?1 AND role = 'user' "
                          "ORDER BY id LIMIT 1",
    [ST_IMP_FINISH] = "UPDATE conversations SET updated = coalesce(?2, updated), pinned = ?3, "
                      "archived = ?4 WHERE n = ?1",
};

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

/* A growing text (the reply's content, its reasoning). */
struct growbuf {
    char *buf;
    size_t len, cap;
    int dirty, used; /* used: something was appended (reasoning: stored, else NULL) */
};

struct reply {
    int64_t msg_id; /* 0: no reply in progress */
    int64_t conv_n;
    struct growbuf text, think;
    int64_t last_write_ms;
};

struct store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[ST_COUNT];
    struct reply reply;
    char err[512];
    char notice[512]; /* what the last import changed (store_notice) */
    int have_file;    /* the file opened, as it was then: writes go nowhere else */
    int writable;     /* it had a write permission bit (root may open a 0444 file) */
    int detached;     /* our -wal was emptied after the file was found gone or replaced */
    dev_t dev;
    ino_t ino;
};

/* ---- helpers ---- */

static void set_err(store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(store *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

/* Records SQLite's message for a failed step; returns STORE_E_SQL. */
static int sql_err(store *s, const char *what) {
    set_err(s, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    return STORE_E_SQL;
}

static sqlite3_stmt *stmt(store *s, enum stmt_id id) {
    if (!s->st[id]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id],
                               NULL) != SQLITE_OK) {
            sql_err(s, "prepare");
            s->st[id] = NULL;
            return NULL;
        }
    }
    return s->st[id];
}

static void stmt_done(sqlite3_stmt *q) {
    if (q) {
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
    }
}

static int bind_text(sqlite3_stmt *q, int i, const char *t) {
    return t ? sqlite3_bind_text(q, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(q, i);
}

/* Before a write: the file at the path must still be the database opened and writable.
 * SQLite writes through the descriptors it opened, so after the file was removed or another
 * one moved over it, a write would go into the old inode and be lost unseen; a file made
 * read-only is refused too (root could still write it). One stat(); STORE_E_IO with the
 * reason, nothing written. */
static int store_file_check(store *s) {
    if (!s->have_file)
        return 0;
    struct stat st;
    const char *why = NULL;
    int gone = 1; /* the path no longer names our file */
    if (stat(s->path, &st) != 0)
        why = errno == ENOENT ? "was removed" : "cannot be reached";
    else if (st.st_dev != s->dev || st.st_ino != s->ino)
        why = "was replaced by another file";
    else if (s->writable && !(st.st_mode & 0222))
        why = "was made read-only", gone = 0;
    if (!why)
        return 0;
    if (gone && !s->detached) {
        /* Our -wal still sits beside the path, and SQLite leaves it there at close when the
         * file has moved: whoever opens the new file next would replay our pages into it.
         * A checkpoint writes them into our own (old) file and empties the -wal. */
        s->detached = 1;
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    set_err(s, "%s %s since natter opened it: nothing more is saved there", s->path, why);
    return STORE_E_IO;
}

/* Runs a statement that returns no rows (or ignores them); 0 or STORE_E_SQL (STORE_E_IO when
 * a write finds the file gone, replaced or read-only). */
static int stmt_exec(store *s, sqlite3_stmt *q, const char *what) {
    if (!sqlite3_stmt_readonly(q)) {
        int r = store_file_check(s);
        if (r) {
            stmt_done(q);
            return r;
        }
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    }
    int r = rc == SQLITE_DONE ? 0 : sql_err(s, what);
    stmt_done(q);
    return r;
}

/* Steps a query that should return one row: 0 with q on it; when there is none,
 * STORE_E_NOTFOUND with the message missing_fmt (one %s: arg); else SQLite's error. */
static int step_row(store *s, sqlite3_stmt *q, const char *what, const char *missing_fmt,
                    const char *arg) {
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return sql_err(s, what);
    set_err(s, missing_fmt, arg);
    return STORE_E_NOTFOUND;
}

static int tx_begin(store *s) {
    int r = store_file_check(s);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, ST_BEGIN);
    return q ? stmt_exec(s, q, "begin") : STORE_E_SQL;
}

static int tx_commit(store *s) {
    sqlite3_stmt *q = stmt(s, ST_COMMIT);
    return q ? stmt_exec(s, q, "commit") : STORE_E_SQL;
}

static void tx_rollback(store *s) {
    if (sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back */
    sqlite3_stmt *q = stmt(s, ST_ROLLBACK);
    if (q) {
        sqlite3_step(q);
        stmt_done(q);
    }
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Now as ISO 8601 UTC with milliseconds into buf (>= 25 bytes). */
static void now_iso(char *buf, size_t len) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static void new_id(char *out) {
    unsigned char r[STORE_ID_LEN / 2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
        sqlite3_randomness(sizeof r, r);
        r[0] ^= (unsigned char)getpid();
    }
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static char *dup_col(sqlite3_stmt *q, int i) {
    const unsigned char *t = sqlite3_column_text(q, i);
    if (!t)
        return NULL;
    int n = sqlite3_column_bytes(q, i);
    char *d = malloc((size_t)n + 1);
    if (d) {
        memcpy(d, t, (size_t)n);
        d[n] = 0;
    }
    return d;
}

static char *col(sqlite3_stmt *q, int i) { return (char *)sqlite3_column_text(q, i); }

/* The integer key of conversation id; STORE_E_NOTFOUND when there is none. */
static int conv_n(store *s, const char *id, int64_t *n) {
    sqlite3_stmt *q = stmt(s, ST_CONV_N);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, id);
    int r = step_row(s, q, "find conversation", "no conversation '%s'", id);
    if (r == 0)
        *n = sqlite3_column_int64(q, 0);
    stmt_done(q);
    return r;
}

/* ---- open / close ---- */

/* Refuses a file that exists but is not an SQLite database, before SQLite may write to it. */
static int check_header(const char *path, int *exists, char *err, size_t err_len) {
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
static int query_int(sqlite3 *db, const char *sql, int64_t *v) {
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(q, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Runs the forward migrations from the current user_version inside one write transaction
 * (another process may have migrated since we looked: the version is read again inside). */
static int migrate(store *s) {
    int r = tx_begin(s);
    if (r)
        return r;
    int64_t v = 0;
    if (query_int(s->db, "PRAGMA user_version", &v) != SQLITE_OK) {
        r = sql_err(s, "read schema version");
        goto fail;
    }
    if (v > STORE_SCHEMA_VERSION) {
        set_err(s, "%s: written by a newer natter (schema %lld > %d); left untouched", s->path,
                (long long)v, STORE_SCHEMA_VERSION);
        r = STORE_E_NEWER;
        goto fail;
    }
    for (; v < STORE_SCHEMA_VERSION; v++) {
        int n_merged;
        if (v == 3 && store_merge_edit_copies(s->db, &n_merged) != 0) {
            r = sql_err(s, "merge the copies of edited conversations");
            goto fail;
        }
        if (sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            r = sql_err(s, "migrate schema");
            goto fail;
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", (long long)v + 1);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            r = sql_err(s, "set schema version");
            goto fail;
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APP_ID);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        r = sql_err(s, "set application id");
        goto fail;
    }
    return tx_commit(s);
fail:
    tx_rollback(s);
    return r;
}

/* natter_json_ok(X) in SQL: 1 when X is text that passes json_syntax_check, else 0. Stored JSON
 * (the sampling settings) goes through it before SQLite's json() renders it: another program
 * may have written text that SQLite 3.40's json_valid() (the column's CHECK) lets through. */
static void sql_json_ok(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    size_t off;
    const char *why;
    sqlite3_result_int(ctx, t && json_syntax_check(t, (size_t)sqlite3_value_bytes(argv[0]), &off,
                                                   &why) == 0);
}

/* natter_text(X) in SQL: the exact bytes of the JSON string literal X (a string member as `->`
 * gives it), NUL bytes included and invalid UTF-8 replaced by U+FFFD (json_text_decode); NULL
 * when X is not a string. natter_text_flags(X): its JSON_TEXT_* flags (0 for a non-string).
 * Import reads every text member through these: SQLite 3.40's `->>` stops at \u0000. */
static void sql_text(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]), len = 0;
    char *out = t ? sqlite3_malloc64(3 * (sqlite3_uint64)n + 1) : NULL;
    if (t && !out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    int flags = t ? json_text_decode(t, n, out, &len) : -1;
    if (sqlite3_user_data(ctx))
        sqlite3_result_int(ctx, flags < 0 ? 0 : flags);
    else if (flags < 0)
        sqlite3_result_null(ctx);
    else {
        sqlite3_result_text(ctx, out, (int)len, sqlite3_free);
        return;
    }
    sqlite3_free(out);
}

int store_open(const char *path, store **out, char *err, size_t err_len) {
    char dummy[8];
    if (!err) {
        err = dummy;
        err_len = sizeof dummy;
    }
    *out = NULL;
    err[0] = 0;
    int exists, r = check_header(path, &exists, err, err_len);
    if (r)
        return r;
    /* the directory must be writable: a new file, and the -wal and -shm files, go there */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash == dir ? (void)(slash[1] = 0) : (void)(*slash = 0);
    else
        snprintf(dir, sizeof dir, ".");
    if (!exists && paths_mkdir_p(dir) != 0) {
        snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
        return STORE_E_IO;
    }
    if (strcmp(path, ":memory:") != 0) {
        const char *what = access(dir, W_OK | X_OK) != 0                  ? dir
                           : exists && access(path, R_OK | W_OK) != 0 ? "cannot write"
                                                                        : NULL;
        if (what) {
            snprintf(err, err_len, "%s: %s: %s (natter writes the database and its -wal and "
                     "-shm files)", path, what, strerror(errno));
            return STORE_E_IO;
        }
    }
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, err_len, "out of memory");
        return STORE_E_NOMEM;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (exists ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: cannot open: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return STORE_E_SQL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    static int flags_fn = 1; /* user data: natter_text_flags rather than natter_text */
    if (sqlite3_create_function(s->db, "natter_json_ok", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_json_ok, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(s->db, "natter_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_text, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(s->db, "natter_text_flags", 1,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC, &flags_fn, sql_text, NULL,
                                NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(s->db));
        store_close(s);
        return STORE_E_SQL;
    }

    /* Look before writing anything: readable schema, our application, not newer than us. */
    int64_t version = 0, app = 0, n_objects = 0;
    int rc = query_int(s->db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "SELECT count(*) FROM sqlite_schema", &n_objects);
    if (rc != SQLITE_OK) {
        int code = rc & 0xff;
        if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
            snprintf(err, err_len, "%s: corrupt database (left untouched): %s", path,
                     sqlite3_errmsg(s->db));
            r = STORE_E_NOTDB;
        } else {
            snprintf(err, err_len, "%s: cannot read: %s", path, sqlite3_errmsg(s->db));
            r = STORE_E_SQL;
        }
        store_close(s);
        return r;
    }
    if (version > STORE_SCHEMA_VERSION) {
        snprintf(err, err_len, "%s: written by a newer natter (schema %lld > %d); left untouched",
                 path, (long long)version, STORE_SCHEMA_VERSION);
        store_close(s);
        return STORE_E_NEWER;
    }
    if (app != STORE_APP_ID && (app != 0 || n_objects > 0)) {
        snprintf(err, err_len, "%s: an SQLite database of another application (left untouched)",
                 path);
        store_close(s);
        return STORE_E_NOTDB;
    }

    char mode[16] = "";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
            snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
    }
    if (strcmp(mode, "wal") != 0 && !(strcmp(path, ":memory:") == 0 && !strcmp(mode, "memory"))) {
        snprintf(err, err_len, "%s: cannot use WAL mode: %s", path, sqlite3_errmsg(s->db));
        store_close(s);
        return STORE_E_SQL;
    }
    if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(s->db));
        store_close(s);
        return STORE_E_SQL;
    }
    if (version < STORE_SCHEMA_VERSION || app != STORE_APP_ID) {
        r = migrate(s);
        if (r) {
            snprintf(err, err_len, "%s", s->err);
            store_close(s);
            return r;
        }
    }
    struct stat st; /* the file as opened: store_file_check compares with it */
    if (strcmp(path, ":memory:") != 0 && stat(path, &st) == 0) {
        s->have_file = 1;
        s->writable = (st.st_mode & 0222) != 0;
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    *out = s;
    return 0;
}

void store_close(store *s) {
    if (!s)
        return;
    if (s->reply.msg_id && s->db)
        store_reply_flush(s);
    if (s->db)
        store_file_check(s); /* a file gone or replaced: our -wal is emptied before SQLite
                              * leaves it beside the path (see store_file_check) */
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s->reply.text.buf);
    free(s->reply.think.buf);
    free(s->path);
    free(s);
}

const char *store_errmsg(const store *s) { return s ? s->err : "no database"; }
const char *store_notice(const store *s) { return s->notice; }

const char *store_path(const store *s) { return s->path; }

/* ---- conversations ---- */

void store_conv_clear(struct store_conv *c) {
    if (!c)
        return;
    free(c->title);
    free(c->created);
    free(c->updated);
    free(c->model);
    free(c->template_name);
    free(c->system_prompt);
    free(c->sampling);
    memset(c, 0, sizeof *c);
}

/* Fills c from the current row of a CONV_COLS query: its strings borrowed (valid until the next
 * step) or, with copy, owned copies (store_conv_clear frees them). 0, or -1 out of memory. */
static int conv_from_row(sqlite3_stmt *q, struct store_conv *c, int copy) {
    char *(*get)(sqlite3_stmt *, int) = copy ? dup_col : col;
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", col(q, 0) ? col(q, 0) : "");
    c->title = get(q, 1);
    c->created = get(q, 2);
    c->updated = get(q, 3);
    c->model = get(q, 4);
    c->template_name = get(q, 5);
    c->system_prompt = get(q, 6);
    c->sampling = get(q, 7);
    c->pinned = sqlite3_column_int(q, 8);
    c->archived = sqlite3_column_int(q, 9);
    c->n_messages = sqlite3_column_int(q, 10);
    if (copy && (!c->title || !c->created || !c->updated)) {
        store_conv_clear(c);
        return -1;
    }
    return 0;
}

static int sampling_ok(store *s, const char *json) {
    if (!json)
        return 1;
    size_t off, n = strlen(json);
    const char *why;
    int ok = json_syntax_check(json, n, &off, &why) == 0 && json_syntax_top(json, n) == '{';
    if (!ok)
        set_err(s, "sampling settings must be a JSON object");
    return ok;
}

/* Inserts a conversation row with a fresh id (retrying on the rare collision). */
static int conv_insert(store *s, const struct store_conv_params *p, const char *created,
                       const char *want_id, char *id_out, int64_t *n_out) {
    sqlite3_stmt *q = stmt(s, ST_CONV_INSERT);
    if (!q)
        return STORE_E_SQL;
    for (int attempt = 0; attempt < 16; attempt++) {
        if (want_id && attempt == 0)
            snprintf(id_out, STORE_ID_LEN + 1, "%s", want_id);
        else
            new_id(id_out);
        bind_text(q, 1, id_out);
        bind_text(q, 2, p->title ? p->title : "");
        sqlite3_bind_int(q, 3, p->title && *p->title);
        bind_text(q, 4, created);
        bind_text(q, 5, p->model);
        bind_text(q, 6, p->template_name);
        bind_text(q, 7, p->system_prompt);
        bind_text(q, 8, p->sampling);
        int r = store_file_check(s);
        if (r) {
            stmt_done(q);
            return r;
        }
        int rc = sqlite3_step(q);
        stmt_done(q);
        if (rc == SQLITE_DONE) {
            if (n_out)
                *n_out = sqlite3_last_insert_rowid(s->db);
            return 0;
        }
        if (rc != SQLITE_CONSTRAINT_UNIQUE)
            return sql_err(s, "create conversation");
    }
    return sql_err(s, "create conversation");
}

int store_conv_new(store *s, const struct store_conv_params *p, char *id_out) {
    static const struct store_conv_params none;
    char now[32];
    if (!p)
        p = &none;
    if (!sampling_ok(s, p->sampling))
        return STORE_E_INVALID;
    now_iso(now, sizeof now);
    return conv_insert(s, p, now, NULL, id_out, NULL);
}

int store_conv_resolve(store *s, const char *prefix, char *id_out) {
    char low[STORE_ID_LEN + 1];
    size_t n = strlen(prefix);
    int valid = n > 0 && n <= STORE_ID_LEN;
    for (size_t i = 0; valid && i < n; i++) {
        char ch = prefix[i];
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        valid = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        low[i] = ch;
    }
    if (!valid) {
        set_err(s, "no conversation '%s'", prefix);
        return STORE_E_NOTFOUND;
    }
    low[n] = 0;
    sqlite3_stmt *q = stmt(s, ST_CONV_RESOLVE);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, low);
    char list[200] = "";
    int n_found = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *id = col(q, 0);
        if (n_found == 0)
            snprintf(id_out, STORE_ID_LEN + 1, "%s", id);
        if (n_found < 10) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", n_found ? ", " : "", id);
        } else {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, ", ...");
        }
        n_found++;
    }
    stmt_done(q);
    if (rc != SQLITE_DONE)
        return sql_err(s, "find conversation");
    if (n_found == 0) {
        set_err(s, "no conversation '%s'", prefix);
        return STORE_E_NOTFOUND;
    }
    if (n_found > 1) {
        set_err(s, "ambiguous id '%s': matches %s", prefix, list);
        return STORE_E_AMBIGUOUS;
    }
    return 0;
}

int store_conv_get(store *s, const char *id, struct store_conv *c) {
    store_reply_flush(s);
    sqlite3_stmt *q = stmt(s, ST_CONV_GET);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, id);
    int r = step_row(s, q, "read conversation", "no conversation '%s'", id);
    if (r == 0 && conv_from_row(q, c, 1) != 0) {
        set_err(s, "out of memory");
        r = STORE_E_NOMEM;
    }
    stmt_done(q);
    return r;
}

int store_conv_list(store *s, int flags, int (*fn)(const struct store_conv *c, void *ud),
                    void *ud) {
    store_reply_flush(s);
    sqlite3_stmt *q = stmt(s, ST_CONV_LIST);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int(q, 1, (flags & STORE_LIST_ARCHIVED) != 0);
    int rc, r = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_conv c;
        conv_from_row(q, &c, 0);
        if ((r = fn(&c, ud)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = sql_err(s, "list conversations");
    stmt_done(q);
    return r;
}

int store_conv_last(store *s, char *id_out) {
    sqlite3_stmt *q = stmt(s, ST_CONV_LAST);
    if (!q)
        return STORE_E_SQL;
    int r = step_row(s, q, "find the last conversation", "no saved conversation%s", "");
    if (r == 0)
        snprintf(id_out, STORE_ID_LEN + 1, "%s", col(q, 0));
    stmt_done(q);
    return r;
}

/* UPDATE ... WHERE id = ?1 with ?2 as text (or an int when text is NULL and use_int). */
static int conv_update(store *s, enum stmt_id which, const char *id, const char *text, int ival,
                       int use_int, const char *what) {
    sqlite3_stmt *q = stmt(s, which);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, id);
    if (use_int)
        sqlite3_bind_int(q, 2, ival);
    else
        bind_text(q, 2, text);
    int r = stmt_exec(s, q, what);
    if (r == 0 && sqlite3_changes(s->db) == 0) {
        set_err(s, "no conversation '%s'", id);
        r = STORE_E_NOTFOUND;
    }
    return r;
}

int store_conv_rename(store *s, const char *id, const char *title) {
    if (!title || !*title) {
        set_err(s, "a title cannot be empty");
        return STORE_E_INVALID;
    }
    return conv_update(s, ST_CONV_RENAME, id, title, 0, 0, "rename");
}

int store_conv_delete(store *s, const char *id) {
    if (s->reply.msg_id) {
        int64_t n;
        if (conv_n(s, id, &n) == 0 && n == s->reply.conv_n)
            s->reply.msg_id = 0; /* its reply goes with it */
    }
    return conv_update(s, ST_CONV_DELETE, id, NULL, 0, 0, "delete");
}

int store_conv_set_pinned(store *s, const char *id, int pinned) {
    return conv_update(s, ST_CONV_PINNED, id, NULL, pinned != 0, 1, "pin");
}
int store_conv_set_archived(store *s, const char *id, int archived) {
    return conv_update(s, ST_CONV_ARCHIVED, id, NULL, archived != 0, 1, "archive");
}
int store_conv_set_model(store *s, const char *id, const char *model) {
    return conv_update(s, ST_CONV_MODEL, id, model, 0, 0, "set model");
}
int store_conv_set_template(store *s, const char *id, const char *template_name) {
    return conv_update(s, ST_CONV_TEMPLATE, id, template_name, 0, 0, "set template");
}
int store_conv_set_system(store *s, const char *id, const char *system_prompt) {
    return conv_update(s, ST_CONV_SYSTEM, id, system_prompt, 0, 0, "set system prompt");
}
int store_conv_set_sampling(store *s, const char *id, const char *sampling_json) {
    if (!sampling_ok(s, sampling_json))
        return STORE_E_INVALID;
    return conv_update(s, ST_CONV_SAMPLING, id, sampling_json, 0, 0, "set sampling");
}

#define TITLE_MAX_CHARS 60

void store_title_from_text(const char *text, char *buf, size_t len) {
    if (!len)
        return;
    buf[0] = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    /* the first line that holds something other than blanks */
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p != '\n')
            break;
        p++;
    }
    const unsigned char *end = p;
    while (*end && *end != '\n' && *end != '\r')
        end++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    /* walk up to TITLE_MAX_CHARS characters, remembering the last space */
    const unsigned char *q = p, *cut = NULL, *last_space = NULL;
    int n_chars = 0;
    while (q < end) {
        if (n_chars == TITLE_MAX_CHARS) {
            cut = q;
            break;
        }
        if (*q == ' ')
            last_space = q;
        q++;
        while (q < end && (*q & 0xc0) == 0x80)
            q++; /* stay on a UTF-8 boundary */
        n_chars++;
    }
    const char *ellipsis = "";
    if (cut) {
        if (last_space && last_space - p >= TITLE_MAX_CHARS / 2)
            cut = last_space;
        while (cut > p && cut[-1] == ' ')
            cut--;
        end = cut;
        ellipsis = "…";
    }
    size_t n = (size_t)(end - p), e = strlen(ellipsis);
    while (n + e + 1 > len && n > 0) { /* shrink to fit, still on a boundary */
        n--;
        while (n > 0 && (p[n] & 0xc0) == 0x80)
            n--;
        e = 0;
    }
    memcpy(buf, p, n);
    memcpy(buf + n, ellipsis, e);
    buf[n + e] = 0;
}

/* ---- messages ---- */

/* Walks a query of MSG_COLS plus depth and active (bound to conversation n) through fn. */
static int msg_rows_each(store *s, enum stmt_id which, const char *id,
                         int (*fn)(const struct store_msg *m, void *ud), void *ud) {
    int64_t n;
    store_reply_flush(s);
    int r = conv_n(s, id, &n);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, which);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, n);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_msg m = {
            .id = sqlite3_column_int64(q, 0),
            .parent = sqlite3_column_int64(q, 1),
            .role = col(q, 2),
            .content = col(q, 3),
            .created = col(q, 4),
            .model = col(q, 5),
            .finish = col(q, 6),
            .n_tokens = sqlite3_column_type(q, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 7),
            .prompt_tps = sqlite3_column_type(q, 8) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 8),
            .gen_tps = sqlite3_column_type(q, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 9),
            .reasoning = col(q, 10),
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
        r = sql_err(s, "read messages");
    stmt_done(q);
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

static int role_ok(const char *role) {
    return role && (!strcmp(role, "system") || !strcmp(role, "user") ||
                    !strcmp(role, "assistant") || !strcmp(role, "tool"));
}

/* ---- the tree (store.h: siblings, the active path, deleting a branch, pins) ---- */

/* Checks that message msg belongs to conversation n; its parent (0: a root) into *parent. */
static int tree_msg_check(store *s, int64_t n, int64_t msg, int64_t *parent) {
    sqlite3_stmt *q = stmt(s, ST_TREE_CONV_OF);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, msg);
    int rc = sqlite3_step(q);
    int found = rc == SQLITE_ROW && sqlite3_column_int64(q, 0) == n;
    if (found && parent)
        *parent = sqlite3_column_int64(q, 1);
    stmt_done(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_err(s, "find message");
    if (!found) {
        set_err(s, "no message %lld in this conversation", (long long)msg);
        return STORE_E_NOTFOUND;
    }
    return 0;
}

/* Makes leaf the end of conversation n's active path (0: none, the newest message) and every
 * message above it remember the child the path goes through; when parent_on_path says leaf's
 * parent is on the active path already, only the parent changes (an appended message: no walk
 * up a long conversation). */
static int tree_set_leaf(store *s, int64_t n, int64_t leaf, int parent_on_path) {
    sqlite3_stmt *q = stmt(s, ST_TREE_SET_LEAF);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, n);
    if (leaf > 0)
        sqlite3_bind_int64(q, 2, leaf);
    else
        sqlite3_bind_null(q, 2);
    int r = stmt_exec(s, q, "set the active path");
    if (r == 0 && leaf <= 0) { /* the newest message ends it: its path is the one chosen */
        if (!(q = stmt(s, ST_MSG_LAST)))
            return STORE_E_SQL;
        sqlite3_bind_int64(q, 1, n);
        int rc = sqlite3_step(q);
        leaf = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        stmt_done(q);
        if (rc != SQLITE_ROW)
            return sql_err(s, "find the last message");
        parent_on_path = 0;
    }
    if (r || leaf <= 0)
        return r;
    if (!(q = stmt(s, parent_on_path ? ST_TREE_CHOOSE_LAST : ST_TREE_CHOOSE)))
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, leaf);
    return stmt_exec(s, q, "set the active path");
}

/* Conversation id's key and a check that msg is one of its messages (parent may be NULL). */
static int tree_find(store *s, const char *id, int64_t msg, int64_t *n, int64_t *parent) {
    store_reply_flush(s);
    int r = conv_n(s, id, n);
    return r ? r : tree_msg_check(s, *n, msg, parent);
}

/* The active path goes through msg (of conversation n) and on below it through the children
 * chosen last. */
static int tree_activate(store *s, int64_t n, int64_t msg) {
    sqlite3_stmt *q = stmt(s, ST_TREE_ACTIVATE);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, msg);
    int rc = sqlite3_step(q);
    int64_t leaf = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : msg;
    stmt_done(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_err(s, "find the active path");
    return tree_set_leaf(s, n, leaf, 0);
}

/* 1 when message msg is on its conversation's active path (an ancestor of the leaf). */
static int tree_on_path(store *s, int64_t msg) {
    int64_t n = 0, leaf = 0;
    sqlite3_stmt *q = stmt(s, ST_TREE_CONV_OF);
    if (!q)
        return 1;
    sqlite3_bind_int64(q, 1, msg);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    stmt_done(q);
    if ((q = stmt(s, ST_MSG_LAST)) == NULL)
        return 1;
    sqlite3_bind_int64(q, 1, n);
    if (sqlite3_step(q) == SQLITE_ROW)
        leaf = sqlite3_column_int64(q, 0);
    stmt_done(q);
    if ((q = stmt(s, ST_TREE_IN_SUB)) == NULL)
        return 1;
    sqlite3_bind_int64(q, 1, msg);
    sqlite3_bind_int64(q, 2, leaf);
    int on = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
    stmt_done(q);
    return on;
}

int store_msg_activate(store *s, const char *id, int64_t msg) {
    int64_t n;
    int r = tree_find(s, id, msg, &n, NULL);
    if (r || (r = tx_begin(s)) != 0)
        return r;
    if ((r = tree_activate(s, n, msg)) == 0 && (r = tx_commit(s)) == 0)
        return 0;
    tx_rollback(s);
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
    sqlite3_bind_int64(q, 1, msg);
    /* the siblings in order; the one delta places from msg, clamped to the ends */
    int64_t *ids = NULL;
    int n_ids = 0, cap = 0, at = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
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
    stmt_done(q);
    if (rc == SQLITE_DONE) {
        long k = (long)at + delta;
        *out = n_ids == 0 ? msg : ids[k < 0 ? 0 : k >= n_ids ? n_ids - 1 : k];
    }
    free(ids);
    if (rc == SQLITE_NOMEM) {
        set_err(s, "out of memory");
        return STORE_E_NOMEM;
    }
    return rc == SQLITE_DONE ? 0 : sql_err(s, "find siblings");
}

int store_msg_delete(store *s, const char *id, int64_t msg) {
    int64_t n, parent = 0;
    int r = tree_find(s, id, msg, &n, &parent);
    if (r)
        return r;
    if ((r = tx_begin(s)) != 0)
        return r;
    /* does the active path, or the reply being saved, go through it? */
    int64_t hits[2] = {0, s->reply.msg_id};
    sqlite3_stmt *q = stmt(s, ST_MSG_LAST);
    if (!q) {
        r = STORE_E_SQL;
        goto fail;
    }
    sqlite3_bind_int64(q, 1, n);
    if (sqlite3_step(q) == SQLITE_ROW)
        hits[0] = sqlite3_column_int64(q, 0);
    stmt_done(q);
    int in_sub[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (hits[k] <= 0 || !(q = stmt(s, ST_TREE_IN_SUB)))
            continue;
        sqlite3_bind_int64(q, 1, msg);
        sqlite3_bind_int64(q, 2, hits[k]);
        in_sub[k] = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
        stmt_done(q);
    }
    if (!(q = stmt(s, ST_TREE_DELETE))) {
        r = STORE_E_SQL;
        goto fail;
    }
    sqlite3_bind_int64(q, 1, msg);
    if ((r = stmt_exec(s, q, "delete messages")) != 0)
        goto fail;
    int count = sqlite3_changes(s->db);
    if (in_sub[0])
        r = parent > 0 ? tree_activate(s, n, parent) : tree_set_leaf(s, n, 0, 0);
    if (r == 0)
        r = tx_commit(s);
    if (r)
        goto fail;
    if (in_sub[1])
        s->reply.msg_id = 0; /* its reply went with it */
    return count;
fail:
    tx_rollback(s);
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
    sqlite3_bind_int64(q, 1, msg);
    sqlite3_bind_int(q, 2, pinned != 0);
    bind_text(q, 3, id);
    return stmt_exec(s, q, "pin message");
}

/* Inserts one message into conversation n inside the caller's transaction; sets the default
 * title on the first user message. */
static int64_t msg_insert(store *s, int64_t n, const char *role, const char *content,
                          size_t content_len, const char *reasoning, size_t reasoning_len,
                          int64_t parent, const char *model) {
    char now[32];
    now_iso(now, sizeof now);
    int after_leaf = parent == 0; /* under the active path's last message */
    if (parent > 0) {
        int r = tree_msg_check(s, n, parent, NULL);
        if (r)
            return r;
    } else if (parent == 0) {
        sqlite3_stmt *q = stmt(s, ST_MSG_LAST);
        if (!q)
            return STORE_E_SQL;
        sqlite3_bind_int64(q, 1, n);
        int rc = sqlite3_step(q);
        parent = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        stmt_done(q);
        if (rc != SQLITE_ROW)
            return sql_err(s, "find the last message");
    }
    sqlite3_stmt *q = stmt(s, ST_MSG_INSERT);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, n);
    if (parent > 0)
        sqlite3_bind_int64(q, 2, parent);
    else
        sqlite3_bind_null(q, 2);
    bind_text(q, 3, role);
    sqlite3_bind_text(q, 4, content, (int)content_len, SQLITE_TRANSIENT);
    bind_text(q, 5, now);
    bind_text(q, 6, model);
    if (reasoning)
        sqlite3_bind_text(q, 7, reasoning, (int)reasoning_len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 7);
    int r = stmt_exec(s, q, "add message");
    if (r)
        return r;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if ((r = tree_set_leaf(s, n, id, after_leaf)) != 0)
        return r;
    if (!strcmp(role, "user")) {
        char title[4 * TITLE_MAX_CHARS + 8];
        store_title_from_text(content, title, sizeof title);
        q = stmt(s, ST_CONV_AUTOTITLE);
        if (!q)
            return STORE_E_SQL;
        sqlite3_bind_int64(q, 1, n);
        bind_text(q, 2, title);
        if ((r = stmt_exec(s, q, "set title")) != 0)
            return r;
    }
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
    if (!role_ok(role) || !content) {
        set_err(s, "invalid message role '%s'", role ? role : "(null)");
        return STORE_E_INVALID;
    }
    if (content_len > 0x3fffffff || reasoning_len > 0x3fffffff) {
        set_err(s, "message too long");
        return STORE_E_INVALID;
    }
    store_reply_flush(s);
    int r = tx_begin(s);
    if (r)
        return r;
    int64_t n;
    if ((r = conv_n(s, id, &n)) != 0) {
        tx_rollback(s);
        return r;
    }
    int64_t m = msg_insert(s, n, role, content, content_len, reasoning, reasoning_len, parent,
                           NULL);
    if (m > 0 && (r = tx_commit(s)) != 0)
        m = r;
    if (m < 0)
        tx_rollback(s);
    return m;
}

/* ---- streaming replies ---- */

int64_t store_reply_begin(store *s, const char *id, const char *model) {
    return store_reply_begin_at(s, id, model, 0);
}

int64_t store_reply_begin_at(store *s, const char *id, const char *model, int64_t parent) {
    if (s->reply.msg_id) {
        set_err(s, "a reply is already being saved");
        return STORE_E_INVALID;
    }
    int r = tx_begin(s);
    if (r)
        return r;
    int64_t n;
    if ((r = conv_n(s, id, &n)) != 0) {
        tx_rollback(s);
        return r;
    }
    int64_t m = msg_insert(s, n, "assistant", "", 0, NULL, 0, parent, model);
    if (m < 0 || (r = tx_commit(s)) != 0) {
        tx_rollback(s);
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
static void bind_grow(sqlite3_stmt *q, int i, const struct growbuf *g, int null_unused) {
    if (null_unused && !g->used)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, g->buf ? g->buf : "", (int)g->len, SQLITE_STATIC);
}

static int reply_write(store *s) {
    struct reply *rp = &s->reply;
    /* the content (and so its search row) only when it changed */
    sqlite3_stmt *q = stmt(s, rp->text.dirty ? ST_REPLY_UPDATE : ST_REPLY_REASONING);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int64(q, 1, rp->msg_id);
    if (rp->text.dirty) {
        bind_grow(q, 2, &rp->text, 0);
        bind_grow(q, 3, &rp->think, 1);
    } else {
        bind_grow(q, 2, &rp->think, 1);
    }
    int r = stmt_exec(s, q, "save reply");
    rp->last_write_ms = mono_ms();
    if (r == 0)
        rp->text.dirty = rp->think.dirty = 0;
    return r;
}

static int reply_grow(store *s, struct growbuf *g, const char *text, size_t len) {
    struct reply *rp = &s->reply;
    if (!rp->msg_id) {
        set_err(s, "no reply is being saved");
        return STORE_E_INVALID;
    }
    if (len > (size_t)0x3fffffff - g->len) {
        set_err(s, "reply too long");
        return STORE_E_INVALID;
    }
    if (g->len + len + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < g->len + len + 1)
            cap *= 2;
        char *b = realloc(g->buf, cap);
        if (!b) {
            set_err(s, "out of memory");
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
        set_err(s, "no reply is being saved");
        return STORE_E_INVALID;
    }
    char now[32];
    now_iso(now, sizeof now);
    int r = tx_begin(s);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, ST_REPLY_FINISH);
    if (!q) {
        tx_rollback(s);
        return STORE_E_SQL;
    }
    sqlite3_bind_int64(q, 1, rp->msg_id);
    bind_grow(q, 2, &rp->text, 0);
    bind_text(q, 3, reason ? reason : "stop");
    if (st && st->n_tokens >= 0)
        sqlite3_bind_int(q, 4, st->n_tokens);
    if (st && st->prompt_tps >= 0)
        sqlite3_bind_double(q, 5, st->prompt_tps);
    if (st && st->gen_tps >= 0)
        sqlite3_bind_double(q, 6, st->gen_tps);
    bind_grow(q, 7, &rp->think, 1);
    if ((r = stmt_exec(s, q, "finish reply")) == 0) {
        q = stmt(s, ST_CONV_TOUCH);
        if (!q)
            r = STORE_E_SQL;
        else {
            sqlite3_bind_int64(q, 1, rp->conv_n);
            bind_text(q, 2, now);
            r = stmt_exec(s, q, "finish reply");
        }
    }
    if (r == 0)
        r = tx_commit(s);
    if (r) {
        tx_rollback(s);
        return r;
    }
    rp->msg_id = 0;
    rp->text.len = rp->think.len = 0;
    rp->text.dirty = rp->think.dirty = 0;
    return 0;
}

/* ---- search ---- */

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

static sqlite3_stmt *search_bind(store *s, enum stmt_id which, const char *query, int limit) {
    char *fts = search_query(query);
    if (!fts) {
        set_err(s, "out of memory");
        return NULL;
    }
    if (!*fts) {
        free(fts);
        set_err(s, "empty search");
        return NULL;
    }
    store_reply_flush(s);
    sqlite3_stmt *q = stmt(s, which);
    if (q) {
        sqlite3_bind_text(q, 1, fts, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 2, limit > 0 ? limit : 100);
    }
    free(fts);
    return q;
}

int store_search(store *s, const char *query, int limit,
                 int (*fn)(const struct store_hit *h, void *ud), void *ud) {
    sqlite3_stmt *q = search_bind(s, ST_SEARCH, query, limit);
    if (!q)
        return STORE_E_INVALID;
    int rc, r = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_hit h = {
            .id = col(q, 0),
            .title = col(q, 1),
            .role = col(q, 2),
            .msg_id = sqlite3_column_int64(q, 3),
            .snippet = col(q, 4) ? col(q, 4) : "",
            .rank = sqlite3_column_double(q, 5),
            .active = 1,
        };
        if (h.msg_id > 0)
            h.active = tree_on_path(s, h.msg_id);
        if ((r = fn(&h, ud)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = sql_err(s, "search");
    stmt_done(q);
    return r;
}

/* Runs a one-row, one-column query already bound and copies its text into *out. */
static int json_result(store *s, sqlite3_stmt *q, char **out, const char *what) {
    int r = step_row(s, q, what, "nothing to export%s", "");
    *out = NULL;
    if (r == 0 && sqlite3_column_type(q, 0) == SQLITE_NULL) {
        set_err(s, "nothing to export");
        r = STORE_E_NOTFOUND;
    } else if (r == 0 && !(*out = dup_col(q, 0))) {
        set_err(s, "out of memory");
        r = STORE_E_NOMEM;
    }
    stmt_done(q);
    return r;
}

int store_search_json(store *s, const char *query, int limit, char **out) {
    *out = NULL;
    sqlite3_stmt *q = search_bind(s, ST_SEARCH_JSON, query, limit);
    return q ? json_result(s, q, out, "search") : STORE_E_INVALID;
}

int store_list_json(store *s, int flags, char **out) {
    store_reply_flush(s);
    sqlite3_stmt *q = stmt(s, ST_LIST_JSON);
    if (!q)
        return STORE_E_SQL;
    sqlite3_bind_int(q, 1, (flags & STORE_LIST_ARCHIVED) != 0);
    return json_result(s, q, out, "list conversations");
}

/* ---- settings ---- */

int store_setting_get(store *s, const char *key, char *buf, size_t len) {
    sqlite3_stmt *q = stmt(s, ST_SET_GET);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, key);
    int r = step_row(s, q, "read setting", "setting '%s' is not set", key);
    if (r == 0) {
        const char *v = col(q, 0);
        if (!v || (size_t)snprintf(buf, len, "%s", v) >= len) {
            set_err(s, "setting '%s' is too long", key);
            r = STORE_E_INVALID;
        }
    }
    stmt_done(q);
    return r;
}

int store_setting_set(store *s, const char *key, const char *value) {
    sqlite3_stmt *q = stmt(s, value ? ST_SET_PUT : ST_SET_DEL);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, key);
    if (value)
        bind_text(q, 2, value);
    return stmt_exec(s, q, "save setting");
}

/* ---- JSON export ---- */

int store_export_json(store *s, const char *id, char **out) {
    *out = NULL;
    store_reply_flush(s);
    sqlite3_stmt *q = stmt(s, id ? ST_EXPORT_ONE : ST_EXPORT_ALL);
    if (!q)
        return STORE_E_SQL;
    if (id)
        bind_text(q, 1, id);
    int r = json_result(s, q, out, "export");
    if (r == STORE_E_NOTFOUND && id)
        set_err(s, "no conversation '%s'", id);
    return r;
}

/* ---- JSON import ---- */

static int type_is(const unsigned char *t, const char *a, const char *b) {
    return !t || !strcmp((const char *)t, "null") || !strcmp((const char *)t, a) ||
           (b && !strcmp((const char *)t, b));
}

/* Checks the shape of one conversation object (item); reports with name and the message index. */
static int import_check(store *s, const char *name, const char *item, int n_item) {
    char where[64] = "";
    if (n_item >= 0)
        snprintf(where, sizeof where, "conversation %d: ", n_item + 1);
    sqlite3_stmt *q = stmt(s, ST_IMP_CONV);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, item);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        stmt_done(q);
        return sql_err(s, "import");
    }
    const char *bad = NULL;
    const unsigned char *mt = sqlite3_column_text(q, 0);
    if (!mt || strcmp((const char *)mt, "array"))
        bad = "\"messages\" must be an array";
    else if (!type_is(sqlite3_column_text(q, 1), "text", NULL))
        bad = "\"title\" must be a string";
    else if (!type_is(sqlite3_column_text(q, 3), "text", NULL))
        bad = "\"model\" must be a string";
    else if (!type_is(sqlite3_column_text(q, 5), "text", NULL))
        bad = "\"template\" must be a string";
    else if (sqlite3_column_type(q, 7) != SQLITE_NULL && sqlite3_column_type(q, 8) == SQLITE_NULL)
        bad = "\"created\" must be a date and time (2026-11-21T14:34:10.123Z)";
    else if (sqlite3_column_type(q, 9) != SQLITE_NULL && sqlite3_column_type(q, 10) == SQLITE_NULL)
        bad = "\"updated\" must be a date and time (2026-11-21T14:34:10.123Z)";
    else if (!type_is(sqlite3_column_text(q, 11), "object", NULL))
        bad = "\"sampling\" must be an object";
    else if (!type_is(sqlite3_column_text(q, 13), "true", "false"))
        bad = "\"pinned\" must be true or false";
    else if (!type_is(sqlite3_column_text(q, 14), "true", "false"))
        bad = "\"archived\" must be true or false";
    else if (sqlite3_column_int(q, 19) & JSON_TEXT_NUL)
        bad = "\"title\", \"model\", \"template\" and \"id\" cannot hold a NUL byte (U+0000)";
    else if (sqlite3_column_int(q, 17) && (sqlite3_column_int(q, 20) & JSON_TEXT_NUL))
        bad = "message 1: a system prompt cannot hold a NUL byte (U+0000)";
    int n_bad_utf8 = (sqlite3_column_int(q, 19) & JSON_TEXT_BAD_UTF8) != 0;
    int lead = sqlite3_column_int(q, 17);
    long long n_msgs = sqlite3_column_int64(q, 23) - lead, leaf = sqlite3_column_int64(q, 22);
    if (!bad && (!type_is(sqlite3_column_text(q, 21), "integer", NULL) ||
                 (sqlite3_column_type(q, 22) != SQLITE_NULL && (leaf < 1 || leaf > n_msgs))))
        bad = "\"leaf\" must be the number of one of its messages";
    stmt_done(q);
    if (bad) {
        set_err(s, "%s: %s%s", name, where, bad);
        return STORE_E_INVALID;
    }
    q = stmt(s, ST_IMP_MSGS);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, item);
    long long key = 0;
    char first_bad[96] = ""; /* where invalid UTF-8 was first replaced */
    if (n_bad_utf8)
        snprintf(first_bad, sizeof first_bad, "%sthe title, model, template or id", where);
    while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        key = sqlite3_column_int64(q, 0);
        const char *role = (const char *)sqlite3_column_text(q, 3);
        const unsigned char *ct = sqlite3_column_text(q, 4);
        if (strcmp((const char *)sqlite3_column_text(q, 1), "object"))
            bad = "must be an object";
        else if (!sqlite3_column_text(q, 2) || strcmp((const char *)sqlite3_column_text(q, 2), "text") ||
                 !role_ok(role))
            bad = "\"role\" must be \"system\", \"user\", \"assistant\" or \"tool\"";
        else if (!ct || strcmp((const char *)ct, "text"))
            bad = "\"content\" must be a string";
        else if (sqlite3_column_type(q, 5) != SQLITE_NULL &&
                 strcmp((const char *)sqlite3_column_text(q, 5), "null") &&
                 sqlite3_column_type(q, 6) == SQLITE_NULL)
            bad = "\"created\" must be a date and time (2026-11-21T14:34:10.123Z)";
        else if (!type_is(sqlite3_column_text(q, 7), "text", NULL))
            bad = "\"model\" must be a string";
        else if (!type_is(sqlite3_column_text(q, 8), "integer", NULL))
            bad = "\"tokens\" must be a 64-bit integer";
        else if (!type_is(sqlite3_column_text(q, 9), "real", "integer"))
            bad = "\"prompt_tps\" must be a number below 1e300";
        else if (!type_is(sqlite3_column_text(q, 10), "real", "integer"))
            bad = "\"gen_tps\" must be a number below 1e300";
        else if (!type_is(sqlite3_column_text(q, 11), "text", NULL))
            bad = "\"finish\" must be a string";
        else if (!type_is(sqlite3_column_text(q, 12), "text", NULL))
            bad = "\"reasoning_content\" must be a string";
        else if (sqlite3_column_int(q, 14) & JSON_TEXT_NUL)
            bad = "\"role\", \"model\" and \"finish\" cannot hold a NUL byte (U+0000)";
        else if (!type_is(sqlite3_column_text(q, 19), "true", "false"))
            bad = "\"pinned\" must be true or false";
        else if (key >= lead) { /* the tree: "id" is the message's number, "parent" an earlier
                                 * one's (0: a root) */
            long long k = key + 1 - lead;
            if (!type_is(sqlite3_column_text(q, 15), "integer", NULL) ||
                (sqlite3_column_type(q, 16) != SQLITE_NULL && sqlite3_column_int64(q, 16) != k))
                bad = "\"id\" must be the message's number (1 for the first after the system "
                      "prompt)";
            else if (!type_is(sqlite3_column_text(q, 17), "integer", NULL) ||
                     (sqlite3_column_type(q, 18) != SQLITE_NULL &&
                      (sqlite3_column_int64(q, 18) < 0 || sqlite3_column_int64(q, 18) >= k)))
                bad = "\"parent\" must be the number of an earlier message, or 0";
        }
        if (!bad && ((sqlite3_column_int(q, 13) | sqlite3_column_int(q, 14)) & JSON_TEXT_BAD_UTF8)) {
            if (!n_bad_utf8++)
                snprintf(first_bad, sizeof first_bad, "%smessage %lld", where, key + 1);
        }
    }
    stmt_done(q);
    if (bad) {
        set_err(s, "%s: %smessage %lld: %s", name, where, key + 1, bad);
        return STORE_E_INVALID;
    }
    if (rc != SQLITE_DONE)
        return sql_err(s, "import");
    if (n_bad_utf8 && !s->notice[0])
        snprintf(s->notice, sizeof s->notice, "%s: %s%s: invalid UTF-8 replaced with U+FFFD",
                 name, first_bad, n_bad_utf8 > 1 ? " and others" : "");
    return 0;
}

/* Inserts one checked conversation object. */
static int import_one(store *s, const char *item, char *id_out, int *n_msgs) {
    sqlite3_stmt *q = stmt(s, ST_IMP_CONV);
    if (!q)
        return STORE_E_SQL;
    bind_text(q, 1, item);
    if (sqlite3_step(q) != SQLITE_ROW) {
        stmt_done(q);
        return sql_err(s, "import");
    }
    char now[32];
    now_iso(now, sizeof now);
    char *title = dup_col(q, 2), *model = dup_col(q, 4), *tmpl = dup_col(q, 6);
    char *created = dup_col(q, 8), *updated = dup_col(q, 10), *sampling = dup_col(q, 12);
    char *want_id = dup_col(q, 16), *system = NULL;
    const unsigned char *pt = sqlite3_column_text(q, 13), *at = sqlite3_column_text(q, 14);
    int pinned = pt && !strcmp((const char *)pt, "true");
    int archived = at && !strcmp((const char *)at, "true");
    int lead_system = sqlite3_column_int(q, 17);
    if (lead_system)
        system = dup_col(q, 18);
    int64_t leaf = sqlite3_column_type(q, 22) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 22);
    stmt_done(q);

    int64_t n = 0;
    struct store_conv_params p = {
        .title = title, .model = model, .template_name = tmpl, .system_prompt = system,
        .sampling = sampling,
    };
    int r = 0;
    /* keep the exported id when it is well-formed and free (an exact round trip) */
    int keep = want_id && strlen(want_id) == STORE_ID_LEN &&
               strspn(want_id, "0123456789abcdef") == STORE_ID_LEN;
    if (keep && (q = stmt(s, ST_IMP_ID_FREE)) != NULL) {
        bind_text(q, 1, want_id);
        keep = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
        stmt_done(q);
    }
    r = conv_insert(s, &p, created ? created : now, keep ? want_id : NULL, id_out, &n);
    int64_t base = 0; /* the id of its first message */
    if (r == 0 && (q = stmt(s, ST_IMP_BASE)) != NULL) {
        r = step_row(s, q, "import messages", "import%s", "");
        base = sqlite3_column_int64(q, 0);
        stmt_done(q);
    } else if (r == 0)
        r = STORE_E_SQL;
    if (r == 0 && (q = stmt(s, ST_IMP_INSERT)) != NULL) {
        bind_text(q, 1, item);
        sqlite3_bind_int64(q, 2, n);
        bind_text(q, 3, now);
        sqlite3_bind_int(q, 4, lead_system ? 1 : 0);
        sqlite3_bind_int64(q, 5, base);
        r = stmt_exec(s, q, "import messages");
        *n_msgs = sqlite3_changes(s->db);
    } else if (r == 0)
        r = STORE_E_SQL;
    if (r == 0) /* the active path: its "leaf", else the last message */
        r = tree_set_leaf(s, n, *n_msgs ? base + (leaf ? leaf : *n_msgs) - 1 : 0, 0);
    if (r == 0 && !(title && *title) && (q = stmt(s, ST_IMP_FIRST_USER)) != NULL) {
        sqlite3_bind_int64(q, 1, n);
        char t[4 * TITLE_MAX_CHARS + 8] = "";
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            store_title_from_text(col(q, 0), t, sizeof t);
        stmt_done(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            r = sql_err(s, "import");
        else if (*t && (q = stmt(s, ST_CONV_AUTOTITLE)) != NULL) {
            sqlite3_bind_int64(q, 1, n);
            bind_text(q, 2, t);
            r = stmt_exec(s, q, "import");
        }
    }
    if (r == 0 && (q = stmt(s, ST_IMP_FINISH)) != NULL) {
        sqlite3_bind_int64(q, 1, n);
        bind_text(q, 2, updated);
        sqlite3_bind_int(q, 3, pinned);
        sqlite3_bind_int(q, 4, archived);
        r = stmt_exec(s, q, "import");
    } else if (r == 0)
        r = STORE_E_SQL;
    free(title);
    free(model);
    free(tmpl);
    free(created);
    free(updated);
    free(sampling);
    free(want_id);
    free(system);
    return r;
}

struct import_item {
    char *json;
};

int store_import_json(store *s, const char *name, const char *json, size_t len,
                      void (*fn)(const char *id, int n_messages, void *ud), void *ud) {
    if (len > 0x3fffffff) {
        set_err(s, "%s: too large to import", name);
        return STORE_E_INVALID;
    }
    /* SQLite's JSON functions see only text that passed the strict check (json_syntax.h) */
    char bad[96];
    if (json_syntax_error(json, len, bad, sizeof bad)) {
        set_err(s, "%s: %s", name, bad);
        return STORE_E_INVALID;
    }
    const char top = json_syntax_top(json, len);
    if (top != '{' && top != '[') {
        set_err(s, "%s: expected a conversation object or an array of messages", name);
        return STORE_E_INVALID;
    }
    sqlite3_stmt *q;
    int rc, is_list = 0;
    if (top == '[') {
        if (!(q = stmt(s, ST_IMP_IS_LIST)))
            return STORE_E_SQL;
        sqlite3_bind_text(q, 1, json, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(q);
        is_list = rc == SQLITE_ROW && sqlite3_column_int(q, 0);
        stmt_done(q);
        if (rc != SQLITE_ROW)
            return sql_err(s, "import");
    }
    /* collect the conversation objects, then check them all before writing anything */
    struct import_item *items = NULL;
    int n_items = 0, cap = 0, r = 0;
    if (!(q = stmt(s, ST_IMP_ITEMS)))
        return STORE_E_SQL;
    sqlite3_bind_text(q, 1, json, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, is_list);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n_items == cap) {
            cap = cap ? 2 * cap : 8;
            struct import_item *g = realloc(items, (size_t)cap * sizeof *items);
            if (!g) {
                r = STORE_E_NOMEM;
                break;
            }
            items = g;
        }
        if (!(items[n_items].json = dup_col(q, 0))) {
            r = STORE_E_NOMEM;
            break;
        }
        n_items++;
    }
    stmt_done(q);
    if (r == STORE_E_NOMEM)
        set_err(s, "out of memory");
    else if (rc != SQLITE_DONE)
        r = sql_err(s, "import");
    s->notice[0] = 0;
    for (int i = 0; r == 0 && i < n_items; i++)
        r = import_check(s, name, items[i].json, is_list ? i : -1);
    char (*ids)[STORE_ID_LEN + 1] = NULL;
    int *counts = NULL;
    if (r == 0 && n_items) {
        ids = calloc((size_t)n_items, sizeof *ids);
        counts = calloc((size_t)n_items, sizeof *counts);
        if (!ids || !counts) {
            set_err(s, "out of memory");
            r = STORE_E_NOMEM;
        }
    }
    if (r == 0 && (r = tx_begin(s)) == 0) {
        for (int i = 0; r == 0 && i < n_items; i++)
            r = import_one(s, items[i].json, ids[i], &counts[i]);
        if (r == 0)
            r = tx_commit(s);
        if (r)
            tx_rollback(s);
    }
    if (r == 0 && fn)
        for (int i = 0; i < n_items; i++)
            fn(ids[i], counts[i], ud);
    for (int i = 0; i < n_items; i++)
        free(items[i].json);
    free(items);
    free(ids);
    free(counts);
    return r;
}

/* ---- JSON for callers (through SQLite's json_object, never by hand) ---- */

int store_json_object(store *s, const struct store_json_field *f, int n, char **out) {
    *out = NULL;
    if (n < 1 || n > 32) {
        set_err(s, "json object: %d fields (1 to 32)", n);
        return STORE_E_INVALID;
    }
    char sql[32 + 4 * 32] = "SELECT json_object(";
    size_t len = strlen(sql);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s?,?", i ? "," : "");
    snprintf(sql + len, sizeof sql - len, ")");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_err(s, "json object");
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(st, 2 * i + 1, f[i].key, -1, SQLITE_STATIC);
        if (f[i].is_int)
            sqlite3_bind_int64(st, 2 * i + 2, f[i].i);
        else if (isfinite(f[i].d))
            sqlite3_bind_double(st, 2 * i + 2, f[i].d);
        else
            sqlite3_bind_null(st, 2 * i + 2); /* JSON has no NaN or infinity */
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        *out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return sql_err(s, "json object");
    return *out ? STORE_OK : STORE_E_NOMEM;
}
