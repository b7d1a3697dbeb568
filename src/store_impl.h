/* src/store_impl.h — what the store's modules share and nothing outside src/store*.c may
 * include: the handle, the prepared statements (each module owns the SQL of its own ids and
 * prepares it through store_stmt), and the helpers every module writes through.
 *
 * Errors (the convention of src/, as in engine.h): a function returns 0 (or a count / id >= 0)
 * or a negative STORE_E_* code, and the handle's one-line detail (store_errmsg) says why; the
 * helpers below set it, so a module returns their code unchanged. Every bind, step and
 * finalize goes through them: a failed bind makes the next store_step fail with its error.
 * Main thread only, as the store. */
#ifndef NATTER_STORE_IMPL_H
#define NATTER_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "store.h"

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
    ST_SEARCH, ST_SEARCH_JSON, ST_SEARCH_SCAN, ST_SEARCH_SCAN_JSON, ST_LIST_JSON, ST_EXPORT_ONE, ST_EXPORT_ALL,
    ST_SET_GET, ST_SET_PUT, ST_SET_DEL,
    ST_IMP_IS_LIST, ST_IMP_ITEMS, ST_IMP_CONV, ST_IMP_MSGS, ST_IMP_ID_FREE, ST_IMP_INSERT, ST_IMP_CHOSEN,
    ST_IMP_BASE, ST_IMP_FIRST_USER, ST_IMP_FINISH,
    ST_COUNT
};

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
    int bind_rc;      /* a failed bind's code, returned by the next store_step */
    int step_io;      /* the last store_step failed store_file_check (its detail set) */
    char step_msg[128]; /* why the last store_step failed when SQLite did not say */
    int fault_nth, fault_code, fault_sticky; /* store_test_fault */
};

#define STORE_APP_ID 0x4e415452 /* "NATR" in PRAGMA application_id */

/* The default title's length in characters (store_title_from_text). */
#define TITLE_MAX_CHARS 60

/* ---- the connection (store.c) ---- */

/* Sets the one-line detail (printf format). */
void store_set_err(store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the message for a failed call (SQLite's, or the bind or fault store_step met) ("PATH: what: SQLite's text"); returns STORE_E_SQL. */
int store_sql_err(store *s, const char *what);
/* Statement id of the caller's module, prepared from sql on first use and kept until close;
 * NULL (detail set) when SQLite refuses it. */
sqlite3_stmt *store_stmt(store *s, enum stmt_id id, const char *sql);
/* Resets q and clears its bindings (accepts NULL). */
void store_stmt_done(store *s, sqlite3_stmt *q);
/* Binds; a failure is kept and makes the next store_step return it. store_bind_text copies
 * (NULL binds NULL); store_bind_text_len binds n bytes (NUL bytes included) without a copy:
 * they must stay until store_stmt_done. */
void store_bind_text(store *s, sqlite3_stmt *q, int i, const char *t);
void store_bind_text_len(store *s, sqlite3_stmt *q, int i, const char *t, size_t n);
void store_bind_int(store *s, sqlite3_stmt *q, int i, int v);
void store_bind_int64(store *s, sqlite3_stmt *q, int i, int64_t v);
void store_bind_double(store *s, sqlite3_stmt *q, int i, double v);
void store_bind_null(store *s, sqlite3_stmt *q, int i);
/* sqlite3_step, or the pending bind error; before a statement that writes, the file check
 * (STORE_E_IO's case is reported as SQLITE_IOERR with the detail set). */
int store_step(store *s, sqlite3_stmt *q);
/* Before a write: the file at the path is still the one opened and writable (STORE_E_IO). */
int store_file_check(store *s);
/* Steps q to its end; 0 or the error (STORE_E_SQL / STORE_E_IO); q is reset. */
int store_exec(store *s, sqlite3_stmt *q, const char *what);
/* Steps a query that should give one row: 0 with q on it; none: STORE_E_NOTFOUND with the
 * detail missing_fmt (one %s: arg); else SQLite's error. */
int store_step_row(store *s, sqlite3_stmt *q, const char *what, const char *missing_fmt,
                   const char *arg);
/* One write transaction (BEGIN IMMEDIATE); rollback is a no-op when SQLite already rolled back. */
int store_tx_begin(store *s);
/* store_tx_begin, then conversation id's key into *n; on failure nothing is left open. */
int store_tx_begin_conv(store *s, const char *id, int64_t *n);
int store_tx_commit(store *s);
void store_tx_rollback(store *s);
/* A one-row, one-column query, already bound, whose text is copied into *out (caller frees);
 * STORE_E_NOTFOUND when it is NULL. q is reset. */
int store_json_result(store *s, sqlite3_stmt *q, char **out, const char *what);
/* Now as ISO 8601 UTC with milliseconds into buf (>= 25 bytes). */
void store_now_iso(char *buf, size_t len);
/* Column i as an owned copy (NULL for NULL or out of memory) / borrowed until the next step. */
char *store_dup_col(sqlite3_stmt *q, int i);
char *store_col(sqlite3_stmt *q, int i);

/* ---- schema (store_schema.c) ---- */

/* Refuses a file that exists but is not an SQLite database, before SQLite may write to it;
 * *exists says whether there is a file. The detail goes to err. */
int store_schema_check_header(const char *path, int *exists, char *err, size_t err_len);
/* One integer from a query ("PRAGMA user_version"); SQLite's result code. */
int store_schema_query_int(sqlite3 *db, const char *sql, int64_t *v);
/* Runs the forward migrations from the file's user_version in one write transaction. */
int store_schema_migrate(store *s);

/* ---- conversations (store_conv.c) ---- */

/* The integer key of conversation id; STORE_E_NOTFOUND when there is none. */
int store_conv_n(store *s, const char *id, int64_t *n);
/* Inserts a conversation row, with want_id when given (else a fresh random id, retried on a
 * collision); its id into id_out, its key into *n_out (may be NULL). */
int store_conv_insert(store *s, const struct store_conv_params *p, const char *created,
                      const char *want_id, char *id_out, int64_t *n_out);
/* Titles conversation n after the len bytes of text (its first user message) unless it has a
 * title. */
int store_conv_autotitle(store *s, int64_t n, const char *text, size_t len);

/* ---- messages (store_msg.c) ---- */

int store_role_ok(const char *role);
/* Inserts one message into conversation n inside the caller's transaction (parent as
 * store_msg_add's); returns its id or an error. */
int64_t store_msg_insert(store *s, int64_t n, const char *role, const char *content,
                         size_t content_len, const char *reasoning, size_t reasoning_len,
                         int64_t parent, const char *model);
/* Makes leaf the end of conversation n's active path (0: the newest message). */
int store_tree_set_leaf(store *s, int64_t n, int64_t leaf, int parent_on_path);
/* 1 when msg is on its conversation's active path, 0 when not, or an error. */
int store_tree_on_path(store *s, int64_t msg);

/* ---- search (store_search.c) ---- */

/* Registers natter_search_count and natter_search_snippet on db; SQLite's code. */
int store_search_register(sqlite3 *db);

/* ---- import / export (store_io.c) ---- */

/* Registers natter_json_ok, natter_text and natter_text_flags on db; SQLite's code. */
int store_io_register(sqlite3 *db);

#endif
