/* src/jinja_value.c — the Jinja engine's memory and values: the arena, strings with per-byte
 * origins and their builder, UTF-8 helpers, lists and insertion-ordered dicts, and Python's
 * semantics of str(), repr(), ==, <, json.dumps and json.loads over them. Any thread (one
 * arena per parse, render or context). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_impl.h"
#include "utf8.h"

/* ---- arena ---- */

struct ja_block {
    struct ja_block *next;
    size_t cap, used;
    max_align_t data[];
};

enum { JA_BLOCK = 64 * 1024, JA_ALIGN = 16 };

static void ja_fail(struct jarena *a, const char *msg) {
    a->fail(a->ud, msg);
    abort(); /* fail must not return */
}

void *ja_raw(struct jarena *a, size_t n) {
    n = (n + JA_ALIGN - 1) & ~(size_t)(JA_ALIGN - 1);
    if (n == 0)
        n = JA_ALIGN;
    struct ja_block *b = a->head;
    if (b && b->cap - b->used >= n) {
        void *p = (char *)b->data + b->used;
        b->used += n;
        return p;
    }
    size_t cap = n > JA_BLOCK / 4 ? n : JA_BLOCK;
    if (cap > SIZE_MAX - sizeof *b - JA_ALIGN)
        ja_fail(a, "out of memory");
    size_t want = sizeof *b + cap;
    if (a->limit && (a->total > a->limit || want > a->limit - a->total))
        ja_fail(a, "memory limit reached");
    b = malloc(want);
    if (!b)
        ja_fail(a, "out of memory");
    a->total += want;
    b->cap = cap;
    b->used = n;
    if (cap == n && a->head) { /* a large block: keep the current one for small requests */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return b->data;
}

void *ja_alloc(struct jarena *a, size_t n) {
    void *p = ja_raw(a, n);
    memset(p, 0, n);
    return p;
}

void *ja_grow(struct jarena *a, void *p, size_t old_n, size_t new_n) {
    struct ja_block *b = a->head;
    size_t old_r = (old_n + JA_ALIGN - 1) & ~(size_t)(JA_ALIGN - 1);
    if (p && b && (char *)p + old_r == (char *)b->data + b->used && new_n >= old_n) {
        size_t new_r = (new_n + JA_ALIGN - 1) & ~(size_t)(JA_ALIGN - 1);
        if (new_r - old_r <= b->cap - b->used) { /* the last allocation: extend in place */
            b->used += new_r - old_r;
            return p;
        }
    }
    void *q = ja_raw(a, new_n);
    if (p && old_n)
        memcpy(q, p, old_n < new_n ? old_n : new_n);
    return q;
}

void ja_free(struct jarena *a) {
    struct ja_block *b = a->head;
    while (b) {
        struct ja_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

size_t ja_mul(struct jarena *a, size_t x, size_t y) {
    if (y && x > SIZE_MAX / y)
        ja_fail(a, "out of memory");
    return x * y;
}

/* ---- strings ---- */

static jstr *js_alloc(struct jarena *a, size_t len, int mixed) {
    if (len > SIZE_MAX / 4)
        ja_fail(a, "out of memory");
    jstr *s = ja_raw(a, sizeof *s + len + 1 + (mixed ? len : 0));
    s->len = len;
    s->s = (char *)(s + 1);
    s->s[len] = 0;
    s->org = mixed ? (unsigned char *)s->s + len + 1 : NULL;
    s->org1 = 0;
    return s;
}

jstr *js_new(struct jarena *a, const char *p, size_t len, int origin) {
    jstr *s = js_alloc(a, len, 0);
    if (len)
        memcpy(s->s, p, len);
    s->org1 = (unsigned char)origin;
    return s;
}

jstr *js_cstr(struct jarena *a, const char *p, int origin) {
    return js_new(a, p, strlen(p), origin);
}

jstr *js_sub(struct jarena *a, const jstr *s, size_t off, size_t n) {
    if (!s->org) {
        jstr *t = js_new(a, s->s + off, n, s->org1);
        return t;
    }
    unsigned char o = n ? s->org[off] : 0;
    int uniform = 1;
    for (size_t i = 1; i < n && uniform; i++)
        uniform = s->org[off + i] == o;
    jstr *t = js_alloc(a, n, !uniform);
    memcpy(t->s, s->s + off, n);
    if (uniform)
        t->org1 = o;
    else
        memcpy(t->org, s->org + off, n);
    return t;
}

int js_eq(const jstr *a, const jstr *b) {
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

int js_eqc(const jstr *a, const char *c) {
    size_t n = strlen(c);
    return a->len == n && memcmp(a->s, c, n) == 0;
}

/* ---- the string builder ---- */

void jsb_init(struct jsb *b, struct jarena *a, size_t max) {
    memset(b, 0, sizeof *b);
    b->a = a;
    b->max = max;
}

static void jsb_reserve(struct jsb *b, size_t n) {
    if (n > SIZE_MAX / 4 || b->len + n > SIZE_MAX / 4)
        ja_fail(b->a, "out of memory");
    if (b->max && b->len + n > b->max) {
        char msg[96];
        snprintf(msg, sizeof msg, "text longer than %zu bytes (the output limit)", b->max);
        b->a->fail(b->a->ud, msg);
        abort();
    }
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n)
        cap *= 2;
    b->s = ja_grow(b->a, b->s, b->cap + 1, cap + 1);
    /* origins separately: ja_grow extends only the last allocation in place */
    unsigned char *o = ja_raw(b->a, cap);
    if (b->len)
        memcpy(o, b->org, b->len);
    b->org = o;
    b->cap = cap;
}

void jsb_put(struct jsb *b, const char *s, size_t n, int origin) {
    if (!n)
        return;
    jsb_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    memset(b->org + b->len, origin, n);
    b->len += n;
}

void jsb_putc(struct jsb *b, char c, int origin) {
    jsb_put(b, &c, 1, origin);
}

void jsb_puts(struct jsb *b, const char *s, int origin) {
    jsb_put(b, s, strlen(s), origin);
}

void jsb_putjs_range(struct jsb *b, const jstr *s, size_t off, size_t n) {
    if (!n)
        return;
    jsb_reserve(b, n);
    memcpy(b->s + b->len, s->s + off, n);
    if (s->org)
        memcpy(b->org + b->len, s->org + off, n);
    else
        memset(b->org + b->len, s->org1, n);
    b->len += n;
}

void jsb_putjs(struct jsb *b, const jstr *s) {
    jsb_putjs_range(b, s, 0, s->len);
}

void jsb_printf(struct jsb *b, int origin, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        jsb_put(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, origin);
}

jstr *jsb_done(struct jsb *b) {
    int uniform = 1;
    for (size_t i = 1; i < b->len && uniform; i++)
        uniform = b->org[i] == b->org[0];
    jstr *s = js_alloc(b->a, b->len, !uniform);
    if (b->len)
        memcpy(s->s, b->s, b->len);
    if (uniform)
        s->org1 = b->len ? b->org[0] : 0;
    else
        memcpy(s->org, b->org, b->len);
    b->len = 0;
    return s;
}

/* ---- UTF-8 ---- */

size_t u8_next(const char *s, size_t n, size_t i, uint32_t *cp) {
    unsigned c = (unsigned char)s[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        goto bad;
    if (len > n - i)
        goto bad;
    for (size_t k = 1; k < len; k++) {
        unsigned d = (unsigned char)s[i + k];
        if ((d & 0xc0) != 0x80)
            goto bad;
        v = v << 6 | (d & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xdc00 + c; /* Python's surrogateescape: the byte comes back out as itself */
    return 1;
}

size_t u8_count(const char *s, size_t n) {
    size_t k = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; k++)
        i += (unsigned char)s[i] < 0x80 ? 1 : u8_next(s, n, i, &cp);
    return k;
}

size_t u8_put(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp >= 0xdc80 && cp <= 0xdcff) { /* an escaped byte */
        o[0] = (char)(cp - 0xdc00);
        return 1;
    }
    if (cp >= 0xd800 && cp <= 0xdfff)
        cp = 0xfffd;
    return utf8_put(o, cp);
}

int u_isspace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

int u_islinebreak(uint32_t c) {
    return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e) ||
           c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* ---- values ---- */

const jv JV_NONE = {JK_NONE, 0, {0}};
const jv JV_UNDEF = {JK_UNDEF, 0, {0}};
const jv JV_ABSENT = {JK_ABSENT, 0, {0}};
const jv JV_TRUE = {JK_BOOL, 0, {.i = 1}};
const jv JV_FALSE = {JK_BOOL, 0, {.i = 0}};

jv jv_strc(struct jarena *a, const char *s) {
    return jv_str(js_cstr(a, s, JINJA_ORIGIN_TEMPLATE));
}

struct jlist *jl_new(struct jarena *a, size_t cap) {
    struct jlist *l = ja_alloc(a, sizeof *l);
    if (!cap)
        cap = 1; /* v is never NULL */
    l->v = ja_raw(a, ja_mul(a, cap, sizeof(jv)));
    l->cap = cap;
    return l;
}

void jl_push(struct jarena *a, struct jlist *l, jv v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        l->v = ja_grow(a, l->v, l->cap * sizeof(jv), ja_mul(a, cap, sizeof(jv)));
        l->cap = cap;
    }
    l->v[l->n++] = v;
}

jv jv_list(struct jlist *l) {
    jv v = {JK_LIST, 0, {.l = l}};
    return v;
}

jv jv_tuple(struct jlist *l) {
    jv v = {JK_TUPLE, 0, {.l = l}};
    return v;
}

jv jv_tuple2(struct jarena *a, jv x, jv y) {
    struct jlist *l = jl_new(a, 2);
    l->v[0] = x;
    l->v[1] = y;
    l->n = 2;
    return jv_tuple(l);
}

jv jv_dict(struct jdict *d) {
    jv v = {JK_DICT, 0, {.d = d}};
    return v;
}

int jv_hashable(jv v) {
    if (v.k == JK_LIST || v.k == JK_DICT || v.k == JK_NS || v.k == JK_ITER)
        return v.k == JK_ITER ? v.u.it->what == IT_GENERATOR || v.u.it->what == IT_REVERSE
                              : v.k == JK_NS;
    if (v.k == JK_TUPLE)
        for (size_t i = 0; i < v.u.l->n; i++)
            if (!jv_hashable(v.u.l->v[i]))
                return 0;
    return 1;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* A hash consistent with key_eq (1 == 1.0 == True, as in Python). */
static uint64_t jv_hash(jv v) {
    switch (v.k) {
    case JK_NONE:
        return 0x5bd1e995;
    case JK_UNDEF:
        return 0x27d4eb2f;
    case JK_BOOL:
    case JK_INT:
        return mix64((uint64_t)v.u.i);
    case JK_FLOAT:
        if (v.u.f == floor(v.u.f) && fabs(v.u.f) < 9.2e18)
            return mix64((uint64_t)(int64_t)v.u.f);
        {
            uint64_t bits;
            memcpy(&bits, &v.u.f, sizeof bits);
            return mix64(bits);
        }
    case JK_STR: {
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < v.u.s->len; i++)
            h = (h ^ (unsigned char)v.u.s->s[i]) * 1099511628211ULL;
        return h;
    }
    case JK_TUPLE: {
        uint64_t h = 0x345678;
        for (size_t i = 0; i < v.u.l->n; i++)
            h = mix64(h ^ jv_hash(v.u.l->v[i]));
        return h;
    }
    default:
        return mix64((uint64_t)(uintptr_t)v.u.s);
    }
}

static int is_num(jv v) {
    return v.k == JK_BOOL || v.k == JK_INT || v.k == JK_FLOAT;
}

static double num_f(jv v) {
    return v.k == JK_FLOAT ? v.u.f : (double)v.u.i;
}

/* Equality of hashable keys (no failure possible). */
static int key_eq(jv a, jv b) {
    if (is_num(a) && is_num(b)) {
        if (a.k != JK_FLOAT && b.k != JK_FLOAT)
            return a.u.i == b.u.i;
        return num_f(a) == num_f(b);
    }
    if (a.k != b.k)
        return 0;
    switch (a.k) {
    case JK_NONE:
    case JK_UNDEF:
        return 1;
    case JK_STR:
        return js_eq(a.u.s, b.u.s);
    case JK_TUPLE:
        if (a.u.l->n != b.u.l->n)
            return 0;
        for (size_t i = 0; i < a.u.l->n; i++)
            if (!key_eq(a.u.l->v[i], b.u.l->v[i]))
                return 0;
        return 1;
    default:
        return a.u.s == b.u.s;
    }
}

void jd_init(struct jdict *d) {
    memset(d, 0, sizeof *d);
}

void jd_clear(struct jdict *d) {
    d->n = 0;
    if (d->idx)
        memset(d->idx, 0, d->idx_cap * sizeof *d->idx);
}

struct jdict *jd_new(struct jarena *a) {
    return ja_alloc(a, sizeof(struct jdict));
}

static size_t jd_find(const struct jdict *d, jv key, uint64_t h) {
    if (!d->idx) {
        for (size_t i = 0; i < d->n; i++)
            if (key_eq(d->key[i], key))
                return i;
        return SIZE_MAX;
    }
    size_t mask = d->idx_cap - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint32_t e = d->idx[j];
        if (!e)
            return SIZE_MAX;
        if (key_eq(d->key[e - 1], key))
            return e - 1;
    }
}

jv *jd_get(const struct jdict *d, jv key) {
    if (!d->n || !jv_hashable(key))
        return NULL;
    size_t i = jd_find(d, key, d->idx ? jv_hash(key) : 0);
    return i == SIZE_MAX ? NULL : &d->val[i];
}

jv *jd_gets(const struct jdict *d, const char *key, size_t len) {
    jstr s = {len, (char *)key, NULL, 0};
    jv k = {JK_STR, 0, {.s = &s}};
    return jd_get(d, k);
}

static void jd_index(struct jarena *a, struct jdict *d, size_t cap) {
    d->idx = ja_alloc(a, ja_mul(a, cap, sizeof *d->idx));
    d->idx_cap = cap;
    for (size_t i = 0; i < d->n; i++) {
        size_t j = jv_hash(d->key[i]) & (cap - 1);
        while (d->idx[j])
            j = (j + 1) & (cap - 1);
        d->idx[j] = (uint32_t)(i + 1);
    }
}

void jd_set(struct jarena *a, struct jdict *d, jv key, jv val) {
    uint64_t h = jv_hash(key);
    size_t i = d->n ? jd_find(d, key, h) : SIZE_MAX;
    if (i != SIZE_MAX) {
        d->val[i] = val;
        return;
    }
    if (d->n >= UINT32_MAX - 1)
        ja_fail(a, "out of memory");
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 4;
        d->key = ja_grow(a, d->key, d->cap * sizeof(jv), ja_mul(a, cap, sizeof(jv)));
        d->val = ja_grow(a, d->val, d->cap * sizeof(jv), ja_mul(a, cap, sizeof(jv)));
        d->cap = cap;
    }
    d->key[d->n] = key;
    d->val[d->n] = val;
    d->n++;
    if (d->idx && d->idx_cap >= 2 * d->n) { /* indexed (once past 8 entries): add it */
        size_t j = h & (d->idx_cap - 1);
        while (d->idx[j])
            j = (j + 1) & (d->idx_cap - 1);
        d->idx[j] = (uint32_t)d->n;
    } else if (d->n > 8) {
        size_t cap = 32;
        while (cap < 2 * d->n)
            cap *= 2;
        jd_index(a, d, cap);
    }
}

jv jv_undef_name(struct jarena *a, jstr *name) {
    struct jundef *u = ja_alloc(a, sizeof *u);
    u->how = UNDEF_NAME;
    u->key = jv_str(name);
    jv v = {JK_UNDEF, 0, {.un = u}};
    return v;
}

jv jv_undef_hint(struct jarena *a, const char *hint) {
    struct jundef *u = ja_alloc(a, sizeof *u);
    u->how = UNDEF_HINT;
    u->hint = hint;
    jv v = {JK_UNDEF, 0, {.un = u}};
    return v;
}

jv jv_undef_attr(struct jarena *a, int how, uint8_t objk, jv key) {
    struct jundef *u = ja_alloc(a, sizeof *u);
    u->how = (uint8_t)how;
    u->objk = objk;
    u->key = key;
    jv v = {JK_UNDEF, 0, {.un = u}};
    return v;
}

jv jv_iter_new(struct jarena *a, jv *v, size_t n, int what) {
    struct jiter *it = ja_alloc(a, sizeof *it);
    it->v = v;
    it->n = n;
    it->what = (uint8_t)what;
    jv r = {JK_ITER, 0, {.it = it}};
    return r;
}

const char *jv_type_name(jv v) {
    switch (v.k) {
    case JK_UNDEF:
        return "Undefined";
    case JK_NONE:
        return "NoneType";
    case JK_BOOL:
        return "bool";
    case JK_INT:
        return "int";
    case JK_FLOAT:
        return "float";
    case JK_STR:
        return v.safe ? "Markup" : "str";
    case JK_LIST:
        return v.u.l->is_range ? "range" : "list";
    case JK_TUPLE:
        return "tuple";
    case JK_DICT:
        return "dict";
    case JK_NS:
        return "Namespace";
    case JK_ITER:
        switch (v.u.it->what) {
        case IT_ITEMS:
            return "dict_items";
        case IT_KEYS:
            return "dict_keys";
        case IT_VALUES:
            return "dict_values";
        case IT_REVERSE:
            return "list_reverseiterator";
        default:
            return "generator";
        }
    case JK_MACRO:
        return "Macro";
    case JK_FUNC:
        return "builtin_function_or_method";
    case JK_LOOP:
        return "LoopContext";
    case JK_CYCLER:
        return "Cycler";
    case JK_JOINER:
        return "Joiner";
    default:
        return "object";
    }
}

int jv_truth(jv v) {
    switch (v.k) {
    case JK_UNDEF:
    case JK_NONE:
    case JK_ABSENT:
        return 0;
    case JK_BOOL:
    case JK_INT:
        return v.u.i != 0;
    case JK_FLOAT:
        return v.u.f != 0;
    case JK_STR:
        return v.u.s->len != 0;
    case JK_LIST:
    case JK_TUPLE:
        return v.u.l->n != 0;
    case JK_DICT:
        return v.u.d->n != 0;
    case JK_ITER:
        return v.u.it->what >= IT_ITEMS ? v.u.it->n != 0 : 1;
    default:
        return 1;
    }
}

int jv_is_seq(jv v) {
    return v.k == JK_LIST || v.k == JK_TUPLE;
}

/* ---- str() and repr() ---- */

void jv_fmt_float(char *buf, size_t cap, double f) {
    if (isnan(f)) {
        snprintf(buf, cap, "nan");
        return;
    }
    if (isinf(f)) {
        snprintf(buf, cap, f < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) { /* the shortest text that reads back exactly */
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    /* tmp: [-]D[.DDD]e(+|-)XX */
    const char *p = tmp;
    int neg = *p == '-';
    if (neg)
        p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.' && nd < 20)
            digits[nd++] = *p;
    int exp = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    int decpt = exp + 1;
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -decpt; i++)
                out[o++] = '0';
            for (int i = 0; i < nd; i++)
                out[o++] = digits[i];
        } else if (decpt >= nd) {
            for (int i = 0; i < nd; i++)
                out[o++] = digits[i];
            for (int i = nd; i < decpt; i++)
                out[o++] = '0';
            out[o++] = '.';
            out[o++] = '0';
        } else {
            for (int i = 0; i < nd; i++) {
                if (i == decpt)
                    out[o++] = '.';
                out[o++] = digits[i];
            }
        }
        out[o] = 0;
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++)
                out[o++] = digits[i];
        }
        out[o] = 0;
        int e = decpt - 1;
        snprintf(out + o, sizeof out - o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    snprintf(buf, cap, "%s", out);
}

