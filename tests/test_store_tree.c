/* tests/test_store_tree.c — conversations as trees (schema 3, 4): siblings from a regenerated
 * reply and an edited message, the active path and switching it, deleting a branch, pins, the
 * JSON export of a whole tree and its exact round trip through import, bad tree input, and the
 * migration of a version 2 database written the old way (every message chained to the one
 * before, a regenerated reply after the reply it replaced); the version chosen below another
 * remembered (schema 4), from a version 3 database's active path too; the copies an old edit
 * made merged back as sibling branches (a copy of a copy too), near copies left alone. */
#include <sqlite3.h>
#include <stdlib.h>

#include "harness.h"
#include "store.h"
#include "store_test.h"
#include "store_schema_v1.h"

/* "content<sib/n_sibs>|" per message of the active path; the tree walk adds the depth and a *
 * for the active path: "  content*|". */
static int tr_path_collect(const struct store_msg *m, void *ud) {
    char *buf = ud;
    size_t l = strlen(buf);
    snprintf(buf + l, 4096 - l, "%s<%d/%d>%s|", m->content, m->sib, m->n_sibs,
             m->pinned ? "P" : "");
    return 0;
}

static int tr_tree_collect(const struct store_msg *m, void *ud) {
    char *buf = ud;
    size_t l = strlen(buf);
    snprintf(buf + l, 4096 - l, "%*s%s%s|", 2 * m->depth, "", m->content, m->active ? "*" : "");
    return 0;
}

static const char *tr_path_of(store *s, const char *id) {
    static char buf[4096];
    buf[0] = 0;
    if (store_msg_each(s, id, tr_path_collect, buf) != 0)
        snprintf(buf, sizeof buf, "error: %s", store_errmsg(s));
    return buf;
}

static const char *tr_tree_of(store *s, const char *id) {
    static char buf[4096];
    buf[0] = 0;
    if (store_msg_tree(s, id, tr_tree_collect, buf) != 0)
        snprintf(buf, sizeof buf, "error: %s", store_errmsg(s));
    return buf;
}

static int64_t tr_reply(store *s, const char *id, int64_t parent, const char *text) {
    int64_t m = store_reply_begin_at(s, id, "m.gguf", parent);
    if (m > 0 && (store_reply_append(s, text, strlen(text)) != 0 ||
                  store_reply_finish(s, "stop", NULL) != 0))
        return -1;
    return m;
}

