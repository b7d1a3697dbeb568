/* src/json_syntax.c — strict JSON syntax check (see json_syntax.h): an iterative scanner of
 * RFC 8259 text with an explicit stack, so deep nesting cannot overflow the C stack. It checks
 * syntax only; the data itself is read by SQLite's JSON functions once this check has passed,
 * except string members, whose exact bytes json_text_decode gives. Pure functions, any thread. */
#include "json_syntax.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* Scans the JSON string starting at p[*pi] == '"'; on success *pi is just past it and 0 is
 * returned, else -1 with *pi at the offending byte. */
static int scan_string(const char *p, size_t n, size_t *pi) {
    size_t i = *pi + 1;
    for (;; i++) {
        if (i >= n || (unsigned char)p[i] < 0x20)
            break;
        if (p[i] == '"') {
            *pi = i + 1;
            return 0;
        }
        if (p[i] != '\\')
            continue;
        if (++i >= n)
            break;
        if (p[i] == 'u') {
            int k = 0;
            while (k < 4 && i + 1 < n && p[i + 1] && strchr("0123456789abcdefABCDEF", p[i + 1]))
                i++, k++;
            if (k < 4) {
                i++;
                break;
            }
        } else if (!p[i] || !strchr("\"\\/bfnrt", p[i]))
            break;
    }
    *pi = i;
    return -1;
}

/* Scans a number starting at p[*pi]; 0 with *pi just past it, or -1 with *pi at the error. */
static int scan_number(const char *p, size_t n, size_t *pi) {
    size_t i = *pi;
    int r = -1;
    if (p[i] == '-')
        i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
        goto out;
    if (p[i] == '0')
        i++;
    else
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    if (i < n && p[i] == '.') {
        i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            goto out;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            goto out;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    r = 0;
out:
    *pi = i;
    return r;
}

int json_syntax_check(const char *p, size_t n, size_t *off, const char **why) {
    char stack[JSON_SYNTAX_DEPTH_MAX]; /* '{' or '[' per open container */
    int depth = 0;
    size_t i = 0;
    *why = NULL;
#define WS() while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++
value:
    WS();
    if (i >= n)
        goto bad;
    switch (p[i]) {
    case '{':
    case '[':
        if (depth == JSON_SYNTAX_DEPTH_MAX) {
            *why = "nested deeper than 1000 levels";
            goto bad;
        }
        stack[depth++] = p[i++];
        WS();
        if (i < n && p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
            i++;
            depth--;
            goto after;
        }
        if (stack[depth - 1] == '{')
            goto key;
        goto value;
    case '"':
        if (scan_string(p, n, &i))
            goto bad;
        goto after;
    case 't':
    case 'f':
    case 'n': {
        const char *lit = p[i] == 't' ? "true" : p[i] == 'f' ? "false" : "null";
        for (size_t k = 0; lit[k]; k++, i++)
            if (i >= n || p[i] != lit[k])
                goto bad;
        goto after;
    }
    default:
        if ((p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) && scan_number(p, n, &i) == 0)
            goto after;
        goto bad;
    }
key: /* an object member: "key" : value */
    WS();
    if (i >= n || p[i] != '"' || scan_string(p, n, &i))
        goto bad;
    WS();
    if (i >= n || p[i] != ':')
        goto bad;
    i++;
    goto value;
after: /* a value ended: a separator, a closing bracket, or the end of the text */
    WS();
    if (depth == 0) {
        if (i < n)
            goto bad; /* trailing text (a NUL byte included) */
        *off = n;
        return 0;
    }
    if (i >= n)
        goto bad;
    if (p[i] == ',') {
        i++;
        if (stack[depth - 1] == '{')
            goto key;
        goto value;
    }
    if (p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
        i++;
        depth--;
        goto after;
    }
bad:
    *off = i;
    return -1;
#undef WS
}

char json_syntax_top(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i < n ? p[i] : 0;
}

int json_syntax_error(const char *p, size_t n, char *msg, size_t size) {
    size_t off;
    const char *why;
    if (json_syntax_check(p, n, &off, &why) == 0)
        return 0;
    int line = 1, column = 1;
    for (size_t i = 0; i < off; i++) {
        if (p[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)p[i] & 0xc0) != 0x80)
            column++;
    }
    snprintf(msg, size, "invalid JSON at line %d, column %d%s%s", line, column, why ? ": " : "",
             why ? why : "");
    return -1;
}

/* ---- string literals decoded to bytes ---- */

static unsigned hex4(const char *p) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

int json_text_decode(const char *p, size_t n, char *out, size_t *out_len) {
    size_t o = 0;
    int flags = 0;
    if (n < 2 || p[0] != '"' || p[n - 1] != '"')
        return -1;
    for (size_t i = 1; i + 1 < n;) {
        unsigned char c = (unsigned char)p[i];
        if (c != '\\') {
            size_t len = utf8_valid_len((const unsigned char *)p + i, n - 1 - i);
            if (len) {
                memcpy(out + o, p + i, len);
                o += len;
                i += len;
            } else {
                o += utf8_put(out + o, 0xfffd);
                flags |= JSON_TEXT_BAD_UTF8;
                i++;
            }
            continue;
        }
        if (i + 2 >= n)
            return -1;
        char e = p[i + 1];
        i += 2;
        if (e != 'u') {
            const char *from = "bfnrt\"/\\", *to = "\b\f\n\r\t\"/\\";
            const char *k = strchr(from, e);
            if (!k || !e)
                return -1;
            out[o++] = to[k - from];
            continue;
        }
        if (i + 4 >= n || strspn(p + i, "0123456789abcdefABCDEF") < 4)
            return -1;
        unsigned cp = hex4(p + i);
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n && p[i] == '\\' && p[i + 1] == 'u' &&
            strspn(p + i + 2, "0123456789abcdefABCDEF") >= 4) {
            unsigned lo = hex4(p + i + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
        }
        if (cp >= 0xd800 && cp <= 0xdfff) {
            cp = 0xfffd; /* a lone surrogate is not a character */
            flags |= JSON_TEXT_BAD_UTF8;
        }
        if (cp == 0)
            flags |= JSON_TEXT_NUL;
        o += utf8_put(out + o, cp);
    }
    *out_len = o;
    return flags;
}
