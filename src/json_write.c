/* src/json_write.c — JSON text into a growing buffer (json_write.h). Pure; any thread. */
#include "json_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_put(struct json_buf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void json_puts(struct json_buf *b, const char *s) { json_put(b, s, strlen(s)); }

void json_put_str(struct json_buf *b, const char *s, size_t n) {
    json_put(b, "\"", 1);
    size_t run = 0;   /* bytes copied as they are, in one go */
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        char hex[8];
        if (!esc && (c < 0x20 || c == 0x7f)) {
            snprintf(hex, sizeof hex, "\\u%04x", c);
            esc = hex;
        }
        if (!esc)
            continue;
        json_put(b, s + run, i - run);
        json_puts(b, esc);
        run = i + 1;
    }
    json_put(b, s + run, n - run);
    json_put(b, "\"", 1);
}

void json_put_int(struct json_buf *b, int64_t v) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    json_puts(b, num);
}

void json_put_double(struct json_buf *b, double d) {
    if (!isfinite(d)) {
        json_puts(b, "null");
        return;
    }
    char num[40];
    int is_float = fabs(d) <= 3.4e38 && (double)(float)d == d;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, d);
        double back = strtod(num, NULL);
        if (is_float ? (float)back == (float)d : back == d)
            break;
    }
    json_puts(b, num);
}
