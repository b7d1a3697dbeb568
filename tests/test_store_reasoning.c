/* tests/test_store_reasoning.c — a reply's reasoning in the store (schema 2): the migration of a
 * version 1 database (its rows kept, the column added, search unchanged), reasoning saved as
 * it streams (apart from the content, also across a SIGKILL), the JSON export's
 * reasoning_content and an exact import round trip, bad input, search leaving reasoning out. */
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"
#include "store_test.h"
#include "store_schema_v1.h"

/* "role:content:reasoning|" per message ("~" for a NULL reasoning). */
static int srs_collect(const struct store_msg *m, void *ud) {
    char *buf = ud;
    size_t l = strlen(buf);
    snprintf(buf + l, 4096 - l, "%s:%s:%s|", m->role, m->content,
             m->reasoning ? m->reasoning : "~");
    return 0;
}

/* The version 1 schema exactly as natter 0.1 created it, with one conversation. */
static const char srs_v1_sql[] =
    STORE_SCHEMA_V1_SQL
    "INSERT INTO conversations(id, title, created, updated) VALUES ('0123abcd', 'Old chat',"
    "  '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z');"
    "INSERT INTO messages(conv, role, content, created) VALUES (1, 'user', 'hello zebra',"
    "  '2026-01-02T03:04:05.000Z');"
    "INSERT INTO messages(conv, parent, role, content, created, finish, tokens) VALUES (1, 1,"
    "  'assistant', 'hi there', '2026-01-02T03:04:06.000Z', 'stop', 2);"
    "INSERT INTO settings VALUES ('last_model', '/m/x.gguf');"
    "PRAGMA application_id = 1312904274; PRAGMA user_version = 1;";

static int srs_count(const struct store_hit *h, void *ud) {
    (void)h;
    ++*(int *)ud;
    return 0;
}