/* Printable in Python's sense (str.isprintable) — an approximation without Unicode tables:
 * controls, format characters, separators other than the space, surrogates, private use. */
static int u_isprintable(uint32_t c) {
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0xa0) || c == 0xad)
        return 0;
    if (c < 0x300)
        return 1;
    if ((c >= 0x600 && c <= 0x605) || c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x8e2 ||
        c == 0x1680 || c == 0x180e || (c >= 0x2000 && c <= 0x200f) ||
        (c >= 0x2028 && c <= 0x202f) || (c >= 0x205f && c <= 0x206f) || c == 0x3000 ||
        (c >= 0xd800 && c <= 0xf8ff) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
        c == 0xfffe || c == 0xffff || (c >= 0x1bca0 && c <= 0x1bca3) ||
        (c >= 0x1d173 && c <= 0x1d17a) || (c >= 0xe0000 && c <= 0xe0fff) || c >= 0xf0000)
        return 0;
    return 1;
}

static void put_str_repr(struct jsb *b, const jstr *s) {
    int sq = memchr(s->s, '\'', s->len) != NULL, dq = memchr(s->s, '"', s->len) != NULL;
    char q = sq && !dq ? '"' : '\'';
    jsb_putc(b, q, JINJA_ORIGIN_TEMPLATE);
    for (size_t i = 0; i < s->len;) {
        uint32_t cp;
        size_t k = u8_next(s->s, s->len, i, &cp);
        int o = js_org(s, i);
        char esc[12];
        if (cp == (uint32_t)q || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            jsb_put(b, esc, 2, o);
        } else if (cp == '\t')
            jsb_put(b, "\\t", 2, o);
        else if (cp == '\n')
            jsb_put(b, "\\n", 2, o);
        else if (cp == '\r')
            jsb_put(b, "\\r", 2, o);
        else if (cp < 0x80 && cp >= 0x20 && cp != 0x7f)
            jsb_putjs_range(b, s, i, 1);
        else if (cp >= 0x80 && u_isprintable(cp))
            jsb_putjs_range(b, s, i, k);
        else {
            int n = cp <= 0xff      ? snprintf(esc, sizeof esc, "\\x%02x", cp)
                    : cp <= 0xffff ? snprintf(esc, sizeof esc, "\\u%04x", cp)
                                   : snprintf(esc, sizeof esc, "\\U%08x", cp);
            jsb_put(b, esc, (size_t)n, o);
        }
        i += k;
    }
    jsb_putc(b, q, JINJA_ORIGIN_TEMPLATE);
}

