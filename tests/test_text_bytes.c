/* tests/test_text_bytes.c — text that holds NUL and other control bytes, or invalid UTF-8,
 * through the store and the prompt: json_text_decode byte for byte, import -> messages ->
 * export -> import of "a\u0000b" exact, invalid UTF-8 replaced by U+FFFD with a notice, NUL
 * refused (with the message named) where a field is a C string, store_msg_add_len keeping
 * every byte, and the built-in prompt formats rendering a message's bytes past a NUL. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json_syntax.h"
#include "prompts.h"
#include "store.h"

static int tb_decode(const char *lit, char *out, size_t *len) {
    return json_text_decode(lit, strlen(lit), out, len);
}

TEST(text_bytes_json_decode) {
    char out[64];
    size_t len = 0;
    CHECK_EQ_INT(tb_decode("\"a\\u0000b\"", out, &len), JSON_TEXT_NUL);
    CHECK_EQ_INT(len, 3);
    CHECK(!memcmp(out, "a\0b", 3));
    CHECK_EQ_INT(tb_decode("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"", out, &len), 0);
    CHECK_EQ_INT(len, 8 + 2 + 4);
    CHECK(!memcmp(out, "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80", len));
    /* a lone surrogate, a raw invalid byte, an overlong form, a cut sequence: U+FFFD each */
    CHECK_EQ_INT(tb_decode("\"\\ud800x\xff\xc0\xaf\xe2\x82\"", out, &len), JSON_TEXT_BAD_UTF8);
    CHECK_EQ_INT(len, 3 + 1 + 3 + 3 + 3 + 3 + 3);
    CHECK(!memcmp(out, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
                  len));
    CHECK_EQ_INT(tb_decode("\"\xed\xa0\x80\"", out, &len), JSON_TEXT_BAD_UTF8); /* CESU */
    CHECK_EQ_INT(tb_decode("\"\xf4\x8f\xbf\xbf\"", out, &len), 0);              /* U+10FFFF */
    CHECK_EQ_INT(tb_decode("\"\xf4\x90\x80\x80\"", out, &len), JSON_TEXT_BAD_UTF8);
    CHECK_EQ_INT(tb_decode("12", out, &len), -1);
    CHECK_EQ_INT(tb_decode("null", out, &len), -1);
}

struct tb_msgs {
    char *text[8];
    size_t len[8];
    int n;
};

static int tb_collect(const struct store_msg *m, void *ud) {
    struct tb_msgs *t = ud;
    if (t->n < 8) {
        t->text[t->n] = malloc(m->content_len + 1);
        memcpy(t->text[t->n], m->content, m->content_len + 1);
        t->len[t->n++] = m->content_len;
    }
    return 0;
}

static void tb_free(struct tb_msgs *t) {
    for (int i = 0; i < t->n; i++)
        free(t->text[i]);
    t->n = 0;
}

static void tb_first_id(const char *id, int n, void *ud) {
    (void)n;
    snprintf(ud, STORE_ID_LEN + 1, "%s", id);
}

TEST(text_bytes_store_nul_round_trip) {
    store *s = NULL;
    CHECK_EQ_INT(store_open(":memory:", &s, NULL, 0), 0);
    static const char in[] = "[{\"role\":\"user\",\"content\":\"a\\u0000b\\u001b[31m\"},"
                             "{\"role\":\"assistant\",\"content\":\"x\\u0000\","
                             "\"reasoning_content\":\"r\\u0000s\"}]";
    char id[STORE_ID_LEN + 1] = "";
    CHECK_EQ_INT(store_import_json(s, "in", in, strlen(in), tb_first_id, id), 0);
    CHECK_STR_EQ(store_notice(s), "");
    struct tb_msgs t = {0};
    CHECK_EQ_INT(store_msg_each(s, id, tb_collect, &t), 0);
    CHECK_EQ_INT(t.n, 2);
    CHECK_EQ_INT(t.len[0], 8);
    CHECK(!memcmp(t.text[0], "a\0b\x1b[31m", 8));
    CHECK_EQ_INT(t.len[1], 2);
    CHECK(!memcmp(t.text[1], "x\0", 2));
    tb_free(&t);
    char *json = NULL;
    CHECK_EQ_INT(store_export_json(s, id, &json), 0);
    CHECK(strstr(json, "\"content\":\"a\\u0000b\\u001b[31m\""));
    CHECK(strstr(json, "\"content\":\"x\\u0000\""));
    CHECK(strstr(json, "\"reasoning_content\":\"r\\u0000s\""));
    /* exported, deleted, imported again: the same bytes */
    CHECK_EQ_INT(store_conv_delete(s, id), 0);
    CHECK_EQ_INT(store_import_json(s, "rt", json, strlen(json), NULL, NULL), 0);
    char *again = NULL;
    CHECK_EQ_INT(store_export_json(s, id, &again), 0);
    CHECK_STR_EQ(again, json);
    free(again);
    free(json);
    /* a message added with its length keeps every byte; search finds the text after the NUL */
    CHECK(store_msg_add_len(s, id, "user", "p\0quux", 6, NULL, 0, 0) > 0);
    CHECK_EQ_INT(store_msg_each(s, id, tb_collect, &t), 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.len[2], 6);
    CHECK(!memcmp(t.text[2], "p\0quux", 6));
    tb_free(&t);
    char *hits = NULL;
    CHECK_EQ_INT(store_search_json(s, "quux", 10, &hits), 0);
    CHECK(strstr(hits, "\"role\":\"user\""));
    free(hits);
    store_close(s);
}

