/* src/json_read.h — reading JSON text into a tree: the bodies of HTTP requests (natter serve) and
 * the chunks of a server's event stream (the remote backend). The text is first checked by
 * json_syntax_check (strict RFC 8259, depth <= JSON_SYNTAX_DEPTH_MAX), so nothing invalid is ever
 * half-read; strings are decoded with json_text_decode (invalid UTF-8 becomes U+FFFD, \u0000 is
 * kept as a NUL byte). The tree lives in one document that owns all of its memory. Pure; any
 * thread (one document per thread at a time). Errors: -1 with a one-line message. */
#ifndef NATTER_JSON_READ_H
#define NATTER_JSON_READ_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
                 JSON_OBJECT };

struct json_node {
    enum json_type type;
    const char *str; size_t len;     /* STRING: decoded bytes, NUL-terminated (may hold NULs);
                                        NUMBER: the literal's text (NUL-terminated) */
    double num;                      /* NUMBER: its value (±HUGE_VAL past double's range) */
    const char *key; size_t key_len; /* a member of an object: its decoded key, else NULL */
    const struct json_node *child;   /* ARRAY/OBJECT: the first element or member, else NULL */
    const struct json_node *next;    /* the next element or member of the same parent */
    int n;                           /* ARRAY/OBJECT: how many elements or members */
};

struct json_doc;

/* Parses text[0..n). 0 with *out (free with json_doc_free), or -1 with err holding "invalid JSON
 * at line L, column C[: why]" or "out of memory". */
int json_doc_parse(const char *text, size_t n, struct json_doc **out, char *err, size_t err_len);
const struct json_node *json_doc_root(const struct json_doc *d);
void json_doc_free(struct json_doc *d); /* accepts NULL */

/* obj's member named key (the last one when a key is repeated, as most readers do), or NULL when
 * it is absent or obj is NULL or not an object. */
const struct json_node *json_node_get(const struct json_node *obj, const char *key);
/* The string of obj's member key (its length in *len when len is not NULL), or NULL when the
 * member is absent or not a string. */
const char *json_node_get_str(const struct json_node *obj, const char *key, size_t *len);
/* arr's element i (0-based), or NULL when out of range or arr is not an array. */
const struct json_node *json_node_at(const struct json_node *arr, int i);

#endif