static void put_seq_repr(struct jrender *r, struct jsb *b, const jv *v, size_t n, int depth) {
    for (size_t i = 0; i < n; i++) {
        if (i)
            jsb_put(b, ", ", 2, JINJA_ORIGIN_TEMPLATE);
        jv_put_repr(r, b, v[i], depth + 1);
    }
}

static void put_dict_repr(struct jrender *r, struct jsb *b, const struct jdict *d, int depth) {
    jsb_putc(b, '{', JINJA_ORIGIN_TEMPLATE);
    for (size_t i = 0; i < d->n; i++) {
        if (i)
            jsb_put(b, ", ", 2, JINJA_ORIGIN_TEMPLATE);
        jv_put_repr(r, b, d->key[i], depth + 1);
        jsb_put(b, ": ", 2, JINJA_ORIGIN_TEMPLATE);
        jv_put_repr(r, b, d->val[i], depth + 1);
    }
    jsb_putc(b, '}', JINJA_ORIGIN_TEMPLATE);
}

void jv_put_repr(struct jrender *r, struct jsb *b, jv v, int depth) {
    const int T = JINJA_ORIGIN_TEMPLATE;
    if (depth > JV_DEPTH_MAX)
        jr_fail(r, "maximum recursion depth exceeded while getting the repr of an object");
    jr_step(r, 1);
    switch (v.k) {
    case JK_STR:
        if (v.safe) {
            jsb_puts(b, "Markup(", T);
            put_str_repr(b, v.u.s);
            jsb_putc(b, ')', T);
        } else
            put_str_repr(b, v.u.s);
        return;
    case JK_UNDEF:
        jsb_puts(b, "Undefined", T);
        return;
    case JK_LIST:
        if (v.u.l->is_range) {
            if (v.u.l->r2 == 1)
                jsb_printf(b, T, "range(%" PRId64 ", %" PRId64 ")", v.u.l->r0, v.u.l->r1);
            else
                jsb_printf(b, T, "range(%" PRId64 ", %" PRId64 ", %" PRId64 ")", v.u.l->r0,
                           v.u.l->r1, v.u.l->r2);
            return;
        }
        jsb_putc(b, '[', T);
        put_seq_repr(r, b, v.u.l->v, v.u.l->n, depth);
        jsb_putc(b, ']', T);
        return;
    case JK_TUPLE:
        jsb_putc(b, '(', T);
        put_seq_repr(r, b, v.u.l->v, v.u.l->n, depth);
        if (v.u.l->n == 1)
            jsb_putc(b, ',', T);
        jsb_putc(b, ')', T);
        return;
    case JK_DICT:
        put_dict_repr(r, b, v.u.d, depth);
        return;
    case JK_NS:
        jsb_puts(b, "<Namespace ", T);
        put_dict_repr(r, b, v.u.d, depth);
        jsb_putc(b, '>', T);
        return;
    case JK_ITER: {
        struct jiter *it = v.u.it;
        if (it->what == IT_GENERATOR || it->what == IT_REVERSE) {
            jsb_printf(b, T, "<%s object>", jv_type_name(v));
            return;
        }
        jsb_printf(b, T, "%s([", jv_type_name(v));
        put_seq_repr(r, b, it->v, it->n, depth);
        jsb_puts(b, "])", T);
        return;
    }
    case JK_MACRO:
        jsb_puts(b, "<Macro ", T);
        put_str_repr(b, v.u.m->name);
        jsb_putc(b, '>', T);
        return;
    case JK_FUNC: /* Python's reprs, with an address of our own */
        if (v.u.fn->self.k != JK_NONE)
            jsb_printf(b, T, "<built-in method %s of %s object at %p>", jb_func_name(v.u.fn->id),
                       jv_type_name(v.u.fn->self), (void *)v.u.fn->self.u.s);
        else if (!strcmp(jb_func_name(v.u.fn->id), "range") ||
                 !strcmp(jb_func_name(v.u.fn->id), "dict"))
            jsb_printf(b, T, "<class '%s'>", jb_func_name(v.u.fn->id));
        else if (!strcmp(jb_func_name(v.u.fn->id), "namespace"))
            jsb_puts(b, "<class 'jinja2.utils.Namespace'>", T);
        else if (!strcmp(jb_func_name(v.u.fn->id), "cycler") ||
                 !strcmp(jb_func_name(v.u.fn->id), "joiner"))
            jsb_printf(b, T, "<class 'jinja2.utils.%c%s'>", jb_func_name(v.u.fn->id)[0] - 32,
                       jb_func_name(v.u.fn->id) + 1);
        else
            jsb_printf(b, T, "<function %s at %p>", jb_func_name(v.u.fn->id), (void *)v.u.fn);
        return;
    case JK_LOOP:
        jsb_printf(b, T, "<LoopContext %zu/%zu>", v.u.lp->i + 1, v.u.lp->n);
        return;
    case JK_CYCLER:
    case JK_JOINER:
        jsb_printf(b, T, "<jinja2.utils.%s object>", jv_type_name(v));
        return;
    default:
        jv_put_str(r, b, v);
    }
}

