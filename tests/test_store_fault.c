/* tests/test_store_fault.c — fault injection in SQLite's spirit: for n = 1, 2, ... the nth
 * write the store makes fails (store_test_fault), once or from then on (a full disk), during a
 * streaming reply, a message, an import and an export; each time the error reaches the caller
 * as a negative code with a one-line message, and what was saved before is exactly as it was
 * (compared with a dump of the database taken before). The loop ends when the operation no
 * longer reaches its nth write, i.e. succeeds with the fault armed and unused. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store.h"
#include "store_test.h"

#define FAULT_MAX 64 /* no operation here makes more writes than this */

/* Every row of the conversations and messages tables as one text (the state to compare). */
static char *sf_dump(const char *path) {
    sqlite3 *db = NULL;
    char *out = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q = NULL;
        const char *sql =
            "SELECT group_concat(x, char(10)) FROM (SELECT json_array(id, title, updated, model, "
            "system_prompt, pinned, archived, leaf) AS x FROM conversations UNION ALL SELECT "
            "json_array(id, conv, parent, role, content, finish, tokens, reasoning_content, "
            "chosen) FROM messages UNION ALL SELECT json_array(rowid, text) FROM search)";
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(q, 0);
            out = strdup(t ? t : "");
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return out;
}

static int sf_one_line(const char *m) { return m && *m && !strchr(m, '\n'); }

/* A database with one conversation of two messages; its id into id. */
static store *sf_setup(const char *path, char *id) {
    remove(path);
    store *s = store_test_open(path);
    if (s && (store_conv_new(s, NULL, id) != 0 || store_msg_add(s, id, "user", "hello", 0) <= 0 ||
              store_msg_add(s, id, "assistant", "hi there", 0) <= 0)) {
        store_close(s);
        return NULL;
    }
    return s;
}

/* A message added under a failing nth write: an error and nothing changed, or success. */
TEST(store_fault_msg_add_nth_write) {
    const char *path = store_test_path("f.db");
    char id[STORE_ID_LEN + 1];
    int n;
    for (n = 1; n <= FAULT_MAX; n++) {
        store *s = sf_setup(path, id);
        CHECK(s != NULL);
        char *before = sf_dump(path);
        store_test_fault(s, n, 0, 0);
        int64_t r = store_msg_add(s, id, "user", "a question", 0);
        store_test_fault(s, 0, 0, 0);
        if (r > 0) {
            store_close(s);
            free(before);
            break;
        }
        CHECK_MSG(r == STORE_E_SQL, "write %d: code %lld", n, (long long)r);
        CHECK_MSG(sf_one_line(store_errmsg(s)), "write %d: message [%s]", n, store_errmsg(s));
        CHECK_MSG(strstr(store_errmsg(s), "database or disk is full") != NULL, "[%s]",
                  store_errmsg(s));
        char *after = sf_dump(path);
        CHECK_MSG(after && !strcmp(before, after), "write %d changed the database", n);
        /* the same call works once the disk has room */
        CHECK(store_msg_add(s, id, "user", "a question", 0) > 0);
        free(before);
        free(after);
        store_close(s);
    }
    CHECK_MSG(n > 1 && n <= FAULT_MAX, "the loop ended at write %d", n);
}

struct sf_last {
    char content[256];
    const char *finish;
    int have_finish;
};

static int sf_last_msg(const struct store_msg *m, void *ud) {
    struct sf_last *l = ud;
    snprintf(l->content, sizeof l->content, "%s", m->content);
    l->have_finish = m->finish != NULL;
    return 0;
}

/* A streaming reply on a disk that fills at its nth write (the flush, the finish's update or
 * its touch of the conversation): the failing call reports it, the text saved before stays, and once there is room the same reply is saved whole (nothing to type again). */
