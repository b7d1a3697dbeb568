/* ui/layout.c — pure text layout for the chat (see layout.h): UTF-8, widths, sanitizing,
 * wrapping, cursor and scrolling maths. Any thread; no terminal. */
#include "layout.h"
#include "app.h"
#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

int layout_utf8_decode(const char *s, size_t len, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0], min;
    int n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, c &= 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, c &= 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, c &= 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if ((size_t)n > len) {
        *cp = 0xFFFD;
        return 1;
    }
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = c;
    return n;
}

int layout_utf8_encode(uint32_t cp, char *out) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    return (int)unicode_encode(cp, out);
}

size_t layout_utf8_complete_len(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    /* Look back at most 3 bytes for a lead byte whose sequence runs past the end. */
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = u[len - back];
        if ((c & 0xC0) == 0x80)
            continue; /* continuation byte: keep looking for its lead */
        size_t need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3
                    : c >= 0xC2 && c <= 0xDF ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

int layout_cp_width(uint32_t cp) {
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
        return -1;
    if (cp < 0x7F) /* printable ASCII: one column in every UTF-8 locale */
        return 1;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? -1 : w > 2 ? 2 : w;
}

int layout_str_width(const char *s, size_t len) {
    int w = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) { /* ASCII: no decoding */
            w++;
            i++;
            continue;
        }
        uint32_t cp;
        i += (size_t)layout_utf8_decode(s + i, len - i, &cp);
        int cw = layout_cp_width(cp);
        w += cw < 0 ? 1 : cw;
    }
    return w;
}

size_t layout_fit(const char *s, size_t len, int maxw, int *width) {
    int w = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        int n = layout_utf8_decode(s + i, len - i, &cp);
        int cw = layout_cp_width(cp);
        if (cw < 0)
            cw = 1;
        if (w + cw > maxw)
            break;
        w += cw;
        i += (size_t)n;
    }
    if (width)
        *width = w;
    return i;
}