void jv_put_str(struct jrender *r, struct jsb *b, jv v) {
    const int T = JINJA_ORIGIN_TEMPLATE;
    char buf[40];
    switch (v.k) {
    case JK_STR:
        jsb_putjs(b, v.u.s);
        return;
    case JK_UNDEF:
    case JK_ABSENT:
        return;
    case JK_NONE:
        jsb_put(b, "None", 4, T);
        return;
    case JK_BOOL:
        jsb_puts(b, v.u.i ? "True" : "False", T);
        return;
    case JK_INT:
        jsb_printf(b, T, "%" PRId64, v.u.i);
        return;
    case JK_FLOAT:
        jv_fmt_float(buf, sizeof buf, v.u.f);
        jsb_puts(b, buf, T);
        return;
    default:
        jv_put_repr(r, b, v, 0);
    }
}

jstr *jv_to_str(struct jrender *r, jv v) {
    if (v.k == JK_STR)
        return v.u.s;
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    jv_put_str(r, &b, v);
    return jsb_done(&b);
}

jstr *jv_to_repr(struct jrender *r, jv v) {
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    jv_put_repr(r, &b, v, 0);
    return jsb_done(&b);
}

/* ---- equality and ordering ---- */

int jv_eq(struct jrender *r, jv a, jv b, int depth) {
    if (depth > JV_DEPTH_MAX)
        jr_fail(r, "maximum recursion depth exceeded in comparison");
    if (is_num(a) && is_num(b))
        return key_eq(a, b);
    if (a.k != b.k)
        return 0;
    switch (a.k) {
    case JK_NONE:
    case JK_UNDEF:
        return 1;
    case JK_STR:
        return js_eq(a.u.s, b.u.s);
    case JK_LIST:
    case JK_TUPLE:
        if (a.u.l == b.u.l)
            return 1;
        if (a.u.l->n != b.u.l->n || a.u.l->is_range != b.u.l->is_range)
            return 0;
        for (size_t i = 0; i < a.u.l->n; i++) {
            jr_step(r, 1);
            if (!jv_eq(r, a.u.l->v[i], b.u.l->v[i], depth + 1))
                return 0;
        }
        return 1;
    case JK_DICT:
        if (a.u.d == b.u.d)
            return 1;
        if (a.u.d->n != b.u.d->n)
            return 0;
        for (size_t i = 0; i < a.u.d->n; i++) {
            jr_step(r, 1);
            jv *o = jd_get(b.u.d, a.u.d->key[i]);
            if (!o || !jv_eq(r, a.u.d->val[i], *o, depth + 1))
                return 0;
        }
        return 1;
    case JK_FUNC:
        return a.u.fn->id == b.u.fn->id && jv_eq(r, a.u.fn->self, b.u.fn->self, depth + 1);
    default:
        return a.u.s == b.u.s;
    }
}

