/* tests/test_store.c — the conversation store: schema from empty, ids and prefixes, titles,
 * FTS ranking and snippets, JSON export/import round trip and bad input, a writer killed with
 * SIGKILL mid-reply, two writer processes, corrupt and newer databases refused untouched. */
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"
#include "store_test.h"

TEST(store_migrates_from_empty) {
    const char *path = store_test_path("sub/dir/natter.db");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    store_close(s);
    CHECK_EQ_INT(store_test_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                               "('conversations', 'messages', 'settings', 'search')"), 4);
    CHECK_EQ_INT(store_test_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    /* reopening an up-to-date database changes nothing and works */
    s = store_test_open(path);
    CHECK(s != NULL);
    store_close(s);
    /* an empty file is an empty database */
    const char *empty = store_test_path("empty.db");
    FILE *f = fopen(empty, "w");
    CHECK(f != NULL);
    fclose(f);
    s = store_test_open(empty);
    CHECK(s != NULL);
    store_close(s);
}

static int count_conv(const struct store_conv *c, void *ud) {
    (void)c;
    ++*(int *)ud;
    return 0;
}

TEST(store_conversations_ids_titles) {
    store *s = store_test_open(store_test_path("c.db"));
    CHECK(s != NULL);
    char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1], got[STORE_ID_LEN + 1];
    struct store_conv_params p = {.model = "tiny.gguf", .system_prompt = "Be brief.",
                                  .sampling = "{\"temp\":0.7}"};
    CHECK_EQ_INT(store_conv_new(s, &p, a), 0);
    CHECK_EQ_INT(strlen(a), STORE_ID_LEN);
    CHECK_EQ_INT(strspn(a, "0123456789abcdef"), STORE_ID_LEN);
    CHECK(store_msg_add(s, a, "user", "\n  Tell me a story about a dragon who could not fly and "
                                      "the village that helped him\nsecond line", 0) > 0);
    CHECK(store_msg_add(s, a, "user", "another user message", 0) > 0);
    struct store_conv c;
    CHECK_EQ_INT(store_conv_get(s, a, &c), 0);
    CHECK_STR_EQ(c.title, "Tell me a story about a dragon who could not fly and the…");
    CHECK_STR_EQ(c.model, "tiny.gguf");
    CHECK_STR_EQ(c.system_prompt, "Be brief.");
    CHECK_STR_EQ(c.sampling, "{\"temp\":0.7}");
    CHECK_EQ_INT(c.n_messages, 2);
    store_conv_clear(&c);

    /* prefixes: exact, unique prefix, upper case, unknown, ambiguous */
    CHECK_EQ_INT(store_conv_resolve(s, a, got), 0);
    CHECK_STR_EQ(got, a);
    char pre[4] = {a[0], a[1], a[2], 0};
    CHECK_EQ_INT(store_conv_resolve(s, pre, got), 0);
    CHECK_STR_EQ(got, a);
    CHECK_EQ_INT(store_conv_resolve(s, "zz", got), STORE_E_NOTFOUND);
    CHECK(strstr(store_errmsg(s), "no conversation 'zz'") != NULL);
    for (int i = 0; i < 40; i++)
        CHECK_EQ_INT(store_conv_new(s, NULL, b), 0);
    int amb = 0;
    for (const char *h = "0123456789abcdef"; *h && !amb; h++) {
        char one[2] = {*h, 0};
        if (store_conv_resolve(s, one, got) == STORE_E_AMBIGUOUS) {
            amb = 1;
            CHECK(strstr(store_errmsg(s), "ambiguous id") != NULL);
            CHECK(strstr(store_errmsg(s), ", ") != NULL);
        }
    }
    CHECK(amb); /* 41 ids over 16 first digits: some digit is shared */

    /* rename sticks; list newest first; archive hides; delete removes messages too */
    CHECK_EQ_INT(store_conv_rename(s, a, "Dragons"), 0);
    nanosleep(&(struct timespec){0, 3000000}, NULL); /* timestamps have millisecond steps */
    CHECK(store_msg_add(s, a, "user", "more", 0) > 0);
    CHECK_EQ_INT(store_conv_get(s, a, &c), 0);
    CHECK_STR_EQ(c.title, "Dragons");
    store_conv_clear(&c);
    CHECK_EQ_INT(store_conv_last(s, got), 0);
    CHECK_STR_EQ(got, a);
    CHECK_EQ_INT(store_conv_rename(s, a, ""), STORE_E_INVALID);
    int n = 0;
    CHECK_EQ_INT(store_conv_list(s, 0, count_conv, &n), 0);
    CHECK_EQ_INT(n, 41);
    CHECK_EQ_INT(store_conv_set_archived(s, a, 1), 0);
    n = 0;
    CHECK_EQ_INT(store_conv_list(s, 0, count_conv, &n), 0);
    CHECK_EQ_INT(n, 40);
    n = 0;
    CHECK_EQ_INT(store_conv_list(s, STORE_LIST_ARCHIVED, count_conv, &n), 0);
    CHECK_EQ_INT(n, 41);
    CHECK_EQ_INT(store_conv_set_sampling(s, a, "[1"), STORE_E_INVALID);
    /* json_valid() and json_type() of SQLite 3.40 take this for an object */
    CHECK_EQ_INT(store_conv_set_sampling(s, a, "{[\"t\"]:\"x\"}"), STORE_E_INVALID);
    CHECK_EQ_INT(store_conv_set_sampling(s, a, "{\"temp\":0.5}"), 0);
    CHECK_EQ_INT(store_conv_delete(s, a), 0);
    CHECK_EQ_INT(store_conv_delete(s, a), STORE_E_NOTFOUND);
    store_close(s);
    CHECK_EQ_INT(store_test_int(store_test_path("c.db"), "SELECT count(*) FROM messages"), 0);
    CHECK_EQ_INT(store_test_int(store_test_path("c.db"), "SELECT count(*) FROM search"), 40);
}

