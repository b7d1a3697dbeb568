/* tests/fuzz/fuzz_json_read.c — libFuzzer target for the JSON reader (src/json_read.c), which
 * reads HTTP request bodies and servers' stream chunks. Checked: text is accepted exactly when the
 * syntax check accepts it; every node of an accepted tree is walked (kinds, counts, keys only on
 * object members, strings NUL-terminated) and the lookups run on each container. */
#include "json_read.h"
#include "json_syntax.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_walk(const struct json_node *x, int in_object) {
    if ((x->key != NULL) != in_object)
        abort();
    if (x->type == JSON_STRING || x->type == JSON_NUMBER) {
        if (!x->str || x->str[x->len] != '\0')
            abort();
    }
    if (x->type == JSON_ARRAY || x->type == JSON_OBJECT) {
        int k = 0;
        for (const struct json_node *c = x->child; c; c = c->next, k++)
            fz_walk(c, x->type == JSON_OBJECT);
        if (k != x->n)
            abort();
        if (x->type == JSON_OBJECT && x->child && json_node_get(x, x->child->key) == NULL &&
            strlen(x->child->key) == x->child->key_len)
            abort();
        if (x->type == JSON_ARRAY && x->n > 0 && json_node_at(x, x->n - 1) == NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    struct json_doc *d = NULL;
    char err[128];
    size_t off;
    const char *why;
    int ok = json_syntax_check(p, size, &off, &why) == 0;
    int rc = json_doc_parse(p, size, &d, err, sizeof err);
    if ((rc == 0) != ok)
        abort();
    if (rc == 0)
        fz_walk(json_doc_root(d), 0);
    json_doc_free(d);
    return 0;
}
