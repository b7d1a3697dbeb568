/* src/json_write.c — JSON text into a growing buffer (json_write.h). Pure; any thread. */
#include "json_write.h"

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
