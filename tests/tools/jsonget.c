/* tests/tools/jsonget.c — prints one value of the JSON on stdin, for the test scripts:
 *
 *   jsonget PATH          PATH like choices.0.message.content (object keys and array indexes)
 *   jsonget --sse PATH    stdin is a server-sent event stream: the value in each "data: {...}"
 *                         event ("data: [DONE]" skipped), strings concatenated
 *
 * A string prints as its bytes, another value as its JSON text (numbers as written, true,
 * false, null, "array"/"object" for those). Exit 1 when the JSON is invalid or (without --sse)
 * the path is absent. Single-threaded tool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"

static const struct json_node *path_get(const struct json_node *n, const char *path) {
    char key[256];
    while (n && *path) {
        size_t k = strcspn(path, ".");
        if (k >= sizeof key)
            return NULL;
        memcpy(key, path, k);
        key[k] = 0;
        path += k + (path[k] == '.');
        if (n->type == JSON_ARRAY) {
            char *end;
            long i = strtol(key, &end, 10);
            if (*end || i < 0)
                return NULL;
            n = n->child;
            while (n && i-- > 0)
                n = n->next;
        } else {
            n = json_node_get(n, key);
        }
    }
    return n;
}

static void print_node(const struct json_node *v) {
    switch (v->type) {
    case JSON_STRING: fwrite(v->str, 1, v->len, stdout); break;
    case JSON_NUMBER: fwrite(v->str, 1, v->len, stdout); break;
    case JSON_TRUE: fputs("true", stdout); break;
    case JSON_FALSE: fputs("false", stdout); break;
    case JSON_NULL: fputs("null", stdout); break;
    case JSON_ARRAY: fputs("array", stdout); break;
    case JSON_OBJECT: fputs("object", stdout); break;
    }
}

/* 0 printed, 1 absent, 2 invalid JSON. */
static int get_one(const char *text, size_t n, const char *path) {
    struct json_doc *d = NULL;
    char err[200];
    if (json_doc_parse(text, n, &d, err, sizeof err) != 0) {
        fprintf(stderr, "jsonget: %s\n", err);
        return 2;
    }
    const struct json_node *v = path_get(json_doc_root(d), path);
    if (v)
        print_node(v);
    json_doc_free(d);
    return v ? 0 : 1;
}

int main(int argc, char **argv) {
    int sse = argc == 3 && !strcmp(argv[1], "--sse");
    if (argc != 2 + sse) {
        fprintf(stderr, "usage: jsonget [--sse] PATH < JSON\n");
        return 2;
    }
    const char *path = argv[1 + sse];
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (!buf)
        return 2;
    int rc = 0;
    if (!sse) {
        rc = get_one(buf, n, path);
    } else {
        for (size_t i = 0; i < n;) {
            char *nl = memchr(buf + i, '\n', n - i);
            size_t end = nl ? (size_t)(nl - buf) : n;
            if (end - i > 6 && !memcmp(buf + i, "data: ", 6) &&
                !(end - i == 12 && !memcmp(buf + i + 6, "[DONE]", 6)) &&
                get_one(buf + i + 6, end - i - 6, path) == 2)
                rc = 1;
            i = end + 1;
        }
    }
    free(buf);
    return rc;
}
