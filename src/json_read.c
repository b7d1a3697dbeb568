/* src/json_read.c — JSON text into a tree (json_read.h). The syntax check runs first, so the
 * builder below reads text known to be valid and only has to allocate: nodes and decoded strings
 * come from an arena of blocks owned by the document, freed at once. */
#include "json_read.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_syntax.h"

struct arena_block {
    struct arena_block *prev;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

struct json_doc {
    struct arena_block *blocks;
    const struct json_node *root;
    int oom;
};

enum { ARENA_BLOCK_MIN = 16384 };

static void *doc_alloc(struct json_doc *d, size_t n) {
    n = (n + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
    struct arena_block *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK_MIN ? n : ARENA_BLOCK_MIN;
        if (b && b->cap * 2 > cap && b->cap < (size_t)1 << 24)
            cap = b->cap * 2; /* blocks grow geometrically up to 16 MiB */
        struct arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) {
            d->oom = 1;
            return NULL;
        }
        nb->prev = b;
        nb->used = 0;
        nb->cap = cap;
        d->blocks = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static size_t skip_ws(const char *p, size_t n, size_t i) {
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* The end of the string literal starting at p[i] == '"' (one past its closing quote). */
static size_t string_end(const char *p, size_t n, size_t i) {
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return n;
}

/* Decodes the literal p[i..end) into arena memory. */
static const char *doc_string(struct json_doc *d, const char *p, size_t i, size_t end,
                              size_t *len) {
    char *out = doc_alloc(d, 3 * (end - i) + 1);
    if (!out)
        return NULL;
    if (json_text_decode(p + i, end - i, out, len) < 0)
        *len = 0;
    out[*len] = '\0';
    return out;
}

/* strtod in the C locale's notation whatever LC_NUMERIC says (the chat sets the user's locale). */
static double number_value(const char *lit, size_t n) {
    char buf[512];
    if (n >= sizeof buf)
        n = sizeof buf - 1; /* digits past 500 do not change a double */
    memcpy(buf, lit, n);
    buf[n] = '\0';
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = dp[0];
    }
    return strtod(buf, NULL);
}

static struct json_node *parse_value(struct json_doc *d, const char *p, size_t n, size_t *pos);

static struct json_node *parse_container(struct json_doc *d, const char *p, size_t n,
                                         size_t *pos, struct json_node *node) {
    int object = p[*pos] == '{';
    size_t i = skip_ws(p, n, *pos + 1);
    struct json_node *last = NULL;
    while (i < n && p[i] != (object ? '}' : ']')) {
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            size_t e = string_end(p, n, i);
            if (!(key = doc_string(d, p, i, e, &key_len)))
                return NULL;
            i = skip_ws(p, n, e) + 1; /* the ':' */
            i = skip_ws(p, n, i);
        }
        struct json_node *v = parse_value(d, p, n, &i);
        if (!v)
            return NULL;
        v->key = key;
        v->key_len = key_len;
        if (last)
            last->next = v;
        else
            node->child = v;
        last = v;
        node->n++;
        i = skip_ws(p, n, i);
        if (i < n && p[i] == ',')
            i = skip_ws(p, n, i + 1);
    }
    *pos = i + 1;
    return node;
}

static struct json_node *parse_value(struct json_doc *d, const char *p, size_t n, size_t *pos) {
    struct json_node *node = doc_alloc(d, sizeof *node);
    if (!node)
        return NULL;
    memset(node, 0, sizeof *node);
    size_t i = *pos;
    switch (p[i]) {
    case '{':
    case '[':
        node->type = p[i] == '{' ? JSON_OBJECT : JSON_ARRAY;
        return parse_container(d, p, n, pos, node);
    case '"': {
        size_t e = string_end(p, n, i);
        node->type = JSON_STRING;
        if (!(node->str = doc_string(d, p, i, e, &node->len)))
            return NULL;
        *pos = e;
        return node;
    }
    case 't':
        node->type = JSON_TRUE;
        *pos = i + 4;
        return node;
    case 'f':
        node->type = JSON_FALSE;
        *pos = i + 5;
        return node;
    case 'n':
        node->type = JSON_NULL;
        *pos = i + 4;
        return node;
    default: {
        size_t e = i;
        while (e < n && strchr("+-0123456789.eE", p[e]) && p[e])
            e++;
        char *lit = doc_alloc(d, e - i + 1);
        if (!lit)
            return NULL;
        memcpy(lit, p + i, e - i);
        lit[e - i] = '\0';
        node->type = JSON_NUMBER;
        node->str = lit;
        node->len = e - i;
        node->num = number_value(lit, e - i);
        *pos = e;
        return node;
    }
    }
}

int json_doc_parse(const char *text, size_t n, struct json_doc **out, char *err,
                   size_t err_len) {
    *out = NULL;
    if (json_syntax_error(text, n, err, err_len) != 0)
        return -1;
    struct json_doc *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    size_t pos = skip_ws(text, n, 0);
    d->root = parse_value(d, text, n, &pos);
    if (!d->root || d->oom) {
        json_doc_free(d);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    *out = d;
    return 0;
}

const struct json_node *json_doc_root(const struct json_doc *d) { return d ? d->root : NULL; }

void json_doc_free(struct json_doc *d) {
    if (!d)
        return;
    for (struct arena_block *b = d->blocks, *prev; b; b = prev) {
        prev = b->prev;
        free(b);
    }
    free(d);
}

const struct json_node *json_node_get(const struct json_node *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    const struct json_node *found = NULL;
    for (const struct json_node *m = obj->child; m; m = m->next)
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            found = m;
    return found;
}

const char *json_node_get_str(const struct json_node *obj, const char *key, size_t *len) {
    const struct json_node *m = json_node_get(obj, key);
    if (!m || m->type != JSON_STRING)
        return NULL;
    if (len)
        *len = m->len;
    return m->str;
}

const struct json_node *json_node_at(const struct json_node *arr, int i) {
    if (!arr || arr->type != JSON_ARRAY || i < 0 || i >= arr->n)
        return NULL;
    const struct json_node *e = arr->child;
    while (i-- > 0 && e)
        e = e->next;
    return e;
}
