/* src/store.c — the store's connection (store.h): opening with checks before any write, the
 * prepared statements kept per connection, the checked bind/step/transaction helpers every
 * store module writes through (store_impl.h), the test hook that makes writes fail, settings.
 * The other rooms: store_schema.c (header check, migrations), store_conv.c, store_msg.c,
 * store_reply.c, store_search.c, store_io.c (export/import). Main thread; errors as store.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "paths.h"
#include "store_impl.h"

#define STORE_BUSY_MS 5000

static const char *const sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SET_GET] = "SELECT value FROM settings WHERE key = ?1",
    [ST_SET_PUT] = "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_SET_DEL] = "DELETE FROM settings WHERE key = ?1",
};

static sqlite3_stmt *stmt(store *s, enum stmt_id id) { return store_stmt(s, id, sql[id]); }

/* ---- errors ---- */

void store_set_err(store *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

int store_sql_err(store *s, const char *what) {
    if (s->step_io) { /* store_file_check's detail stands */
        s->step_io = 0;
        return STORE_E_IO;
    }
    const char *why = s->step_msg[0] ? s->step_msg : sqlite3_errmsg(s->db);
    store_set_err(s, "%s: %s: %s", s->path, what, why);
    s->step_msg[0] = 0;
    return STORE_E_SQL;
}

/* ---- statements ---- */

sqlite3_stmt *store_stmt(store *s, enum stmt_id id, const char *text) {
    if (!s->st[id]) {
        if (!text) { /* an id of another module: it must go through that module */
            store_set_err(s, "%s: statement %d used outside its module", s->path, (int)id);
            return NULL;
        }
        if (sqlite3_prepare_v3(s->db, text, -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL) !=
            SQLITE_OK) {
            store_sql_err(s, "prepare");
            s->st[id] = NULL;
            return NULL;
        }
    }
    return s->st[id];
}

void store_stmt_done(store *s, sqlite3_stmt *q) {
    if (q) {
        sqlite3_reset(q); /* repeats the last step's error, already reported */
        sqlite3_clear_bindings(q);
    }
    s->bind_rc = 0;
}

static void bind_rc(store *s, int rc) {
    if (rc != SQLITE_OK && s->bind_rc == 0)
        s->bind_rc = rc;
}

void store_bind_text(store *s, sqlite3_stmt *q, int i, const char *t) {
    bind_rc(s, t ? sqlite3_bind_text(q, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(q, i));
}
void store_bind_text_len(store *s, sqlite3_stmt *q, int i, const char *t, size_t n) {
    bind_rc(s, n > 0x7fffffff ? SQLITE_TOOBIG
                              : sqlite3_bind_text(q, i, t, (int)n, SQLITE_STATIC));
}
void store_bind_int(store *s, sqlite3_stmt *q, int i, int v) {
    bind_rc(s, sqlite3_bind_int(q, i, v));
}
void store_bind_int64(store *s, sqlite3_stmt *q, int i, int64_t v) {
    bind_rc(s, sqlite3_bind_int64(q, i, v));
}
void store_bind_double(store *s, sqlite3_stmt *q, int i, double v) {
    bind_rc(s, sqlite3_bind_double(q, i, v));
}
void store_bind_null(store *s, sqlite3_stmt *q, int i) { bind_rc(s, sqlite3_bind_null(q, i)); }

/* The test hook (store.h): is this write the one that fails? */
static int fault_hit(store *s) {
    if (s->fault_nth <= 0)
        return 0;
    if (--s->fault_nth > 0)
        return 0;
    if (s->fault_sticky)
        s->fault_nth = 1; /* a full disk stays full */
    return 1;
}

int store_step(store *s, sqlite3_stmt *q) {
    s->step_io = 0;
    s->step_msg[0] = 0;
    if (s->bind_rc) {
        int rc = s->bind_rc;
        s->bind_rc = 0;
        snprintf(s->step_msg, sizeof s->step_msg, "bind: %s", sqlite3_errstr(rc));
        return rc;
    }
    if (!sqlite3_stmt_readonly(q)) {
        if (store_file_check(s) != 0) {
            s->step_io = 1;
            return SQLITE_IOERR;
        }
        if (fault_hit(s)) {
            snprintf(s->step_msg, sizeof s->step_msg, "%s", sqlite3_errstr(s->fault_code));
            return s->fault_code;
        }
    }
    return sqlite3_step(q);
}

void store_test_fault(store *s, int nth, int code, int sticky) {
    s->fault_nth = nth;
    s->fault_code = code ? code : SQLITE_FULL;
    s->fault_sticky = sticky;
}

/* Before a write: the file at the path must still be the database opened and writable.
 * SQLite writes through the descriptors it opened, so after the file was removed or another
 * one moved over it, a write would go into the old inode and be lost unseen; a file made
 * read-only is refused too (root could still write it). One stat(); STORE_E_IO with the
 * reason, nothing written. */
int store_file_check(store *s) {
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
         * A checkpoint writes them into our own (old) file and empties the -wal; if that
         * fails too there is nothing more to do than say the file is gone. */
        s->detached = 1;
        (void)sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    store_set_err(s, "%s %s since natter opened it: nothing more is saved there", s->path, why);
    return STORE_E_IO;
}

int store_exec(store *s, sqlite3_stmt *q, const char *what) {
    int rc;
    while ((rc = store_step(s, q)) == SQLITE_ROW) {
    }
    int r = rc == SQLITE_DONE ? 0 : store_sql_err(s, what);
    store_stmt_done(s, q);
    return r;
}

int store_step_row(store *s, sqlite3_stmt *q, const char *what, const char *missing_fmt,
                   const char *arg) {
    int rc = store_step(s, q);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return store_sql_err(s, what);
    store_set_err(s, missing_fmt, arg);
    return STORE_E_NOTFOUND;
}

/* ---- transactions ---- */

int store_tx_begin(store *s) {
    int r = store_file_check(s);
    if (r)
        return r;
    sqlite3_stmt *q = stmt(s, ST_BEGIN);
    return q ? store_exec(s, q, "begin") : STORE_E_SQL;
}

int store_tx_begin_conv(store *s, const char *id, int64_t *n) {
    int r = store_tx_begin(s);
    if (r == 0 && (r = store_conv_n(s, id, n)) != 0)
        store_tx_rollback(s);
    return r;
}

int store_tx_commit(store *s) {
    sqlite3_stmt *q = stmt(s, ST_COMMIT);
    return q ? store_exec(s, q, "commit") : STORE_E_SQL;
}

void store_tx_rollback(store *s) {
    if (sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back */
    sqlite3_stmt *q = stmt(s, ST_ROLLBACK);
    char keep[sizeof s->err]; /* the error that made us roll back is the one to report */
    memcpy(keep, s->err, sizeof keep);
    if (q && store_exec(s, q, "rollback") != 0 && !sqlite3_get_autocommit(s->db))
        /* still in the transaction: nothing of it is committed; the next BEGIN says so */
        snprintf(keep + strlen(keep), sizeof keep - strlen(keep), " (and rollback failed)");
    memcpy(s->err, keep, sizeof keep);
}

/* ---- small helpers ---- */

void store_now_iso(char *buf, size_t len) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

char *store_dup_col(sqlite3_stmt *q, int i) {
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

char *store_col(sqlite3_stmt *q, int i) { return (char *)sqlite3_column_text(q, i); }

/* ---- open / close ---- */

int store_open(const char *path, store **out, char *err, size_t err_len) {
    char dummy[8];
    if (!err) {
        err = dummy;
        err_len = sizeof dummy;
    }
    *out = NULL;
    err[0] = 0;
    int exists, r = store_schema_check_header(path, &exists, err, err_len);
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
    if (store_io_register(s->db) != SQLITE_OK || store_search_register(s->db) != SQLITE_OK) {
        snprintf(err, err_len, "%s: %s", path, sqlite3_errmsg(s->db));
        store_close(s);
        return STORE_E_SQL;
    }

    /* Look before writing anything: readable schema, our application, not newer than us. */
    int64_t version = 0, app = 0, n_objects = 0;
    int rc = store_schema_query_int(s->db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = store_schema_query_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = store_schema_query_int(s->db, "SELECT count(*) FROM sqlite_schema", &n_objects);
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
        if (store_step(s, q) == SQLITE_ROW && sqlite3_column_text(q, 0))
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
        r = store_schema_migrate(s);
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

int store_json_result(store *s, sqlite3_stmt *q, char **out, const char *what) {
    int r = store_step_row(s, q, what, "nothing to export%s", "");
    *out = NULL;
    if (r == 0 && sqlite3_column_type(q, 0) == SQLITE_NULL) {
        store_set_err(s, "nothing to export");
        r = STORE_E_NOTFOUND;
    } else if (r == 0 && !(*out = store_dup_col(q, 0))) {
        store_set_err(s, "out of memory");
        r = STORE_E_NOMEM;
    }
    store_stmt_done(s, q);
    return r;
}

int store_setting_get(store *s, const char *key, char *buf, size_t len) {
    sqlite3_stmt *q = stmt(s, ST_SET_GET);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, key);
    int r = store_step_row(s, q, "read setting", "setting '%s' is not set", key);
    if (r == 0) {
        const char *v = store_col(q, 0);
        if (!v || (size_t)snprintf(buf, len, "%s", v) >= len) {
            store_set_err(s, "setting '%s' is too long", key);
            r = STORE_E_INVALID;
        }
    }
    store_stmt_done(s, q);
    return r;
}

int store_setting_set(store *s, const char *key, const char *value) {
    sqlite3_stmt *q = stmt(s, value ? ST_SET_PUT : ST_SET_DEL);
    if (!q)
        return STORE_E_SQL;
    store_bind_text(s, q, 1, key);
    if (value)
        store_bind_text(s, q, 2, value);
    return store_exec(s, q, "save setting");
}