TEST(store_tree_siblings_and_active_path) {
    store *s = store_test_open(store_test_path("t.db"));
    CHECK(s != NULL);
    char id[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    int64_t u1 = store_msg_add(s, id, "user", "U1", 0);
    int64_t a1 = tr_reply(s, id, 0, "A1");
    int64_t u2 = store_msg_add(s, id, "user", "U2", 0);
    int64_t a2 = tr_reply(s, id, 0, "A2");
    CHECK(u1 > 0 && a1 > u1 && u2 > a1 && a2 > u2);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/1>|A1<1/1>|U2<1/1>|A2<1/1>|");
    /* regenerate: a sibling reply to U2, which becomes the active one */
    int64_t a2b = tr_reply(s, id, u2, "A2b");
    CHECK(a2b > a2);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/1>|A1<1/1>|U2<1/1>|A2b<2/2>|");
    /* edit U1: a sibling branch from the root (nothing copied) */
    int64_t u1b = store_msg_add(s, id, "user", "U1b", STORE_PARENT_ROOT);
    int64_t a1b = tr_reply(s, id, 0, "A1b");
    CHECK(u1b > 0 && a1b > u1b);
    CHECK_STR_EQ(tr_path_of(s, id), "U1b<2/2>|A1b<1/1>|");
    CHECK_STR_EQ(tr_tree_of(s, id), "U1|  A1|    U2|      A2|      A2b|U1b*|  A1b*|");
    struct store_conv c;
    CHECK_EQ_INT(store_conv_get(s, id, &c), 0);
    CHECK_EQ_INT(c.n_messages, 7);
    CHECK_STR_EQ(c.title, "U1"); /* the first message's, as before */
    store_conv_clear(&c);
    /* switch back to U1: the path goes down its newest children (A2b) */
    int64_t sib = 0;
    CHECK_EQ_INT(store_msg_sibling(s, id, u1b, -1, &sib), 0);
    CHECK_EQ_INT(sib, u1);
    CHECK_EQ_INT(store_msg_sibling(s, id, u1b, -5, &sib), 0); /* clamped */
    CHECK_EQ_INT(sib, u1);
    CHECK_EQ_INT(store_msg_sibling(s, id, u1b, 1, &sib), 0);
    CHECK_EQ_INT(sib, u1b);
    CHECK_EQ_INT(store_msg_activate(s, id, u1), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/1>|U2<1/1>|A2b<2/2>|");
    CHECK_EQ_INT(store_msg_activate(s, id, a2), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/1>|U2<1/1>|A2<1/2>|");
    /* switching a version higher up and back restores the deeper choice (A2, not the newer
     * A2b), and so does deleting the branch switched to */
    CHECK_EQ_INT(store_msg_activate(s, id, u1b), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1b<2/2>|A1b<1/1>|");
    CHECK_EQ_INT(store_msg_activate(s, id, u1), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/1>|U2<1/1>|A2<1/2>|");
    int64_t a1c = tr_reply(s, id, u1, "A1c");
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1c<2/2>|");
    CHECK_EQ_INT(store_msg_activate(s, id, a1), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/2>|U2<1/1>|A2<1/2>|");
    CHECK_EQ_INT(store_msg_activate(s, id, a1c), 0);
    CHECK_EQ_INT(store_msg_delete(s, id, a1c), 1);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/1>|U2<1/1>|A2<1/2>|");
    /* the next message continues the active path */
    int64_t u3 = store_msg_add(s, id, "user", "U3", 0);
    CHECK(u3 > 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/1>|U2<1/1>|A2<1/2>|U3<1/1>|");
    /* kept across a reopen, and so are the choices below a version switched away from */
    CHECK_EQ_INT(store_msg_activate(s, id, u1b), 0);
    store_close(s);
    s = store_test_open(store_test_path("t.db"));
    CHECK(s != NULL);
    CHECK_STR_EQ(tr_path_of(s, id), "U1b<2/2>|A1b<1/1>|");
    CHECK_EQ_INT(store_msg_activate(s, id, u1), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1<1/2>|A1<1/1>|U2<1/1>|A2<1/2>|U3<1/1>|");
    /* a message of another conversation is refused as a parent or a target */
    char other[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, other), 0);
    CHECK_EQ_INT(store_msg_add(s, other, "user", "x", u1), STORE_E_NOTFOUND);
    CHECK_EQ_INT(store_msg_activate(s, other, u1), STORE_E_NOTFOUND);
    CHECK_EQ_INT(store_msg_delete(s, other, u1), STORE_E_NOTFOUND);
    CHECK_EQ_INT(store_msg_set_pinned(s, other, u1, 1), STORE_E_NOTFOUND);
    CHECK_STR_EQ(tr_path_of(s, other), "");
    store_close(s);
}

static int tr_count_msg_hits(const struct store_hit *h, void *ud) {
    *(int *)ud += h->msg_id > 0;
    return 0;
}

TEST(store_tree_delete_subtree_and_pins) {
    store *s = store_test_open(store_test_path("d.db"));
    CHECK(s != NULL);
    char id[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    int64_t u1 = store_msg_add(s, id, "user", "U1 zebra", 0);
    int64_t a1 = tr_reply(s, id, 0, "A1");
    CHECK(store_msg_add(s, id, "user", "U2 zebra", 0) > 0);
    tr_reply(s, id, 0, "A2");
    int64_t a1b = tr_reply(s, id, u1, "A1b");
    CHECK(a1b > 0);
    CHECK_EQ_INT(store_msg_set_pinned(s, id, u1, 1), 0);
    CHECK_STR_EQ(tr_path_of(s, id), "U1 zebra<1/1>P|A1b<2/2>|");
    /* deleting an inactive branch leaves the path alone */
    CHECK_EQ_INT(store_msg_activate(s, id, a1), 0);
    CHECK_EQ_INT(store_msg_activate(s, id, a1b), 0);
    CHECK_EQ_INT(store_msg_delete(s, id, a1), 3); /* A1, U2, A2 */
    CHECK_STR_EQ(tr_path_of(s, id), "U1 zebra<1/1>P|A1b<1/1>|");
    /* gone from search too */
    int n = 0;
    CHECK_EQ_INT(store_search(s, "zebra", 0, tr_count_msg_hits, &n), 0);
    CHECK_EQ_INT(n, 1);
    /* deleting the active reply: the path ends at its parent */
    CHECK_EQ_INT(store_msg_delete(s, id, a1b), 1);
    CHECK_STR_EQ(tr_path_of(s, id), "U1 zebra<1/1>P|");
    /* a reply being saved goes with its branch */
    CHECK(store_reply_begin(s, id, NULL) > 0);
    CHECK_EQ_INT(store_reply_append(s, "partial", 7), 0);
    CHECK_EQ_INT(store_msg_delete(s, id, u1), 2);
    CHECK_EQ_INT(store_reply_append(s, "more", 4), STORE_E_INVALID);
    CHECK_STR_EQ(tr_path_of(s, id), "");
    CHECK_EQ_INT(store_msg_delete(s, id, u1), STORE_E_NOTFOUND);
    store_close(s);
}

static void tr_remember(const char *id, int n, void *ud) {
    (void)n;
    snprintf(ud, 9, "%s", id);
}

TEST(store_tree_json_round_trip) {
    store *s = store_test_open(store_test_path("j1.db"));
    CHECK(s != NULL);
    char id[9], got[9] = "";
    struct store_conv_params p = {.system_prompt = "Sys"};
    CHECK_EQ_INT(store_conv_new(s, &p, id), 0);
    int64_t u1 = store_msg_add(s, id, "user", "U1", 0);
    tr_reply(s, id, 0, "A1");
    int64_t u2 = store_msg_add(s, id, "user", "U2", 0);
    int64_t a2 = tr_reply(s, id, 0, "A2");
    tr_reply(s, id, u2, "A2b");
    store_msg_add(s, id, "user", "U1b", STORE_PARENT_ROOT);
    CHECK_EQ_INT(store_msg_set_pinned(s, id, u1, 1), 0);
    CHECK_EQ_INT(store_msg_activate(s, id, a2), 0);
    char *first = NULL;
    CHECK_EQ_INT(store_export_json(s, id, &first), 0);
    CHECK_MSG(strstr(first, "\"leaf\":4,") != NULL, "%s", first);
    CHECK(strstr(first, "{\"id\":1,\"parent\":0,\"role\":\"user\",\"content\":\"U1\"") != NULL);
    CHECK(strstr(first, "\"id\":4,\"parent\":3,\"role\":\"assistant\",\"content\":\"A2\"") != NULL);
    CHECK(strstr(first, "\"id\":5,\"parent\":3,\"role\":\"assistant\",\"content\":\"A2b\"") != NULL);
    CHECK(strstr(first, "\"id\":6,\"parent\":0,\"role\":\"user\",\"content\":\"U1b\"") != NULL);
    CHECK(strstr(first, "\"pinned\":true}") != NULL);
    /* into another database: the same tree, active path and bytes */
    store *t = store_test_open(store_test_path("j2.db"));
    CHECK(t != NULL);
    char pad[9]; /* ids there start elsewhere */
    CHECK_EQ_INT(store_conv_new(t, NULL, pad), 0);
    for (int i = 0; i < 5; i++)
        CHECK(store_msg_add(t, pad, "user", "pad", 0) > 0);
    CHECK_EQ_INT(store_import_json(t, "x.json", first, strlen(first), tr_remember, got), 0);
    CHECK_STR_EQ(got, id);
    char *second = NULL;
    CHECK_EQ_INT(store_export_json(t, id, &second), 0);
    CHECK_STR_EQ(second, first);
    CHECK_STR_EQ(tr_path_of(t, id), "U1<1/2>P|A1<1/1>|U2<1/1>|A2<1/2>|");
    CHECK_STR_EQ(tr_tree_of(t, id), "U1*|  A1*|    U2*|      A2*|      A2b|U1b|");
    free(second);
    /* an old export (no ids, no parents): a linear chain ending at its last message */
    const char *old = "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                      "{\"role\":\"assistant\",\"content\":\"b\"}]}";
    CHECK_EQ_INT(store_import_json(t, "old.json", old, strlen(old), tr_remember, got), 0);
    CHECK_STR_EQ(tr_path_of(t, got), "a<1/1>|b<1/1>|");
    /* bad trees are refused with the message's number, nothing written */
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"parent\":1}]}",
         "message 1: \"parent\" must be the number of an earlier message"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\","
         "\"content\":\"b\",\"parent\":-1}]}", "message 2: \"parent\""},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"parent\":\"x\"}]}",
         "message 1: \"parent\""},
        {"{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\","
         "\"content\":\"a\",\"id\":2}]}", "message 2: \"id\" must be the message's number"},
        {"{\"leaf\":2,\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}", "\"leaf\""},
        {"{\"leaf\":0.5,\"messages\":[]}", "\"leaf\""},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"pinned\":1}]}",
         "message 1: \"pinned\" must be true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(store_import_json(t, "b.json", bad[i].json, strlen(bad[i].json), NULL,
                                       NULL), STORE_E_INVALID);
        CHECK_MSG(strstr(store_errmsg(t), bad[i].msg) != NULL, "%zu: %s", i, store_errmsg(t));
    }
    free(first);
    store_close(t);
    store_close(s);
}

/* Issue 15: the version each branch shows, off the active path too, survives an export and
 * import: U1b (off the path) shows its older reply X, not its newest Y. */
TEST(store_tree_json_keeps_choices_off_the_path) {
    store *s = store_test_open(store_test_path("c1.db"));
    CHECK(s != NULL);
    char id[9], got[9] = "";
    CHECK_EQ_INT(store_conv_new(s, NULL, id), 0);
    CHECK_EQ_INT(store_msg_add(s, id, "user", "U1", 0), 1);
    int64_t a1 = tr_reply(s, id, 0, "A1");
    int64_t u1b = store_msg_add(s, id, "user", "U1b", STORE_PARENT_ROOT);
    int64_t x = tr_reply(s, id, 0, "X");
    tr_reply(s, id, u1b, "Y");
    CHECK_EQ_INT(store_msg_activate(s, id, x), 0);
    CHECK_EQ_INT(store_msg_activate(s, id, a1), 0);
    CHECK_STR_EQ(tr_tree_of(s, id), "U1*|  A1*|U1b|  X|  Y|");
    char *first = NULL;
    CHECK_EQ_INT(store_export_json(s, id, &first), 0);
    CHECK_MSG(strstr(first, "{\"id\":3,\"parent\":0,\"role\":\"user\",\"content\":\"U1b\"") &&
                  strstr(first, "\"chosen\":4}") && !strstr(first, "\"chosen\":2"), "%s", first);
    /* a fresh database: the imported messages get the same ids (1..5) */
    store *t = store_test_open(store_test_path("c2.db"));
    CHECK(t != NULL);
    CHECK_EQ_INT(store_import_json(t, "c.json", first, strlen(first), tr_remember, got), 0);
    char *second = NULL;
    CHECK_EQ_INT(store_export_json(t, got, &second), 0);
    CHECK_STR_EQ(second, first);
    CHECK_STR_EQ(tr_path_of(t, got), "U1<1/2>|A1<1/1>|");
    CHECK_EQ_INT(store_msg_activate(t, got, u1b), 0);
    CHECK_STR_EQ(tr_path_of(t, got), "U1b<2/2>|X<1/2>|");
    /* a "chosen" that is not one of the message's children is refused, naming the message */
    static const char *const bad[] = {
        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"chosen\":1}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"chosen\":3},"
        "{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"chosen\":\"2\"},"
        "{\"role\":\"user\",\"content\":\"b\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(store_import_json(t, "b.json", bad[i], strlen(bad[i]), NULL, NULL),
                     STORE_E_INVALID);
        CHECK_MSG(strstr(store_errmsg(t), "message 1: \"chosen\" must be the number of one of "
                                          "the message's children") != NULL,
                  "%zu: %s", i, store_errmsg(t));
    }
    free(second);
    free(first);
    store_close(t);
    store_close(s);
}

/* A version 2 database as the natter of schema 2 left it: every message's parent the message
 * before it (none for the first), Ctrl-R's reply after the reply it replaced (twice for the
 * second turn), an edit of U2 copied into a second conversation (its copy of U1 with a
 * parentless reply), and three that only look like copies: a reply's text differs by one
 * character, another title, a copy with no edit. */
static const char tr_v2_sql[] =
    STORE_SCHEMA_V1_SQL
    "ALTER TABLE messages ADD COLUMN reasoning_content TEXT;"
    "INSERT INTO conversations(id, title, created, updated) VALUES"
    "  ('0000aaaa', 'Old', '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z'),"
    "  ('0000bbbb', 'Old', '2026-01-02T03:05:05.000Z', '2026-01-02T03:05:05.000Z'),"
    "  ('0000cccc', 'Old', '2026-01-02T03:06:05.000Z', '2026-01-02T03:06:05.000Z'),"
    "  ('0000dddd', 'Other', '2026-01-02T03:07:05.000Z', '2026-01-02T03:07:05.000Z'),"
    "  ('0000eeee', 'Old', '2026-01-02T03:08:05.000Z', '2026-01-02T03:08:05.000Z');"
    "INSERT INTO messages(id, conv, parent, role, content, created) VALUES"
    "  (1, 1, NULL, 'user', 'U1', '2026-01-02T03:04:05.000Z'),"
    "  (2, 1, 1, 'assistant', 'A1', '2026-01-02T03:04:06.000Z'),"
    "  (3, 1, 2, 'assistant', 'A1 again', '2026-01-02T03:04:07.000Z'),"
    "  (4, 1, 3, 'user', 'U2', '2026-01-02T03:04:08.000Z'),"
    "  (5, 1, 4, 'assistant', 'A2', '2026-01-02T03:04:09.000Z'),"
    "  (6, 1, 5, 'assistant', 'A2 again', '2026-01-02T03:04:10.000Z'),"
    "  (7, 1, 6, 'assistant', 'A2 third', '2026-01-02T03:04:11.000Z'),"
    "  (8, 2, NULL, 'user', 'U1', '2026-01-02T03:05:05.000Z'),"
    "  (9, 2, 8, 'assistant', 'A1 again', '2026-01-02T03:05:06.000Z'),"
    "  (10, 2, 9, 'user', 'U2 edited', '2026-01-02T03:05:07.000Z'),"
    "  (11, 2, 10, 'assistant', 'A2 edited', '2026-01-02T03:05:08.000Z'),"
    "  (12, 3, NULL, 'user', 'U1', '2026-01-02T03:06:05.000Z'),"
    "  (13, 3, NULL, 'assistant', 'A1 again!', '2026-01-02T03:06:06.000Z'),"
    "  (14, 3, 13, 'user', 'U2 x', '2026-01-02T03:06:07.000Z'),"
    "  (15, 4, NULL, 'user', 'U1', '2026-01-02T03:07:05.000Z'),"
    "  (16, 4, 15, 'assistant', 'A1 again', '2026-01-02T03:07:06.000Z'),"
    "  (17, 4, 16, 'user', 'U2 y', '2026-01-02T03:07:07.000Z'),"
    "  (18, 5, NULL, 'user', 'U1', '2026-01-02T03:08:05.000Z'),"
    "  (19, 5, 18, 'assistant', 'A1 again', '2026-01-02T03:08:06.000Z');"
    "PRAGMA application_id = 1312904274; PRAGMA user_version = 2;";

static int tr_count_convs(const struct store_conv *c, void *ud) {
    (void)c;
    ++*(int *)ud;
    return 0;
}

/* Runs sql on the database at path directly (an old natter's writes): "" or SQLite's error. */
static const char *tr_sql(const char *path, const char *sql) {
    static char err[512];
    sqlite3 *db;
    err[0] = 0;
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK)
        snprintf(err, sizeof err, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return err;
}

TEST(store_tree_migrates_v2_duplicates_to_siblings) {
    const char *path = store_test_path("v2.db");
    CHECK_STR_EQ(tr_sql(path, tr_v2_sql), "");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    /* the replies that stood are siblings of the ones they replaced; the edit's copy is a
     * sibling branch of U2 (the shared U1 and A1 again once), the active one: it was used
     * last */
    CHECK_STR_EQ(tr_tree_of(s, "0000aaaa"), "U1*|  A1|  A1 again*|    U2|      A2|      A2 again|"
                                            "      A2 third|    U2 edited*|      A2 edited*|");
    CHECK_STR_EQ(tr_path_of(s, "0000aaaa"), "U1<1/1>|A1 again<2/2>|U2 edited<2/2>|A2 edited<1/1>|");
    struct store_conv c;
    CHECK_EQ_INT(store_conv_get(s, "0000bbbb", &c), STORE_E_NOTFOUND);
    int n = 0;
    CHECK_EQ_INT(store_conv_list(s, 0, tr_count_convs, &n), 0);
    CHECK_EQ_INT(n, 4);
    n = 0;
    CHECK_EQ_INT(store_search(s, "edited", 0, tr_count_msg_hits, &n), 0);
    CHECK_EQ_INT(n, 2); /* its messages are found in the original */
    /* a parentless message after the first follows the one before it; the near copies stay */
    CHECK_STR_EQ(tr_path_of(s, "0000cccc"), "U1<1/1>|A1 again!<1/1>|U2 x<1/1>|");
    CHECK_STR_EQ(tr_path_of(s, "0000dddd"), "U1<1/1>|A1 again<1/1>|U2 y<1/1>|");
    CHECK_STR_EQ(tr_path_of(s, "0000eeee"), "U1<1/1>|A1 again<1/1>|");
    /* back to the first version of U2: the prompt for the next turn carries one reply per turn */
    CHECK_EQ_INT(store_msg_activate(s, "0000aaaa", 4), 0);
    CHECK(store_msg_add(s, "0000aaaa", "user", "U3", 0) > 0);
    CHECK_STR_EQ(tr_path_of(s, "0000aaaa"),
                 "U1<1/1>|A1 again<2/2>|U2<1/2>|A2 third<3/3>|U3<1/1>|");
    store_close(s);
    s = store_test_open(path); /* up to date: nothing more to do */
    CHECK(s != NULL);
    CHECK_STR_EQ(tr_path_of(s, "0000cccc"), "U1<1/1>|A1 again!<1/1>|U2 x<1/1>|");
    store_close(s);
}

/* A version 3 database whose active path goes through an older reply (A2, not the newest):
 * after the migration to 4, switching the reply above it and back still comes down to A2. */
TEST(store_tree_migrates_v3_leaf_to_choices) {
    const char *path = store_test_path("v3.db");
    CHECK_STR_EQ(tr_sql(path, tr_v2_sql), "");
    store *s = store_test_open(path); /* to the current schema, then back to 3 with leaf = A2 */
    CHECK(s != NULL);
    store_close(s);
    CHECK_STR_EQ(tr_sql(path, "ALTER TABLE messages DROP COLUMN chosen;"
                              "UPDATE conversations SET leaf = 5 WHERE id = '0000aaaa';"
                              "PRAGMA user_version = 3;"), "");
    s = store_test_open(path);
    CHECK(s != NULL);
    CHECK_STR_EQ(tr_path_of(s, "0000aaaa"), "U1<1/1>|A1 again<2/2>|U2<1/2>|A2<1/3>|");
    CHECK_EQ_INT(store_msg_activate(s, "0000aaaa", 2), 0);
    CHECK_STR_EQ(tr_path_of(s, "0000aaaa"), "U1<1/1>|A1<1/2>|");
    CHECK_EQ_INT(store_msg_activate(s, "0000aaaa", 3), 0);
    CHECK_STR_EQ(tr_path_of(s, "0000aaaa"), "U1<1/1>|A1 again<2/2>|U2<1/2>|A2<1/3>|");
    store_close(s);
}

/* A copy of a copy (the edit of a message the first copy added) finds its branch in the
 * original once the first copy is merged; a conversation started before the original had the
 * message it seems to edit is no copy of it. */
static const char tr_chain_sql[] =
    STORE_SCHEMA_V1_SQL
    "ALTER TABLE messages ADD COLUMN reasoning_content TEXT;"
    "INSERT INTO conversations(id, title, created, updated) VALUES"
    "  ('000000a0', 'T', '2026-01-02T03:00:00.000Z', '2026-01-02T03:00:00.000Z'),"
    "  ('000000d0', 'T', '2026-01-02T03:00:01.500Z', '2026-01-02T03:00:01.500Z'),"
    "  ('000000b0', 'T', '2026-01-02T03:01:00.000Z', '2026-01-02T03:01:00.000Z'),"
    "  ('000000c0', 'T', '2026-01-02T03:02:00.000Z', '2026-01-02T03:02:00.000Z');"
    "INSERT INTO messages(id, conv, parent, role, content, created) VALUES"
    "  (1, 1, NULL, 'user', 'U1', '2026-01-02T03:00:00.000Z'),"
    "  (2, 1, 1, 'assistant', 'A1', '2026-01-02T03:00:01.000Z'),"
    "  (3, 1, 2, 'user', 'U2', '2026-01-02T03:00:02.000Z'),"
    "  (4, 1, 3, 'assistant', 'A2', '2026-01-02T03:00:03.000Z'),"
    "  (5, 2, NULL, 'user', 'U1', '2026-01-02T03:00:01.500Z'),"
    "  (6, 2, 5, 'assistant', 'A1', '2026-01-02T03:00:01.600Z'),"
    "  (7, 2, 6, 'user', 'U2d', '2026-01-02T03:00:01.700Z'),"
    "  (8, 3, NULL, 'user', 'U1', '2026-01-02T03:01:00.000Z'),"
    "  (9, 3, 8, 'assistant', 'A1', '2026-01-02T03:01:00.000Z'),"
    "  (10, 3, 9, 'user', 'U2b', '2026-01-02T03:01:00.000Z'),"
    "  (11, 3, 10, 'assistant', 'A2b', '2026-01-02T03:01:01.000Z'),"
    "  (12, 3, 11, 'user', 'U3', '2026-01-02T03:01:02.000Z'),"
    "  (13, 3, 12, 'assistant', 'A3', '2026-01-02T03:01:03.000Z'),"
    "  (14, 4, NULL, 'user', 'U1', '2026-01-02T03:02:00.000Z'),"
    "  (15, 4, 14, 'assistant', 'A1', '2026-01-02T03:02:00.000Z'),"
    "  (16, 4, 15, 'user', 'U2b', '2026-01-02T03:02:00.000Z'),"
    "  (17, 4, 16, 'assistant', 'A2b', '2026-01-02T03:02:00.000Z'),"
    "  (18, 4, 17, 'user', 'U3c', '2026-01-02T03:02:01.000Z'),"
    "  (19, 4, 18, 'assistant', 'A3c', '2026-01-02T03:02:02.000Z');"
    "PRAGMA application_id = 1312904274; PRAGMA user_version = 2;";

TEST(store_tree_migrates_copies_of_copies) {
    const char *path = store_test_path("chain.db");
    CHECK_STR_EQ(tr_sql(path, tr_chain_sql), "");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    CHECK_STR_EQ(tr_tree_of(s, "000000a0"), "U1*|  A1*|    U2|      A2|    U2b*|      A2b*|"
                                            "        U3|          A3|        U3c*|          A3c*|");
    CHECK_STR_EQ(tr_path_of(s, "000000d0"), "U1<1/1>|A1<1/1>|U2d<1/1>|");
    int n = 0;
    CHECK_EQ_INT(store_conv_list(s, 0, tr_count_convs, &n), 0);
    CHECK_EQ_INT(n, 2);
    /* the versions of U2 and back: the deepest choice (U3c) is kept */
    CHECK_EQ_INT(store_msg_activate(s, "000000a0", 3), 0);
    CHECK_EQ_INT(store_msg_activate(s, "000000a0", 10), 0);
    CHECK_STR_EQ(tr_path_of(s, "000000a0"), "U1<1/1>|A1<1/1>|U2b<2/2>|A2b<1/1>|U3c<2/2>|A3c<1/1>|");
    store_close(s);
}