TEST(text_bytes_store_refuses_and_replaces) {
    store *s = NULL;
    CHECK_EQ_INT(store_open(":memory:", &s, NULL, 0), 0);
    /* "user\u0000x" was read as "user" by SQLite's ->>: now refused, naming the message */
    static const char role[] = "[{\"role\":\"user\",\"content\":\"ok\"},"
                               "{\"role\":\"user\\u0000x\",\"content\":\"y\"}]";
    CHECK_EQ_INT(store_import_json(s, "f.json", role, strlen(role), NULL, NULL),
                 STORE_E_INVALID);
    CHECK_STR_EQ(store_errmsg(s), "f.json: message 2: \"role\", \"model\" and \"finish\" cannot "
                                  "hold a NUL byte (U+0000)");
    static const char sys[] = "[{\"role\":\"system\",\"content\":\"be\\u0000\"}]";
    CHECK_EQ_INT(store_import_json(s, "f.json", sys, strlen(sys), NULL, NULL), STORE_E_INVALID);
    CHECK_STR_EQ(store_errmsg(s),
                 "f.json: message 1: a system prompt cannot hold a NUL byte (U+0000)");
    static const char title[] = "{\"title\":\"t\\u0000\",\"messages\":[]}";
    CHECK_EQ_INT(store_import_json(s, "f.json", title, strlen(title), NULL, NULL),
                 STORE_E_INVALID);
    CHECK(strstr(store_errmsg(s), "cannot hold a NUL byte"));
    /* invalid UTF-8: imported with U+FFFD in its place, and said so */
    static const char bad[] = "[{\"role\":\"user\",\"content\":\"fine\"},"
                              "{\"role\":\"user\",\"content\":\"a\xff\\ud800\"}]";
    char id[STORE_ID_LEN + 1] = "";
    CHECK_EQ_INT(store_import_json(s, "f.json", bad, strlen(bad), tb_first_id, id), 0);
    CHECK_STR_EQ(store_notice(s), "f.json: message 2: invalid UTF-8 replaced with U+FFFD");
    struct tb_msgs t = {0};
    CHECK_EQ_INT(store_msg_each(s, id, tb_collect, &t), 0);
    CHECK_EQ_INT(t.n, 2);
    CHECK_STR_EQ(t.text[1], "a\xef\xbf\xbd\xef\xbf\xbd");
    tb_free(&t);
    store_close(s);
}

TEST(text_bytes_prompt_keeps_bytes_past_nul) {
    static const char tmpl[] = "user.prefix = \"<u>\"\nuser.suffix = \"</u>\"\n";
    char err[256];
    struct prompts_template *t = prompts_template_parse("t", "t.tmpl", tmpl, strlen(tmpl), err,
                                                        sizeof err);
    CHECK_MSG(t, "%s", err);
    struct prompts_msg m[] = {{"user", "a\0b", 3}, {"user", "plain", 0}};
    char *out = NULL;
    unsigned char *mask = NULL;
    long n = prompts_render_masked(t, m, 2, 0, &out, &mask);
    CHECK_EQ_INT(n, 3 + 3 + 4 + 3 + 5 + 4);
    CHECK(!memcmp(out, "<u>a\0b</u><u>plain</u>", (size_t)n));
    CHECK_EQ_INT(mask[3] + mask[4] + mask[5], 3); /* the message's bytes, NUL included */
    CHECK_EQ_INT(mask[6], 0);
    free(out);
    free(mask);
    prompts_template_free(t);
}
