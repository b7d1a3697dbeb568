/* src/sse.c — Server-Sent Events parser (see sse.h). */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

void sse_init(struct sse_parser *p) {
    memset(p, 0, sizeof *p);
}

void sse_free(struct sse_parser *p) {
    free(p->line);
    free(p->data);
    memset(p, 0, sizeof *p);
}

static int sse_reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    if (need > SSE_LINE_MAX + 2)
        return -1;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *q = realloc(*buf, c);
    if (!q)
        return -1;
    *buf = q;
    *cap = c;
    return 0;
}

/* One complete line (without its end). */
static int sse_line(struct sse_parser *p, sse_event_fn fn, void *ud) {
    const char *s = p->line ? p->line : "";
    size_t n = p->line_len;
    if (n == 0) { /* dispatch */
        int rc = 0;
        if (p->has_data) {
            size_t len = p->data_len;
            if (len > 0 && p->data[len - 1] == '\n')
                len--;
            if (sse_reserve(&p->data, &p->data_cap, len + 1) != 0)
                return -1;
            p->data[len] = 0;
            struct sse_event ev = {p->event, p->data, len};
            p->n_events++;
            rc = fn(ud, &ev);
        }
        p->data_len = 0;
        p->has_data = 0;
        p->pending = 0;
        p->event[0] = 0;
        return rc;
    }
    if (s[0] == ':')
        return 0; /* a comment */
    const char *colon = memchr(s, ':', n);
    size_t klen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = (size_t)(s + n - v);
    if (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    p->pending = 1;
    if (klen == 4 && memcmp(s, "data", 4) == 0) {
        if (p->data_len + vlen + 1 > SSE_LINE_MAX ||
            sse_reserve(&p->data, &p->data_cap, p->data_len + vlen + 2) != 0)
            return -1;
        if (vlen)
            memcpy(p->data + p->data_len, v, vlen);
        p->data_len += vlen;
        p->data[p->data_len++] = '\n';
        p->has_data = 1;
    } else if (klen == 5 && memcmp(s, "event", 5) == 0) {
        size_t m = vlen < sizeof p->event - 1 ? vlen : sizeof p->event - 1;
        memcpy(p->event, v, m);
        p->event[m] = 0; /* a NUL inside ends the name */
    } /* id, retry and unknown fields: ignored */
    return 0;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_fn fn, void *ud) {
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    size_t i = 0;
    while (!p->started && i < n) { /* a leading BOM is dropped; other bytes start the stream */
        if ((unsigned char)buf[i] == bom[p->bom]) {
            i++;
            if (++p->bom == 3)
                p->started = 1;
            continue;
        }
        p->started = 1;
        if (p->bom > 0) { /* a BOM prefix that was not one: those bytes are line text */
            if (sse_reserve(&p->line, &p->line_cap, p->bom) != 0)
                return -1;
            memcpy(p->line, bom, p->bom);
            p->line_len = p->bom;
        }
    }
    while (i < n) {
        char c = buf[i];
        if (c == '\n' && p->cr) { /* the LF of a CRLF split or not */
            p->cr = 0;
            i++;
            continue;
        }
        p->cr = 0;
        const char *end = buf + i;
        while (end < buf + n && *end != '\n' && *end != '\r')
            end++;
        size_t take = (size_t)(end - (buf + i));
        if (take) {
            if (p->line_len + take > SSE_LINE_MAX ||
                sse_reserve(&p->line, &p->line_cap, p->line_len + take + 1) != 0)
                return -1;
            memcpy(p->line + p->line_len, buf + i, take);
            p->line_len += take;
            i += take;
        }
        if (i == n)
            break;
        p->cr = buf[i] == '\r';
        i++;
        int rc = sse_line(p, fn, ud);
        p->line_len = 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int sse_finish(const struct sse_parser *p) {
    return p->line_len > 0 || p->pending;
}