static int seq_cmp(struct jrender *r, const struct jlist *a, const struct jlist *b,
                   const char *op) {
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        jr_step(r, 1);
        if (!jv_eq(r, a->v[i], b->v[i], 0))
            return jv_cmp(r, a->v[i], b->v[i], op);
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

int jv_cmp(struct jrender *r, jv a, jv b, const char *op) {
    if (a.k == JK_UNDEF)
        ev_fail_undef(r, a);
    if (b.k == JK_UNDEF)
        ev_fail_undef(r, b);
    if (is_num(a) && is_num(b)) {
        if (a.k != JK_FLOAT && b.k != JK_FLOAT)
            return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
        double x = num_f(a), y = num_f(b);
        return x < y ? -1 : x > y; /* nan: equal (every comparison false in Python) */
    }
    if (a.k == JK_STR && b.k == JK_STR) {
        size_t n = a.u.s->len < b.u.s->len ? a.u.s->len : b.u.s->len;
        int c = memcmp(a.u.s->s, b.u.s->s, n);
        if (c)
            return c < 0 ? -1 : 1;
        return a.u.s->len < b.u.s->len ? -1 : a.u.s->len > b.u.s->len;
    }
    if (a.k == b.k && (a.k == JK_LIST || a.k == JK_TUPLE) && !a.u.l->is_range &&
        !b.u.l->is_range)
        return seq_cmp(r, a.u.l, b.u.l, op);
    jr_fail(r, "'%s' not supported between instances of '%s' and '%s'", op, jv_type_name(a),
            jv_type_name(b));
}

/* ---- json.dumps ---- */

static void json_put_str(struct jsb *b, const jstr *s, int ensure_ascii) {
    jsb_putc(b, '"', JINJA_ORIGIN_TEMPLATE);
    for (size_t i = 0; i < s->len;) {
        uint32_t cp;
        size_t k = u8_next(s->s, s->len, i, &cp);
        int o = js_org(s, i);
        char esc[16];
        switch (cp) {
        case '"':
            jsb_put(b, "\\\"", 2, o);
            break;
        case '\\':
            jsb_put(b, "\\\\", 2, o);
            break;
        case '\n':
            jsb_put(b, "\\n", 2, o);
            break;
        case '\r':
            jsb_put(b, "\\r", 2, o);
            break;
        case '\t':
            jsb_put(b, "\\t", 2, o);
            break;
        case '\b':
            jsb_put(b, "\\b", 2, o);
            break;
        case '\f':
            jsb_put(b, "\\f", 2, o);
            break;
        default:
            if (cp < 0x20)
                jsb_put(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", cp), o);
            else if (cp < 0x80 || !ensure_ascii)
                jsb_putjs_range(b, s, i, k);
            else if (cp < 0x10000)
                jsb_put(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", cp), o);
            else {
                uint32_t v = cp - 0x10000;
                jsb_put(b, esc,
                        (size_t)snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xd800 + (v >> 10),
                                         0xdc00 + (v & 0x3ff)),
                        o);
            }
        }
        i += k;
    }
    jsb_putc(b, '"', JINJA_ORIGIN_TEMPLATE);
}

static void json_put_float(struct jsb *b, double f) {
    char buf[40];
    if (isnan(f))
        snprintf(buf, sizeof buf, "NaN");
    else if (isinf(f))
        snprintf(buf, sizeof buf, f < 0 ? "-Infinity" : "Infinity");
    else
        jv_fmt_float(buf, sizeof buf, f);
    jsb_puts(b, buf, JINJA_ORIGIN_TEMPLATE);
}

static void json_newline(struct jsb *b, const struct jjson_opts *o, int level) {
    jsb_putc(b, '\n', JINJA_ORIGIN_TEMPLATE);
    for (int i = 0; i < level; i++)
        jsb_putjs(b, o->indent);
}

static void merge_sort(struct jrender *r, jv *v, jv *tmp, size_t n,
                       int (*cmp)(void *, jv, jv), void *ud) {
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(r, v, tmp, h, cmp, ud);
    merge_sort(r, v + h, tmp, n - h, cmp, ud);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        jr_step(r, 1);
        tmp[k++] = cmp(ud, v[j], v[i]) < 0 ? v[j++] : v[i++];
    }
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

void jv_sort(struct jrender *r, jv *v, size_t n, int (*cmp)(void *, jv, jv), void *ud) {
    if (n < 2)
        return;
    jv *tmp = ja_raw(&r->a, ja_mul(&r->a, n, sizeof(jv)));
    merge_sort(r, v, tmp, n, cmp, ud);
}

struct key_ud {
    struct jrender *r;
    const struct jdict *d;
};

static int key_index_cmp(void *ud, jv a, jv b) {
    struct key_ud *k = ud;
    return jv_cmp(k->r, k->d->key[a.u.i], k->d->key[b.u.i], "<");
}

static void json_put(struct jrender *r, struct jsb *b, jv v, const struct jjson_opts *o,
                     int level) {
    const int T = JINJA_ORIGIN_TEMPLATE;
    if (level > JV_DEPTH_MAX)
        jr_fail(r, "maximum recursion depth exceeded while encoding a JSON object");
    jr_step(r, 1);
    switch (v.k) {
    case JK_NONE:
        jsb_puts(b, "null", T);
        return;
    case JK_BOOL:
        jsb_puts(b, v.u.i ? "true" : "false", T);
        return;
    case JK_INT:
        jsb_printf(b, T, "%" PRId64, v.u.i);
        return;
    case JK_FLOAT:
        json_put_float(b, v.u.f);
        return;
    case JK_STR:
        json_put_str(b, v.u.s, o->ensure_ascii);
        return;
    case JK_LIST:
        if (v.u.l->is_range)
            break;
        /* fall through */
    case JK_TUPLE: {
        const struct jlist *l = v.u.l;
        if (!l->n) {
            jsb_puts(b, "[]", T);
            return;
        }
        jsb_putc(b, '[', T);
        if (o->indent)
            json_newline(b, o, level + 1);
        for (size_t i = 0; i < l->n; i++) {
            if (i) {
                jsb_putjs(b, o->item_sep);
                if (o->indent)
                    json_newline(b, o, level + 1);
            }
            json_put(r, b, l->v[i], o, level + 1);
        }
        if (o->indent)
            json_newline(b, o, level);
        jsb_putc(b, ']', T);
        return;
    }
    case JK_DICT: {
        const struct jdict *d = v.u.d;
        if (!d->n) {
            jsb_puts(b, "{}", T);
            return;
        }
        size_t *order = ja_raw(&r->a, ja_mul(&r->a, d->n, sizeof *order));
        for (size_t i = 0; i < d->n; i++)
            order[i] = i;
        if (o->sort_keys) { /* sorted(d.items()): by key (keys are distinct) */
            jv *ix = ja_raw(&r->a, ja_mul(&r->a, d->n, sizeof(jv)));
            for (size_t i = 0; i < d->n; i++)
                ix[i] = jv_int((int64_t)i);
            struct key_ud ud = {r, d};
            jv_sort(r, ix, d->n, key_index_cmp, &ud);
            for (size_t i = 0; i < d->n; i++)
                order[i] = (size_t)ix[i].u.i;
        }
        jsb_putc(b, '{', T);
        if (o->indent)
            json_newline(b, o, level + 1);
        for (size_t n = 0; n < d->n; n++) {
            size_t i = order[n];
            if (n) {
                jsb_putjs(b, o->item_sep);
                if (o->indent)
                    json_newline(b, o, level + 1);
            }
            jv k = d->key[i];
            if (k.k == JK_STR)
                json_put_str(b, k.u.s, o->ensure_ascii);
            else if (k.k == JK_INT)
                jsb_printf(b, T, "\"%" PRId64 "\"", k.u.i);
            else if (k.k == JK_BOOL)
                jsb_puts(b, k.u.i ? "\"true\"" : "\"false\"", T);
            else if (k.k == JK_NONE)
                jsb_puts(b, "\"null\"", T);
            else if (k.k == JK_FLOAT) {
                jsb_putc(b, '"', T);
                json_put_float(b, k.u.f);
                jsb_putc(b, '"', T);
            } else
                jr_fail(r, "keys must be str, int, float, bool or None, not %s",
                        jv_type_name(k));
            jsb_putjs(b, o->key_sep);
            json_put(r, b, d->val[i], o, level + 1);
        }
        if (o->indent)
            json_newline(b, o, level);
        jsb_putc(b, '}', T);
        return;
    }
    default:
        break;
    }
    jr_fail(r, "Object of type %s is not JSON serializable", jv_type_name(v));
}

jstr *jv_to_json(struct jrender *r, jv v, const struct jjson_opts *o) {
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    json_put(r, &b, v, o, 0);
    return jsb_done(&b);
}

/* ---- json.loads over text that passed json_syntax_check ---- */

struct jparse {
    struct jarena *a;
    const char *p;
    size_t n, i;
    int origin, roles_org;
};

static void jp_ws(struct jparse *j) {
    while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' ||
                           j->p[j->i] == '\r'))
        j->i++;
}