TEST(store_title_cut_on_utf8_boundary) {
    char buf[256];
    store_title_from_text("short one", buf, sizeof buf);
    CHECK_STR_EQ(buf, "short one");
    /* 70 two-byte characters, no space: cut at 60 characters plus an ellipsis */
    char in[200] = "";
    for (int i = 0; i < 70; i++)
        strcat(in, "é");
    store_title_from_text(in, buf, sizeof buf);
    CHECK_EQ_INT(strlen(buf), 60 * 2 + strlen("…"));
    /* a small buffer still ends on a boundary */
    store_title_from_text(in, buf, 8);
    CHECK_EQ_INT(strlen(buf), 6);
    store_title_from_text("", buf, sizeof buf);
    CHECK_STR_EQ(buf, "");
}

struct hits {
    int n;
    char first_id[STORE_ID_LEN + 1];
    char first_snippet[256];
    int title_hit;
};

static int collect_hit(const struct store_hit *h, void *ud) {
    struct hits *hs = ud;
    if (hs->n == 0) {
        snprintf(hs->first_id, sizeof hs->first_id, "%s", h->id);
        snprintf(hs->first_snippet, sizeof hs->first_snippet, "%s", h->snippet);
    }
    if (!h->role && h->msg_id == 0)
        hs->title_hit = 1;
    hs->n++;
    return 0;
}