char *layout_sanitize(const char *s, size_t len, size_t *out_len) {
    /* Worst case: every byte becomes a 3-byte U+FFFD or a 4-byte tab expansion, and a 4-byte
     * code point becomes "<U+10FFFF>" (10 bytes): 4x the input plus the NUL is enough. */
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(len * 4 + 1);
    size_t o = 0, i = 0;
    if (!out)
        return NULL;
    while (i < len) {
        uint32_t cp;
        int n = layout_utf8_decode(s + i, len - i, &cp);
        if (cp == '\n') {
            out[o++] = '\n';
        } else if (cp == '\t') {
            memcpy(out + o, "    ", 4), o += 4;
        } else if (cp < 0x20 || cp == 0x7F) {
            out[o++] = '^';
            out[o++] = cp == 0x7F ? '?' : (char)(cp + 64);
        } else if (cp != 0xFFFD && layout_cp_width(cp) < 0) {
            o += (size_t)sprintf(out + o, "<U+%04X>", (unsigned)cp);
        } else if (cp == 0xFFFD) {
            o += (size_t)layout_utf8_encode(cp, out + o);
        } else {
            memcpy(out + o, s + i, (size_t)n), o += (size_t)n;
        }
        i += (size_t)n;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

static void wrap_emit(struct layout_line *lines, int cap, int *n, int off, int len, int width) {
    if (*n < cap) {
        lines[*n].off = off;
        lines[*n].len = len;
        lines[*n].width = width;
    }
    (*n)++;
}

int layout_wrap(const char *s, size_t len, int width, int mode, struct layout_line *lines,
                int cap) {
    int n = 0, start = 0, w = 0;
    int brk_end = -1, brk_next = -1, brk_w = 0; /* the last space run in this line */
    int i = 0, end = (int)len;
    if (width < 1)
        width = 1;
    while (i < end) {
        if (s[i] == '\n') {
            wrap_emit(lines, cap, &n, start, i - start, w);
            start = ++i, w = 0, brk_end = -1;
            continue;
        }
        uint32_t cp;
        int cl = layout_utf8_decode(s + i, (size_t)(end - i), &cp);
        int cw = layout_cp_width(cp);
        if (cw < 0)
            cw = 1;
        if (mode == LAYOUT_WRAP_WORD && cp == ' ') {
            if (w + 1 > width) { /* the space itself does not fit: break, drop the run */
                int in_run = brk_end >= start && brk_next == i;
                wrap_emit(lines, cap, &n, start, (in_run ? brk_end : i) - start,
                          in_run ? brk_w : w);
                while (i < end && s[i] == ' ')
                    i++;
                start = i, w = 0, brk_end = -1;
                continue;
            }
            if (brk_next != i || brk_end < 0) { /* a new run of spaces */
                brk_end = i;
                brk_w = w;
            }
            w += 1;
            i += cl;
            brk_next = i;
            continue;
        }
        if (w + cw > width && w > 0) {
            if (mode == LAYOUT_WRAP_WORD && brk_end > start) {
                wrap_emit(lines, cap, &n, start, brk_end - start, brk_w);
                start = brk_next;
                w = layout_str_width(s + start, (size_t)(i - start));
            } else {
                wrap_emit(lines, cap, &n, start, i - start, w);
                start = i, w = 0;
            }
            brk_end = -1;
            continue; /* place this character again on the new line */
        }
        w += cw;
        i += cl;
    }
    wrap_emit(lines, cap, &n, start, end - start, w);
    return n;
}

void layout_cursor(const char *s, const struct layout_line *lines, int n_lines, int width,
                   int point, int *row, int *col) {
    int r = 0;
    for (int k = 0; k < n_lines; k++)
        if (lines[k].off <= point)
            r = k;
    int c = n_lines > 0 ? layout_str_width(s + lines[r].off, (size_t)(point - lines[r].off)) : 0;
    if (c >= width) {
        r++;
        c = 0;
    }
    *row = r;
    *col = c;
}

void layout_scroll_fix(struct layout_scroll *s, int total, int view) {
    int max = total - view > 0 ? total - view : 0;
    if (s->follow || s->top > max)
        s->top = max;
    if (s->top < 0)
        s->top = 0;
    if (s->top >= max)
        s->follow = 1;
}

void layout_scroll_by(struct layout_scroll *s, int delta, int total, int view) {
    s->follow = 0;
    s->top += delta;
    layout_scroll_fix(s, total, view);
}

/* Copies len bytes of UTF-8 into out (cap > 0), cut before a character that does not fit. */
static void copy_chars(char *out, size_t cap, const char *s, size_t len) {
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--; /* s[len] starts the character left out */
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

char *layout_model_name(const char *path, int max_w, char *out, size_t cap) {
    char base[512];
    app_model_short_name(path, base, sizeof base);
    size_t bl = strlen(base);
    size_t sl;
    char *san = layout_sanitize(base, bl, &sl);
    out[0] = '\0';
    if (!san)
        return out;
    if (max_w > 0 && max_w < 5)
        max_w = 5;
    if (max_w <= 0 || layout_str_width(san, sl) <= max_w) {
        copy_chars(out, cap, san, sl);
        free(san);
        return out;
    }
    int tail_w = (max_w - 1) / 2;
    size_t head = layout_fit(san, sl, max_w - 1 - tail_w, NULL), tail = head;
    while (tail < sl && layout_str_width(san + tail, sl - tail) > tail_w) {
        uint32_t cp;
        tail += (size_t)layout_utf8_decode(san + tail, sl - tail, &cp);
    }
    while (tail < sl) { /* a zero-width character stays with the one before it */
        uint32_t cp;
        int n = layout_utf8_decode(san + tail, sl - tail, &cp);
        if (layout_cp_width(cp) != 0)
            break;
        tail += (size_t)n;
    }
    char *joined = malloc(head + 3 + (sl - tail) + 1);
    if (joined) {
        memcpy(joined, san, head);
        memcpy(joined + head, "\xe2\x80\xa6", 3);
        memcpy(joined + head + 3, san + tail, sl - tail);
        copy_chars(out, cap, joined, head + 3 + (sl - tail));
        free(joined);
    }
    free(san);
    return out;
}