static unsigned jp_hex4(const char *p) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static jstr *jp_string(struct jparse *j, int origin) {
    size_t start = ++j->i, end = start;
    int esc = 0;
    while (j->p[end] != '"') { /* the syntax check guarantees the closing quote */
        if (j->p[end] == '\\') {
            esc = 1;
            end++;
        }
        end++;
    }
    j->i = end + 1;
    if (!esc)
        return js_new(j->a, j->p + start, end - start, origin);
    jstr *s = js_new(j->a, j->p + start, end - start, origin); /* decoded text is shorter */
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        char c = j->p[i];
        if (c != '\\') {
            s->s[o++] = c;
            continue;
        }
        c = j->p[++i];
        switch (c) {
        case 'b':
            s->s[o++] = '\b';
            break;
        case 'f':
            s->s[o++] = '\f';
            break;
        case 'n':
            s->s[o++] = '\n';
            break;
        case 'r':
            s->s[o++] = '\r';
            break;
        case 't':
            s->s[o++] = '\t';
            break;
        case 'u': {
            uint32_t cp = jp_hex4(j->p + i + 1);
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < end + 1 && j->p[i + 1] == '\\' &&
                j->p[i + 2] == 'u') {
                uint32_t lo = jp_hex4(j->p + i + 3);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xfffd; /* a lone surrogate cannot be UTF-8 */
            o += u8_put(s->s + o, cp);
            break;
        }
        default: /* " \ / */
            s->s[o++] = c;
        }
    }
    s->len = o;
    s->s[o] = 0;
    return s;
}