TEST(store_search_ranking_and_snippets) {
    store *s = store_test_open(store_test_path("s.db"));
    CHECK(s != NULL);
    char a[9], b[9], c[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    CHECK_EQ_INT(store_conv_new(s, NULL, b), 0);
    CHECK_EQ_INT(store_conv_new(s, NULL, c), 0);
    CHECK(store_msg_add(s, a, "user", "How do I bake bread at home?", 0) > 0);
    CHECK(store_msg_add(s, a, "assistant", "Mix flour, water, salt and yeast; knead it.", 0) > 0);
    CHECK(store_msg_add(s, b, "user", "Penguins penguins penguins: tell me about penguins", 0) > 0);
    CHECK(store_msg_add(s, c, "user", "A long message that mentions penguins once among many "
                                      "other words about the weather, the sea and the ice", 0) > 0);
    /* ranking: the message dense in the term first */
    struct hits hs = {0};
    CHECK_EQ_INT(store_search(s, "penguins", 0, collect_hit, &hs), 0);
    CHECK_EQ_INT(hs.n, 4); /* two messages and b's title (from its first message), c's title */
    CHECK_STR_EQ(hs.first_id, b);
    CHECK(strstr(hs.first_snippet, "[Penguins]") != NULL);
    /* diacritics folded, prefix match, all words required, FTS syntax not interpreted */
    memset(&hs, 0, sizeof hs);
    CHECK_EQ_INT(store_search(s, "KNEAD yéast", 0, collect_hit, &hs), 0);
    CHECK_EQ_INT(hs.n, 1);
    CHECK_STR_EQ(hs.first_id, a);
    CHECK_STR_EQ(hs.first_snippet, "Mix flour, water, salt and [yeast]; [knead] it.");
    memset(&hs, 0, sizeof hs);
    CHECK_EQ_INT(store_search(s, "bak*", 0, collect_hit, &hs), 0);
    CHECK_EQ_INT(hs.n, 2); /* the message and the title made from it */
    memset(&hs, 0, sizeof hs);
    CHECK_EQ_INT(store_search(s, "bread NOT \"(", 0, collect_hit, &hs), 0);
    CHECK_EQ_INT(hs.n, 0);
    /* titles are indexed and follow renames */
    CHECK_EQ_INT(store_conv_rename(s, c, "Antarctic trip"), 0);
    memset(&hs, 0, sizeof hs);
    CHECK_EQ_INT(store_search(s, "antarctic", 0, collect_hit, &hs), 0);
    CHECK_EQ_INT(hs.n, 1);
    CHECK(hs.title_hit);
    CHECK_STR_EQ(hs.first_snippet, "[Antarctic] trip");
    CHECK_EQ_INT(store_search(s, "  ", 0, collect_hit, &hs), STORE_E_INVALID);
    char *json = NULL;
    CHECK_EQ_INT(store_search_json(s, "antarctic", 0, &json), 0);
    CHECK(strstr(json, "\"snippet\":\"[Antarctic] trip\"") != NULL);
    free(json);
    store_close(s);
}

static int collect_content(const struct store_msg *m, void *ud) {
    char *buf = ud;
    size_t l = strlen(buf);
    snprintf(buf + l, 4096 - l, "%s:%s:%s|", m->role, m->content, m->finish ? m->finish : "-");
    return 0;
}

TEST(store_reply_streaming_and_settings) {
    store *s = store_test_open(store_test_path("r.db"));
    CHECK(s != NULL);
    char a[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    CHECK(store_msg_add(s, a, "user", "hi", 0) > 0);
    CHECK(store_reply_begin(s, a, "m.gguf") > 0);
    CHECK(store_reply_begin(s, a, "m.gguf") == STORE_E_INVALID);
    CHECK_EQ_INT(store_reply_append(s, "Hel", 3), 0);
    CHECK_EQ_INT(store_reply_append(s, "lo", 2), 0);
    /* another connection sees the text after a flush, before the finish */
    CHECK_EQ_INT(store_reply_flush(s), 0);
    store *t = store_test_open(store_test_path("r.db"));
    CHECK(t != NULL);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(t, a, collect_content, buf), 0);
    CHECK_STR_EQ(buf, "user:hi:-|assistant:Hello:-|");
    struct store_reply_stats st = {.n_tokens = 2, .prompt_tps = 100.5, .gen_tps = 50};
    CHECK_EQ_INT(store_reply_finish(s, "stopped", &st), 0);
    buf[0] = 0;
    CHECK_EQ_INT(store_msg_each(t, a, collect_content, buf), 0);
    CHECK_STR_EQ(buf, "user:hi:-|assistant:Hello:stopped|");
    CHECK_EQ_INT(store_reply_append(s, "x", 1), STORE_E_INVALID);

    CHECK_EQ_INT(store_setting_get(s, STORE_SETTING_LAST_MODEL, buf, sizeof buf), STORE_E_NOTFOUND);
    CHECK_EQ_INT(store_setting_set(s, STORE_SETTING_LAST_MODEL, "/m/a.gguf"), 0);
    CHECK_EQ_INT(store_setting_set(s, STORE_SETTING_LAST_MODEL, "/m/b.gguf"), 0);
    CHECK_EQ_INT(store_setting_get(t, STORE_SETTING_LAST_MODEL, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "/m/b.gguf");
    CHECK_EQ_INT(store_setting_get(t, STORE_SETTING_LAST_MODEL, buf, 4), STORE_E_INVALID);
    store_close(t);
    store_close(s);
}

static char *export_one(store *s, const char *id) {
    char *out = NULL;
    return store_export_json(s, id, &out) == 0 ? out : NULL;
}

static void remember_id(const char *id, int n, void *ud) {
    (void)n;
    snprintf(ud, STORE_ID_LEN + 1, "%s", id);
}

/* Sampling JSON written by another program that SQLite 3.40's json_valid() passes but is not
 * JSON (a container as a key): the export gives "sampling": null instead of handing it to
 * json(), which would walk a malformed parse tree. */
TEST(store_export_bad_stored_sampling) {
    store *s = store_test_open(store_test_path("bs.db"));
    CHECK(s != NULL);
    char a[9];
    struct store_conv_params p = {.sampling = "{\"temp\":0.5}"};
    CHECK_EQ_INT(store_conv_new(s, &p, a), 0);
    CHECK(store_msg_add(s, a, "user", "hi", 0) > 0);
    char *good = export_one(s, a);
    CHECK(good != NULL && strstr(good, "\"sampling\":{\"temp\":0.5}") != NULL);
    free(good);
    store_close(s);
    sqlite3 *db;
    CHECK(sqlite3_open(store_test_path("bs.db"), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA ignore_check_constraints = ON; UPDATE conversations SET "
                           "sampling = '{[{\"\":\"\"}]:\"\"}'", 0, 0, 0) == SQLITE_OK);
    sqlite3_close(db);
    s = store_test_open(store_test_path("bs.db"));
    CHECK(s != NULL);
    char *bad = export_one(s, a);
    CHECK(bad != NULL);
    CHECK_MSG(strstr(bad, "\"sampling\":null") != NULL, "%s", bad);
    CHECK(strstr(bad, "\"content\":\"hi\"") != NULL);
    free(bad);
    store_close(s);
}

TEST(store_export_import_round_trip) {
    store *s = store_test_open(store_test_path("e1.db"));
    CHECK(s != NULL);
    char a[9], got[9] = "";
    struct store_conv_params p = {.model = "tiny.gguf", .template_name = "chatml",
                                  .system_prompt = "Be \"brief\".\n",
                                  .sampling = "{\"temp\":0.7,\"seed\":42}"};
    CHECK_EQ_INT(store_conv_new(s, &p, a), 0);
    CHECK(store_msg_add(s, a, "user", "Unicode: 日本語 é \u00e9 \t tab \\ backslash \x01 ctl", 0) > 0);
    CHECK(store_reply_begin(s, a, "tiny.gguf") > 0);
    CHECK_EQ_INT(store_reply_append(s, "line1\nline2 \"q\"", 15), 0);
    struct store_reply_stats st = {.n_tokens = 7, .prompt_tps = 123.456789, .gen_tps = 1e-3};
    CHECK_EQ_INT(store_reply_finish(s, "stop", &st), 0);
    CHECK_EQ_INT(store_conv_set_pinned(s, a, 1), 0);
    char *first = export_one(s, a);
    CHECK(first != NULL);
    CHECK(strstr(first, "\"messages\":[{\"role\":\"system\",\"content\":\"Be \\\"brief\\\".\\n\"") != NULL);
    CHECK(strstr(first, "\"tokens\":7") != NULL);
    CHECK(strstr(first, "\"finish\":\"stop\"") != NULL);
    CHECK(strstr(first, "\"pinned\":true") != NULL);

    /* into another database: same id, byte-identical export */
    store *t = store_test_open(store_test_path("e2.db"));
    CHECK(t != NULL);
    CHECK_EQ_INT(store_import_json(t, "x.json", first, strlen(first), remember_id, got), 0);
    CHECK_STR_EQ(got, a);
    char *second = export_one(t, a);
    CHECK_STR_EQ(second, first);
    /* into the same database: a new id, the same messages */
    CHECK_EQ_INT(store_import_json(s, "x.json", first, strlen(first), remember_id, got), 0);
    CHECK(strcmp(got, a) != 0);
    char *third = export_one(s, got);
    CHECK(third != NULL);
    CHECK(strcmp(strstr(third, "\"title\""), strstr(first, "\"title\"")) == 0);
    free(second);
    free(third);

    /* export --all and back */
    char *all = NULL;
    CHECK_EQ_INT(store_export_json(s, NULL, &all), 0);
    CHECK(all[0] == '[');
    store *u = store_test_open(store_test_path("e3.db"));
    CHECK(u != NULL);
    CHECK_EQ_INT(store_import_json(u, "all.json", all, strlen(all), NULL, NULL), 0);
    char *all2 = NULL;
    CHECK_EQ_INT(store_export_json(u, NULL, &all2), 0);
    CHECK_STR_EQ(all2, all);
    free(all);
    free(all2);

    /* the plain message array: leading system message becomes the system prompt */
    const char *plain = "[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":"
                        "\"What is 2+2?\"},{\"role\":\"assistant\",\"content\":\"4\"}]";
    CHECK_EQ_INT(store_import_json(u, "p.json", plain, strlen(plain), remember_id, got), 0);
    struct store_conv c;
    CHECK_EQ_INT(store_conv_get(u, got, &c), 0);
    CHECK_STR_EQ(c.system_prompt, "S");
    CHECK_STR_EQ(c.title, "What is 2+2?");
    CHECK_EQ_INT(c.n_messages, 2);
    store_conv_clear(&c);
    free(first);
    store_close(u);
    store_close(t);
    store_close(s);
}

TEST(store_import_bad_json) {
    store *s = store_test_open(store_test_path("bad.db"));
    CHECK(s != NULL);
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"[{\"role\": \"user\",\n  \"content\": \"hi\" \"x\"}]", "invalid JSON at line 2, column 19"},
        {"{\"messages\": [1, 2,]}", "invalid JSON at line 1, column 20"},
        {"[{\"role\":\"user\",\"content\":\"é\u00e9\"}, tru]", "invalid JSON at line 1, column 37"},
        {"", "invalid JSON at line 1, column 1"},
        {"[\n\n{\"a\":\"unterminated}]", "invalid JSON at line 3, column 21"},
        {"{} x", "invalid JSON at line 1, column 4"},
        /* a container as an object key: SQLite 3.40's json_valid() accepts this, and its
         * json_type() then read past its parse tree (a crash the fuzzer found) */
        {"[{\"messages\":[{[{\"\":\"\",\"\":\"\",\"\":\"\"}]:\"\"}]}]",
         "invalid JSON at line 1, column 16"},
        {"{\"messages\":[],\"sampling\":{[\"x\"]:\"y\"}}", "invalid JSON at line 1, column 28"},
        {"\"just a string\"", "expected a conversation object"},
        {"[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"bot\",\"content\":\"b\"}]",
         "message 2: \"role\" must be"},
        {"[{\"role\":\"user\",\"content\":5}]", "message 1: \"content\" must be a string"},
        {"{\"messages\":{}}", "\"messages\" must be an array"},
        {"{\"messages\":[],\"created\":\"yesterday\"}", "\"created\" must be a date"},
        {"[{\"natter\":1,\"messages\":[]},{\"natter\":1,\"messages\":[{\"role\":1}]}]",
         "conversation 2: message 1: \"role\""},
        /* numbers that would not export as they came in */
        {"[{\"role\":\"user\",\"content\":\"a\",\"tokens\":100000000000000000000000}]",
         "message 1: \"tokens\" must be a 64-bit integer"},
        {"[{\"role\":\"user\",\"content\":\"a\",\"gen_tps\":1e400}]",
         "message 1: \"gen_tps\" must be a number below 1e300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = store_import_json(s, "in.json", cases[i].json, strlen(cases[i].json), NULL, NULL);
        CHECK_MSG(r == STORE_E_INVALID, "case %zu: %d", i, r);
        CHECK_MSG(strstr(store_errmsg(s), cases[i].msg) != NULL, "case %zu: got '%s'", i,
                  store_errmsg(s));
        CHECK(strncmp(store_errmsg(s), "in.json: ", 9) == 0);
    }
    /* deep nesting is an error, not a crash */
    size_t n = 200000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = 0;
    CHECK_EQ_INT(store_import_json(s, "d.json", deep, n, NULL, NULL), STORE_E_INVALID);
    CHECK_STR_EQ(store_errmsg(s),
                 "d.json: invalid JSON at line 1, column 1001: nested deeper than 1000 levels");
    free(deep);
    store_close(s);
    CHECK_EQ_INT(store_test_int(store_test_path("bad.db"), "SELECT count(*) FROM conversations"), 0);
}

static int file_equals(const char *path, const char *data, size_t len) {
    size_t n;
    char *got = test_read_file(path, &n);
    int eq = got && n == len && memcmp(got, data, len) == 0;
    free(got);
    return eq;
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

TEST(store_refuses_corrupt_untouched) {
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 3);
    char hdr[8192];
    memcpy(hdr, junk, sizeof hdr);
    memcpy(hdr, "SQLite format 3", 16); /* right magic, garbage after */
    const struct {
        const char *name;
        const char *data;
        size_t len;
    } files[] = {
        {"text.db", "hello, I am not a database\n", 27},
        {"junk.db", junk, sizeof junk},
        {"hdr.db", hdr, sizeof hdr},
        {"tiny.db", "SQLite format 3", 16},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *path = store_test_path(files[i].name);
        write_file(path, files[i].data, files[i].len);
        store *s = NULL;
        char err[512];
        int r = store_open(path, &s, err, sizeof err);
        CHECK_MSG(r == STORE_E_NOTDB, "%s: %d %s", files[i].name, r, err);
        CHECK(s == NULL);
        CHECK_MSG(strstr(err, path) && strstr(err, "untouched"), "%s", err);
        CHECK(file_equals(path, files[i].data, files[i].len));
        char side[1100];
        snprintf(side, sizeof side, "%s-wal", path);
        CHECK(access(side, F_OK) != 0);
    }
    /* another application's database is not adopted */
    const char *other = store_test_path("other.db");
    sqlite3 *db;
    CHECK(sqlite3_open(other, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", 0, 0, 0) == SQLITE_OK);
    sqlite3_close(db);
    size_t n;
    char *before = test_read_file(other, &n);
    store *s = NULL;
    char err[512];
    CHECK_EQ_INT(store_open(other, &s, err, sizeof err), STORE_E_NOTDB);
    CHECK(strstr(err, "another application") != NULL);
    CHECK(file_equals(other, before, n));
    free(before);
}

TEST(store_refuses_newer_schema_untouched) {
    const char *path = store_test_path("new.db");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    char a[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    store_close(s);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99", 0, 0, 0) ==
          SQLITE_OK);
    sqlite3_close(db);
    size_t n;
    char *before = test_read_file(path, &n);
    char err[512];
    CHECK_EQ_INT(store_open(path, &s, err, sizeof err), STORE_E_NEWER);
    CHECK(strstr(err, "newer natter") != NULL);
    CHECK(file_equals(path, before, n));
    free(before);
}

TEST(store_readonly_dir_and_full_disk) {
    char dir[1024], path[1100], err[512];
    snprintf(dir, sizeof dir, "%s/ro", test_tmpdir());
    CHECK(mkdir(dir, 0500) == 0);
    snprintf(path, sizeof path, "%s/natter.db", dir);
    store *s = NULL;
    if (geteuid() != 0) { /* root ignores the permission bits */
        CHECK(store_open(path, &s, err, sizeof err) < 0);
        CHECK(s == NULL);
        CHECK_MSG(strstr(err, path) != NULL, "%s", err);
    }
    /* a write that meets the file size limit fails cleanly and leaves the data as it was */
    const char *fpath = store_test_path("full.db");
    s = store_test_open(fpath);
    CHECK(s != NULL);
    char a[9];
    CHECK_EQ_INT(store_conv_new(s, NULL, a), 0);
    CHECK(store_msg_add(s, a, "user", "kept", 0) > 0);
    store_close(s);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        store *c = store_test_open(fpath);
        struct rlimit rl = {256 * 1024, 256 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        size_t big = 2u << 20;
        char *text = malloc(big + 1);
        for (size_t i = 0; i < big; i++)
            text[i] = (char)('a' + (i * 2654435761u >> 7) % 26); /* poorly compressible words */
        text[big] = 0;
        int64_t r = store_msg_add(c, a, "user", text, 0);
        if (r < 0)
            fprintf(stderr, "%s\n", store_errmsg(c));
        _exit(r < 0 ? 3 : 0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d", status);
    s = store_test_open(fpath);
    CHECK(s != NULL);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(s, a, collect_content, buf), 0);
    CHECK_STR_EQ(buf, "user:kept:-|");
    store_close(s);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(store_sigkill_mid_reply_keeps_partial) {
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
        for (;;) { /* a token every 5 ms, forever */
            store_reply_append(c, "tok ", 4);
            struct timespec d = {0, 5 * 1000000};
            nanosleep(&d, NULL);
        }
    }
    /* wait until at least 20 tokens are on disk, then kill -9 */
    long long len = 0;
    int64_t t0 = now_ms();
    while (len < 80 && now_ms() - t0 < 10000) {
        struct timespec d = {0, 20 * 1000000};
        nanosleep(&d, NULL);
        len = store_test_int(path, "SELECT coalesce(max(length(content)), 0) FROM messages "
                            "WHERE role = 'assistant'");
    }
    int64_t t_kill = now_ms();
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK_MSG(len >= 80, "reply never reached the disk (%lld bytes)", len);
    (void)t_kill;
    s = store_test_open(path);
    CHECK(s != NULL);
    char buf[4096] = "";
    CHECK_EQ_INT(store_msg_each(s, a, collect_content, buf), 0);
    CHECK(strncmp(buf, "user:go:-|assistant:tok tok tok tok ", 36) == 0);
    CHECK(strstr(buf, ":-|") != NULL); /* no finish reason: the writer died */
    store_close(s);
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM search WHERE search MATCH 'tok'"), 1);
}

TEST(store_two_writer_processes_lose_nothing) {
    const char *path = store_test_path("w.db");
    store *s = store_test_open(path);
    CHECK(s != NULL);
    store_close(s);
    enum { N_PROC = 2, N_CONV = 25, N_MSG = 4 };
    pid_t pids[N_PROC];
    for (int p = 0; p < N_PROC; p++) {
        if ((pids[p] = fork()) == 0) {
            store *c = store_test_open(path);
            if (!c)
                _exit(2);
            for (int i = 0; i < N_CONV; i++) {
                char id[9];
                if (store_conv_new(c, NULL, id) != 0)
                    _exit(3);
                for (int m = 0; m < N_MSG; m++)
                    if (store_msg_add(c, id, m % 2 ? "assistant" : "user", "text", 0) <= 0) {
                        fprintf(stderr, "%s\n", store_errmsg(c));
                        _exit(4);
                    }
                if (store_reply_begin(c, id, NULL) <= 0 || store_reply_append(c, "r", 1) ||
                    store_reply_finish(c, "stop", NULL))
                    _exit(5);
            }
            store_close(c);
            _exit(0);
        }
    }
    for (int p = 0; p < N_PROC; p++) {
        int status;
        CHECK(waitpid(pids[p], &status, 0) == pids[p]);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d: status %d", p,
                  status);
    }
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM conversations"), N_PROC * N_CONV);
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM messages"), N_PROC * N_CONV * (N_MSG + 1));
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM messages WHERE content = 'r' AND "
                               "finish = 'stop'"), N_PROC * N_CONV);
    CHECK_EQ_INT(store_test_int(path, "SELECT count(*) FROM search"), N_PROC * N_CONV * (N_MSG + 2));
}

TEST(store_json_object_builds_valid_json) {
    store *s = NULL;
    char err[256];
    CHECK_EQ_INT(store_open(":memory:", &s, err, sizeof err), 0);
    const struct store_json_field f[] = {
        {"temp", 0, 0, 0.5}, {"seed", 1, -1, 0}, {"big", 1, 9007199254740993LL, 0},
        {"na\"me", 0, 0, 1.0 / 0.0}, {"f", 0, 0, 0.8f}, {"d", 0, 0, 0.1}, {"e", 0, 0, 1e-7f},
    };
    char *out = NULL;
    CHECK_EQ_INT(store_json_object(s, f, 7, &out), 0);
    /* a float's shortest text (0.8f, not 0.800000011920929); a double's own */
    CHECK_STR_EQ(out, "{\"temp\":0.5,\"seed\":-1,\"big\":9007199254740993,\"na\\\"me\":null,"
                      "\"f\":0.8,\"d\":0.1,\"e\":1e-07}");
    free(out);
    CHECK(store_json_object(s, f, 0, &out) == STORE_E_INVALID && out == NULL);
    store_close(s);
}
