/* tests/test_json_syntax.c — the strict JSON syntax check (src/json_syntax.c): exact error
 * offsets and reasons for valid and invalid text, including the invalid text SQLite 3.40's
 * json_valid() accepts (a container where an object key belongs), NUL bytes and the depth
 * limit, and the message with its line and column. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json_syntax.h"

struct json_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    int rc;
    size_t off;
};

static const struct json_case json_cases[] = {
    /* valid: every value kind, whitespace around, escapes, number forms */
    {"{}", 0, 0, 2},
    {" \t\r\n[ ] \n", 0, 0, 9},
    {"{\"a\":[1,-2.5e+3,0,0.0,1E-9,true,false,null,\"\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t\"],\"\":{}}", 0,
     0, 75},
    {"\"caf\xc3\xa9\"", 0, 0, 7},
    {"-0", 0, 0, 2},
    /* a container as an object key: json_valid() in SQLite 3.40 says yes to these */
    {"[{\"messages\":[{[{\"\":\"\",\"\":\"\",\"\":\"\"}]:\"\"}]}]", 0, -1, 15},
    {"{[\"x\"]:\"y\"}", 0, -1, 1},
    {"{{\"a\":\"b\"}:1}", 0, -1, 1},
    {"{1:2}", 0, -1, 1},
    /* syntax errors at their first offending byte */
    {"", 0, -1, 0},
    {"   ", 0, -1, 3},
    {"[", 0, -1, 1},
    {"[1,]", 0, -1, 3},
    {"[1 2]", 0, -1, 3},
    {"{\"a\" 1}", 0, -1, 5},
    {"{\"a\":1,}", 0, -1, 7},
    {"{\"a\":1]", 0, -1, 6},
    {"01", 0, -1, 1},
    {"1.", 0, -1, 2},
    {"1e", 0, -1, 2},
    {"-", 0, -1, 1},
    {"+1", 0, -1, 0},
    {"tru", 0, -1, 3},
    {"nul", 0, -1, 3},
    {"\"a\\x\"", 0, -1, 3},
    {"\"\\u12G4\"", 0, -1, 5},
    {"\"tab\there\"", 0, -1, 4},
    {"\"open", 0, -1, 5},
    {"{} x", 0, -1, 3},
    {"{}{}", 0, -1, 2},
    /* NUL bytes: inside a string, after the value, as the value */
    {"\"a\0b\"", 5, -1, 2},
    {"{}\0", 3, -1, 2},
    {"\0", 1, -1, 0},
};

TEST(json_syntax_offsets) {
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
        const struct json_case *c = &json_cases[i];
        size_t len = c->len ? c->len : strlen(c->text), off = 12345;
        const char *why = "unset";
        int rc = json_syntax_check(c->text, len, &off, &why);
        CHECK_MSG(rc == c->rc && off == c->off && why == NULL,
                  "case %zu: rc %d off %zu why %s, want rc %d off %zu", i, rc, off,
                  why ? why : "NULL", c->rc, c->off);
    }
}

TEST(json_syntax_depth_limit) {
    size_t n = 2 * (JSON_SYNTAX_DEPTH_MAX + 1);
    char *t = malloc(n);
    CHECK(t != NULL);
    memset(t, '[', n / 2);
    memset(t + n / 2, ']', n / 2);
    size_t off;
    const char *why;
    /* 1000 levels are fine, 1001 are refused at the 1001st bracket with the reason */
    CHECK_EQ_INT(json_syntax_check(t + 1, n - 2, &off, &why), 0);
    CHECK_EQ_INT(off, n - 2);
    CHECK_EQ_INT(json_syntax_check(t, n, &off, &why), -1);
    CHECK_EQ_INT(off, JSON_SYNTAX_DEPTH_MAX);
    CHECK(why != NULL && strcmp(why, "nested deeper than 1000 levels") == 0);
    free(t);
    /* objects count the same: {"a":{"a":...1...}} with 1001 levels */
    size_t levels = JSON_SYNTAX_DEPTH_MAX + 1;
    t = malloc(6 * levels + 1);
    CHECK(t != NULL);
    size_t k = 0;
    for (size_t i = 0; i < levels; i++, k += 5)
        memcpy(t + k, "{\"a\":", 5);
    t[k++] = '1';
    memset(t + k, '}', levels);
    k += levels;
    CHECK_EQ_INT(json_syntax_check(t, k, &off, &why), -1);
    CHECK_EQ_INT(off, 5 * JSON_SYNTAX_DEPTH_MAX);
    CHECK(why != NULL);
    CHECK_EQ_INT(json_syntax_check(t + 5, k - 6, &off, &why), 0);
    free(t);
}

TEST(json_syntax_error_message) {
    const char *t = "[\n  \"\xc3\xa9\xc3\xa9\",\n\t1 x";
    char msg[96] = "";
    CHECK_EQ_INT(json_syntax_error(t, strlen(t), msg, sizeof msg), -1);
    CHECK_STR_EQ(msg, "invalid JSON at line 3, column 4"); /* the tab is one column */
    const char *u = "[\"\xc3\xa9\xc3\xa9\" x]"; /* columns count characters, not bytes */
    CHECK_EQ_INT(json_syntax_error(u, strlen(u), msg, sizeof msg), -1);
    CHECK_STR_EQ(msg, "invalid JSON at line 1, column 7");
    char deep[1002];
    memset(deep, '[', sizeof deep);
    CHECK_EQ_INT(json_syntax_error(deep, sizeof deep, msg, sizeof msg), -1);
    CHECK_STR_EQ(msg, "invalid JSON at line 1, column 1001: nested deeper than 1000 levels");
    strcpy(msg, "untouched");
    CHECK_EQ_INT(json_syntax_error("[1]", 3, msg, sizeof msg), 0);
    CHECK_STR_EQ(msg, "untouched");
}

TEST(json_syntax_top_kind) {
    CHECK_EQ_INT(json_syntax_top(" \n\t{}", 5), '{');
    CHECK_EQ_INT(json_syntax_top("[1]", 3), '[');
    CHECK_EQ_INT(json_syntax_top("\r\"s\"", 4), '"');
    CHECK_EQ_INT(json_syntax_top("-1", 2), '-');
    CHECK_EQ_INT(json_syntax_top("   ", 3), 0);
    CHECK_EQ_INT(json_syntax_top("[", 0), 0); /* only n bytes are looked at */
}