static jv jp_value(struct jparse *j, int origin) {
    jp_ws(j);
    char c = j->p[j->i];
    if (c == '{') {
        struct jdict *d = jd_new(j->a);
        j->i++;
        jp_ws(j);
        if (j->p[j->i] == '}') {
            j->i++;
            return jv_dict(d);
        }
        for (;;) {
            jp_ws(j);
            jstr *k = jp_string(j, j->origin);
            jp_ws(j);
            j->i++; /* : */
            int vo = j->roles_org >= 0 && js_eqc(k, "role") ? j->roles_org : j->origin;
            jv v = jp_value(j, vo);
            jd_set(j->a, d, jv_str(k), v);
            jp_ws(j);
            if (j->p[j->i++] == '}')
                return jv_dict(d);
        }
    }
    if (c == '[') {
        struct jlist *l = jl_new(j->a, 0);
        l->frozen = 1;
        j->i++;
        jp_ws(j);
        if (j->p[j->i] == ']') {
            j->i++;
            return jv_list(l);
        }
        for (;;) {
            jl_push(j->a, l, jp_value(j, j->origin));
            jp_ws(j);
            if (j->p[j->i++] == ']')
                return jv_list(l);
        }
    }
    if (c == '"')
        return jv_str(jp_string(j, origin));
    if (c == 't') {
        j->i += 4;
        return JV_TRUE;
    }
    if (c == 'f') {
        j->i += 5;
        return JV_FALSE;
    }
    if (c == 'n') {
        j->i += 4;
        return JV_NONE;
    }
    size_t s = j->i;
    int is_float = 0;
    while (j->i < j->n && strchr("+-0123456789.eE", j->p[j->i]) && j->p[j->i]) {
        if (strchr(".eE", j->p[j->i]))
            is_float = 1;
        j->i++;
    }
    char buf[64];
    size_t len = j->i - s;
    char *num = len < sizeof buf ? buf : ja_raw(j->a, len + 1);
    memcpy(num, j->p + s, len);
    num[len] = 0;
    if (!is_float) {
        errno = 0;
        long long v = strtoll(num, NULL, 10);
        if (errno != ERANGE)
            return jv_int(v);
    }
    return jv_float(strtod(num, NULL));
}