TEST(store_migrates_v1_to_v2) {
    const char *path = store_test_path("v1.db");
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_MSG(sqlite3_exec(db, srs_v1_sql, 0, 0, 0) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    CHECK_EQ_INT(store_test_int(path, "PRAGMA user_version"), 1);
    store *s = store_test_open(path);
    CHECK(s != NULL);
    CHECK_EQ_INT(store_test_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM pragma_table_info('messages') "
                               "WHERE name = 'reasoning_content'"), 1);
    /* the old rows are all there, with no reasoning */
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(s, "0123abcd", srs_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:hello zebra:~|assistant:hi there:~|");
    char val[64];
    CHECK_EQ_INT(store_setting_get(s, STORE_SETTING_LAST_MODEL, val, sizeof val), 0);
    CHECK_STR_EQ(val, "/m/x.gguf");
    int hits = 0;
    CHECK_EQ_INT(store_search(s, "zebra", 0, srs_count, &hits), 0);
    CHECK_EQ_INT(hits, 1);
    char *json = NULL;
    CHECK_EQ_INT(store_export_json(s, "0123abcd", &json), 0);
    CHECK_MSG(!strstr(json, "reasoning_content"), "%s", json);
    free(json);
    /* and a new reply with reasoning goes in */
    CHECK(store_reply_begin(s, "0123abcd", NULL) > 0);
    CHECK_EQ_INT(store_reply_append_reasoning(s, "hmm", 3), 0);
    CHECK_EQ_INT(store_reply_append(s, "ok", 2), 0);
    CHECK_EQ_INT(store_reply_finish(s, "stop", NULL), 0);
    buf[0] = 0;
    CHECK_EQ_INT(store_msg_each(s, "0123abcd", srs_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:hello zebra:~|assistant:hi there:~|assistant:ok:hmm|");
    store_close(s);
    /* opened again: nothing to migrate */
    s = store_test_open(path);
    CHECK(s != NULL);
    store_close(s);
    CHECK_EQ_INT(store_test_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

TEST(store_reasoning_streams_apart) {
    const char *path = store_test_path("r.db");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    char a[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    CHECK(store_msg_add(s, a, "user", "q", 0) > 0);
    CHECK(store_reply_begin(s, a, NULL) > 0);
    CHECK_EQ_INT(store_reply_append_reasoning(s, "Let me ", 7), 0);
    CHECK_EQ_INT(store_reply_append_reasoning(s, "think.", 6), 0);
    CHECK_EQ_INT(store_reply_flush(s), 0);
    store *t = store_test_open(path);
    CHECK(t != NULL);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(t, a, srs_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:q:~|assistant::Let me think.|");
    /* the answer follows; both are saved */
    CHECK_EQ_INT(store_reply_append(s, "42", 2), 0);
    CHECK_EQ_INT(store_reply_flush(s), 0);
    buf[0] = 0;
    CHECK_EQ_INT(store_msg_each(t, a, srs_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:q:~|assistant:42:Let me think.|");
    CHECK_EQ_INT(store_reply_finish(s, "stop", NULL), 0);
    /* a reply without reasoning keeps NULL; an added message may carry some */
    CHECK(store_reply_begin(s, a, NULL) > 0);
    CHECK_EQ_INT(store_reply_append(s, "plain", 5), 0);
    CHECK_EQ_INT(store_reply_finish(s, "stop", NULL), 0);
    CHECK(store_msg_add_reasoning(s, a, "assistant", "copied", "its thought", 0) > 0);
    CHECK(store_msg_add_reasoning(s, a, "bogus", "x", "y", 0) == STORE_E_INVALID);
    buf[0] = 0;
    CHECK_EQ_INT(store_msg_each(t, a, srs_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:q:~|assistant:42:Let me think.|assistant:plain:~|"
                      "assistant:copied:its thought|");
    /* reasoning is not searched: the answer is */
    int hits = 0;
    CHECK_EQ_INT(store_search(t, "think", 0, srs_count, &hits), 0);
    CHECK_EQ_INT(hits, 0);
    CHECK_EQ_INT(store_search(t, "42", 0, srs_count, &hits), 0);
    CHECK_EQ_INT(hits, 1);
    CHECK_EQ_INT(store_reply_append_reasoning(s, "x", 1), STORE_E_INVALID); /* no reply open */
    store_close(t);
    store_close(s);
}

static int64_t srs_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A writer killed while the reply is still reasoning: the reasoning so far is on disk. */
TEST(store_reasoning_sigkill_keeps_partial) {
    const char *path = store_test_path("k.db");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    char a[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    CHECK(store_msg_add(s, a, "user", "go", 0) > 0);
    store_close(s);
    pid_t pid = fork();
    if (pid == 0) {
        store *c = store_test_open(path);
        if (!c || store_reply_begin(c, a, NULL) <= 0)
            _exit(2);
        for (;;) {
            store_reply_append_reasoning(c, "hm ", 3);
            struct timespec d = {0, 5 * 1000000};
            nanosleep(&d, NULL);
        }
    }
    long long len = 0;
    int64_t t0 = srs_ms();
    while (len < 60 && srs_ms() - t0 < 10000) {
        struct timespec d = {0, 20 * 1000000};
        nanosleep(&d, NULL);
        len = store_test_int(path, "SELECT coalesce(max(length(reasoning_content)), 0) FROM messages");
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK_MSG(len >= 60, "the reasoning never reached the disk (%lld bytes)", len);
    s = store_test_open(path);
    CHECK(s != NULL);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(s, a, srs_collect, buf), 0);
    CHECK_MSG(strncmp(buf, "user:go:~|assistant::hm hm hm ", 30) == 0, "%s", buf);
    store_close(s);
}

static void srs_id(const char *id, int n, void *ud) {
    (void)n;
    snprintf(ud, STORE_ID_LEN + 1, "%s", id);
}

TEST(store_reasoning_export_import) {
    store *s = store_test_open(store_test_path("e1.db"));
    CHECK(s != NULL);
    char a[9], got[9] = "";
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    CHECK(store_msg_add(s, a, "user", "2+2?", 0) > 0);
    CHECK(store_reply_begin(s, a, "m.gguf") > 0);
    CHECK_EQ_INT(store_reply_append_reasoning(s, "Two \"and\" two.\n\xe6\x97\xa5", 18), 0);
    CHECK_EQ_INT(store_reply_append(s, "4", 1), 0);
    CHECK_EQ_INT(store_reply_finish(s, "stop", NULL), 0);
    CHECK(store_reply_begin(s, a, "m.gguf") > 0);
    CHECK_EQ_INT(store_reply_append(s, "no thought", 10), 0);
    CHECK_EQ_INT(store_reply_finish(s, "stop", NULL), 0);
    char *first = NULL;
    CHECK_EQ_INT(store_export_json(s, a, &first), 0);
    CHECK_MSG(strstr(first, "\"content\":\"4\",\"reasoning_content\":\"Two \\\"and\\\" two.\\n"
                            "\xe6\x97\xa5\",\"created\":") != NULL, "%s", first);
    CHECK_MSG(strstr(first, "\"content\":\"no thought\",\"created\"") != NULL, "%s", first);
    store *t = store_test_open(store_test_path("e2.db"));
    CHECK(t != NULL);
    CHECK_EQ_INT(store_import_json(t, "x.json", first, strlen(first), srs_id, got), 0);
    CHECK_STR_EQ(got, a);
    char *second = NULL;
    CHECK_EQ_INT(store_export_json(t, a, &second), 0);
    CHECK_STR_EQ(second, first);
    /* an empty reasoning stays empty, not absent */
    const char *plain = "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
                        "\"content\":\"y\",\"reasoning_content\":\"\"}]";
    CHECK_EQ_INT(store_import_json(t, "p.json", plain, strlen(plain), srs_id, got), 0);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(t, got, srs_collect, buf), 0);
    CHECK_STR_EQ(buf, "user:x:~|assistant:y:|");
    /* a reasoning_content that is not a string is refused with the message's index */
    const char *bad = "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
                      "\"content\":\"y\",\"reasoning_content\":5}]";
    CHECK_EQ_INT(store_import_json(t, "b.json", bad, strlen(bad), NULL, NULL), STORE_E_INVALID);
    CHECK_MSG(strstr(store_errmsg(t), "b.json: message 2: \"reasoning_content\" must be a string"),
              "%s", store_errmsg(t));
    free(first);
    free(second);
    store_close(t);
    store_close(s);
}