TEST(store_fault_reply_full_disk_retry) {
    const char *path = store_test_path("r.db");
    char id[STORE_ID_LEN + 1];
    for (int n = 1; n <= 3; n++) {
        store *s = sf_setup(path, id);
        CHECK(s != NULL);
        CHECK(store_reply_begin(s, id, "m.gguf") > 0);
        CHECK_EQ_INT(store_reply_append(s, "Once upon", 9), 0);
        CHECK_EQ_INT(store_reply_flush(s), 0);
        store_test_fault(s, n, SQLITE_FULL, 1); /* full from the nth write on */
        CHECK_EQ_INT(store_reply_append(s, " a time", 7) <= 0, 1);
        /* the flush is one write: it fails when n is 1, else the finish's nth write does */
        CHECK_EQ_INT(store_reply_flush(s), n == 1 ? STORE_E_SQL : 0);
        char *before = sf_dump(path);
        struct store_reply_stats st = {12, 100.0, 50.0};
        CHECK(store_reply_finish(s, "stop", &st) < 0);
        CHECK(sf_one_line(store_errmsg(s)));
        CHECK(strstr(store_errmsg(s), "database or disk is full") != NULL);
        /* a read meanwhile flushes first (when there is text to flush) and reports it */
        struct sf_last last = {"", NULL, 0};
        CHECK_EQ_INT(store_msg_each(s, id, sf_last_msg, &last), n == 1 ? STORE_E_SQL : 0);
        char *after = sf_dump(path);
        CHECK_MSG(after && !strcmp(before, after), "fault %d: the saved text changed", n);
        CHECK(store_reply_active(s));
        /* room again: the same reply finishes, whole */
        store_test_fault(s, 0, 0, 0);
        CHECK_EQ_INT(store_reply_finish(s, "stop", &st), 0);
        store_close(s);
        s = store_test_open(path);
        CHECK(s != NULL);
        CHECK_EQ_INT(store_msg_each(s, id, sf_last_msg, &last), 0);
        CHECK_STR_EQ(last.content, "Once upon a time");
        CHECK(last.have_finish);
        store_close(s);
        free(before);
        free(after);
    }
}

/* An import of three conversations fails at its nth write: nothing of it is written. */
TEST(store_fault_import_nth_write) {
    const char *path = store_test_path("i.db");
    static const char json[] =
        "[{\"natter\":1,\"title\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]},"
        "{\"natter\":1,\"title\":\"b\",\"messages\":[{\"role\":\"user\",\"content\":\"two\"},"
        "{\"role\":\"assistant\",\"content\":\"deux\"}]},"
        "{\"natter\":1,\"title\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":\"three\"}]}]";
    char id[STORE_ID_LEN + 1];
    int n;
    for (n = 1; n <= FAULT_MAX; n++) {
        store *s = sf_setup(path, id);
        CHECK(s != NULL);
        char *before = sf_dump(path);
        store_test_fault(s, n, SQLITE_IOERR, 0);
        int r = store_import_json(s, "x.json", json, sizeof json - 1, NULL, NULL);
        store_test_fault(s, 0, 0, 0);
        if (r == 0) {
            CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM conversations"), 4);
            store_close(s);
            free(before);
            break;
        }
        CHECK_MSG(r == STORE_E_SQL, "write %d: code %d", n, r);
        CHECK(sf_one_line(store_errmsg(s)));
        char *after = sf_dump(path);
        CHECK_MSG(after && !strcmp(before, after), "write %d: a part of the import was kept", n);
        free(before);
        free(after);
        store_close(s);
    }
    CHECK_MSG(n > 4 && n <= FAULT_MAX, "the loop ended at write %d", n);
}

/* An export during a reply whose flush fails: the export fails (it would lack the text) and
 * says why; once the disk has room it holds the whole reply. */
TEST(store_fault_export_after_failed_flush) {
    const char *path = store_test_path("e.db");
    char id[STORE_ID_LEN + 1];
    store *s = sf_setup(path, id);
    CHECK(s != NULL);
    CHECK(store_reply_begin(s, id, NULL) > 0);
    CHECK_EQ_INT(store_reply_append(s, "partial answer", 14), 0);
    store_test_fault(s, 1, SQLITE_FULL, 1);
    char *json = NULL;
    CHECK_EQ_INT(store_export_json(s, id, &json), STORE_E_SQL);
    CHECK(json == NULL);
    CHECK(strstr(store_errmsg(s), "database or disk is full") != NULL);
    store_test_fault(s, 0, 0, 0);
    CHECK_EQ_INT(store_export_json(s, id, &json), 0);
    CHECK(json && strstr(json, "\"content\":\"partial answer\"") != NULL);
    free(json);
    CHECK_EQ_INT(store_reply_finish(s, "stopped", NULL), 0);
    store_close(s);
}