jv jv_from_json(struct jarena *a, const char *p, size_t n, int origin, int roles_org) {
    struct jparse j = {a, p, n, 0, origin, roles_org};
    return jp_value(&j, origin);
}

/* ---- iteration ---- */

void js_chars(struct jrender *r, const jstr *s, jv **out, size_t *n) {
    size_t cnt = u8_count(s->s, s->len), k = 0;
    jv *v = ja_raw(&r->a, ja_mul(&r->a, cnt ? cnt : 1, sizeof(jv)));
    for (size_t i = 0; i < s->len; k++) {
        uint32_t cp;
        size_t len = u8_next(s->s, s->len, i, &cp);
        v[k] = jv_str(js_sub(&r->a, s, i, len));
        i += len;
    }
    *out = v;
    *n = cnt;
    jr_step(r, cnt);
}

void jv_iterate_view(struct jrender *r, jv v, jv **out, size_t *n) {
    /* the container's own array where nothing can change it: the caller's data, ranges,
     * tuples, generators' items */
    const struct jlist *l = v.k == JK_LIST || v.k == JK_TUPLE ? v.u.l : NULL;
    if (l && (l->frozen || l->is_range || v.k == JK_TUPLE)) {
        *out = l->v;
        *n = l->n;
        jr_step(r, l->n);
        return;
    }
    if (v.k == JK_ITER) {
        struct jiter *it = v.u.it;
        *out = it->n ? it->v + (it->what >= IT_ITEMS ? 0 : it->pos) : ja_raw(&r->a, sizeof(jv));
        *n = it->what >= IT_ITEMS ? it->n : it->n - it->pos;
        if (it->what < IT_ITEMS)
            it->pos = it->n;
        jr_step(r, *n);
        return;
    }
    jv_iterate(r, v, out, n);
}

void jv_iterate(struct jrender *r, jv v, jv **out, size_t *n) {
    const jv *src = NULL;
    size_t cnt = 0;
    switch (v.k) {
    case JK_UNDEF:
        *out = ja_raw(&r->a, sizeof(jv)); /* never NULL: callers do pointer arithmetic */
        *n = 0;
        return;
    case JK_STR:
        js_chars(r, v.u.s, out, n);
        return;
    case JK_LIST:
    case JK_TUPLE:
        src = v.u.l->v;
        cnt = v.u.l->n;
        break;
    case JK_DICT:
        src = v.u.d->key;
        cnt = v.u.d->n;
        break;
    case JK_ITER: {
        struct jiter *it = v.u.it;
        if (it->what >= IT_ITEMS) {
            src = it->v;
            cnt = it->n;
        } else {
            src = it->n ? it->v + it->pos : NULL;
            cnt = it->n - it->pos;
            it->pos = it->n; /* consumed */
        }
        break;
    }
    default:
        if (v.k == JK_ABSENT)
            v = JV_NONE;
        jr_fail(r, "'%s' object is not iterable", jv_type_name(v));
    }
    jv *copy = ja_raw(&r->a, ja_mul(&r->a, cnt ? cnt : 1, sizeof(jv)));
    if (cnt)
        memcpy(copy, src, cnt * sizeof(jv));
    *out = copy;
    *n = cnt;
    jr_step(r, cnt);
}
