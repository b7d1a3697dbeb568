/* tests/test_json_read.c — the JSON reader (src/json_read.c): every value kind read back exactly
 * (decoded strings with NUL bytes and invalid UTF-8, numbers' text and value, member order,
 * repeated keys), lookups on the wrong kinds, errors with their position, and the number reading
 * under a locale whose decimal point is a comma. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json_read.h"

TEST(json_read_values) {
    const char *t = " {\"model\":\"q\\u00e9n\",\"n\":[1,-2.5e+3,0,true,false,null],"
                    "\"o\":{},\"a\":[],\"z\":\"a\\u0000b\",\"k\":1,\"k\":2} ";
    struct json_doc *d = NULL;
    char err[128] = "";
    CHECK_EQ_INT(json_doc_parse(t, strlen(t), &d, err, sizeof err), 0);
    const struct json_node *r = json_doc_root(d);
    CHECK(r && r->type == JSON_OBJECT);
    CHECK_EQ_INT(r->n, 7);
    size_t len = 0;
    const char *s = json_node_get_str(r, "model", &len);
    CHECK(s && len == 4 && memcmp(s, "q\xc3\xa9n", 4) == 0 && s[4] == '\0');
    const struct json_node *n = json_node_get(r, "n");
    CHECK(n && n->type == JSON_ARRAY && n->n == 6);
    CHECK(json_node_at(n, 0)->type == JSON_NUMBER && json_node_at(n, 0)->num == 1.0);
    CHECK(json_node_at(n, 1)->num == -2500.0);
    CHECK_STR_EQ(json_node_at(n, 1)->str, "-2.5e+3");
    CHECK(json_node_at(n, 3)->type == JSON_TRUE && json_node_at(n, 4)->type == JSON_FALSE);
    CHECK(json_node_at(n, 5)->type == JSON_NULL && json_node_at(n, 6) == NULL);
    CHECK(json_node_at(n, -1) == NULL && json_node_at(r, 0) == NULL);
    CHECK(json_node_get(r, "o")->n == 0 && json_node_get(r, "o")->child == NULL);
    CHECK(json_node_get(r, "a")->type == JSON_ARRAY && json_node_get(r, "a")->n == 0);
    s = json_node_get_str(r, "z", &len);
    CHECK(s && len == 3 && memcmp(s, "a\0b", 3) == 0);
    CHECK(json_node_get(r, "k")->num == 2.0); /* the last of a repeated key */
    CHECK(json_node_get_str(r, "k", NULL) == NULL); /* not a string */
    CHECK(json_node_get(r, "missing") == NULL && json_node_get(n, "model") == NULL);
    CHECK(json_node_get(NULL, "x") == NULL);
    /* members keep their order */
    const char *order[] = {"model", "n", "o", "a", "z", "k", "k"};
    int i = 0;
    for (const struct json_node *m = r->child; m; m = m->next, i++)
        CHECK(i < 7 && m->key && strcmp(m->key, order[i]) == 0);
    CHECK_EQ_INT(i, 7);
    json_doc_free(d);
}

TEST(json_read_scalars_and_bad_utf8) {
    struct json_doc *d = NULL;
    char err[128];
    CHECK_EQ_INT(json_doc_parse("\"\xff\"", 3, &d, err, sizeof err), 0);
    const struct json_node *r = json_doc_root(d);
    CHECK(r->type == JSON_STRING && r->len == 3 && memcmp(r->str, "\xef\xbf\xbd", 3) == 0);
    CHECK(r->key == NULL);
    json_doc_free(d);
    CHECK_EQ_INT(json_doc_parse("1e999", 5, &d, err, sizeof err), 0);
    CHECK(json_doc_root(d)->num > 1e308);
    json_doc_free(d);
    json_doc_free(NULL);
}

TEST(json_read_errors) {
    struct json_doc *d = (struct json_doc *)1;
    char err[128];
    CHECK_EQ_INT(json_doc_parse("{\"a\":1,}", 8, &d, err, sizeof err), -1);
    CHECK(d == NULL);
    CHECK_STR_EQ(err, "invalid JSON at line 1, column 8");
    CHECK_EQ_INT(json_doc_parse("", 0, &d, err, sizeof err), -1);
    CHECK_EQ_INT(json_doc_parse("[1] [2]", 7, &d, err, sizeof err), -1);
    CHECK_EQ_INT(json_doc_parse("\"a\0\"", 4, &d, err, sizeof err), -1); /* raw NUL */
}

TEST(json_read_nested_deep) {
    /* 1000 levels (the limit) read back whole: the builder recurses once a level */
    size_t n = 2 * 1000;
    char *t = malloc(n);
    CHECK(t != NULL);
    memset(t, '[', 1000);
    memset(t + 1000, ']', 1000);
    struct json_doc *d = NULL;
    char err[128];
    CHECK_EQ_INT(json_doc_parse(t, n, &d, err, sizeof err), 0);
    int depth = 0;
    for (const struct json_node *x = json_doc_root(d); x; x = x->child)
        depth++;
    CHECK_EQ_INT(depth, 1000);
    json_doc_free(d);
    free(t);
}

TEST(json_read_number_locale) {
    /* natter sets the user's locale for the terminal; a comma decimal point must not cut 0.5 */
    const char *old = setlocale(LC_NUMERIC, NULL);
    char *saved = old ? strdup(old) : NULL;
    int have = setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8");
    struct json_doc *d = NULL;
    char err[128];
    CHECK_EQ_INT(json_doc_parse("[0.5, 2.25e1]", 13, &d, err, sizeof err), 0);
    CHECK(json_node_at(json_doc_root(d), 0)->num == 0.5);
    CHECK(json_node_at(json_doc_root(d), 1)->num == 22.5);
    json_doc_free(d);
    setlocale(LC_NUMERIC, saved ? saved : "C");
    free(saved);
    if (!have)
        SKIP("no comma-decimal locale installed (de_DE/fr_FR): read in the C locale only");
}
