/* src/jinja_str.c — Python's str for the Jinja engine: characters (UTF-8, case mapping through
 * the C.UTF-8 locale, classes), strip, split, replace, find, pad, join, case conversion, int()
 * and float() of text, the % operator, str.format and its format-spec mini-language,
 * markupsafe's HTML escaping, datetime.strftime; all keeping per-byte origins. The builtins
 * (jinja_builtin.c) and the evaluator call these. Any thread. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "jinja_impl.h"

#define T JINJA_ORIGIN_TEMPLATE

/* ---- characters ---- */

/* character i's byte offsets of s: offs[0..n] (offs[n] = len) */
size_t *jstr_offsets(struct jrender *r, const jstr *s, size_t *n) {
    size_t cnt = u8_count(s->s, s->len), k = 0;
    size_t *o = ja_raw(&r->a, ja_mul(&r->a, cnt + 1, sizeof *o));
    uint32_t cp;
    for (size_t i = 0; i < s->len; k++) {
        o[k] = i;
        i += u8_next(s->s, s->len, i, &cp);
    }
    o[cnt] = s->len;
    *n = cnt;
    jr_step(r, cnt / 32);
    return o;
}

uint32_t jstr_cp(const jstr *s, size_t off, size_t *len) {
    uint32_t cp;
    *len = u8_next(s->s, s->len, off, &cp);
    return cp;
}

static uint32_t u_upper(struct jrender *r, uint32_t c) {
    if (c < 0x80)
        return c >= 'a' && c <= 'z' ? c - 32 : c;
    if (r->uloc && !(c >= 0xd800 && c <= 0xdfff))
        return (uint32_t)towupper_l((wint_t)c, r->uloc);
    return c;
}

static uint32_t u_lower(struct jrender *r, uint32_t c) {
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (r->uloc && !(c >= 0xd800 && c <= 0xdfff))
        return (uint32_t)towlower_l((wint_t)c, r->uloc);
    return c;
}

static int u_isupper(struct jrender *r, uint32_t c) {
    if (c < 0x80)
        return c >= 'A' && c <= 'Z';
    return r->uloc && !(c >= 0xd800 && c <= 0xdfff) && iswupper_l((wint_t)c, r->uloc);
}

static int u_islower(struct jrender *r, uint32_t c) {
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    return r->uloc && !(c >= 0xd800 && c <= 0xdfff) && iswlower_l((wint_t)c, r->uloc);
}

static int u_isalpha(struct jrender *r, uint32_t c) {
    if (c < 0x80)
        return (c | 32) >= 'a' && (c | 32) <= 'z';
    return r->uloc && !(c >= 0xd800 && c <= 0xdfff) && iswalpha_l((wint_t)c, r->uloc);
}

static int u_isdigit(struct jrender *r, uint32_t c) {
    (void)r;
    return c >= '0' && c <= '9';
}

static int u_isalnum(struct jrender *r, uint32_t c) {
    return u_isalpha(r, c) || u_isdigit(r, c) ||
           (c >= 0x80 && r->uloc && !(c >= 0xd800 && c <= 0xdfff) &&
            iswalnum_l((wint_t)c, r->uloc));
}

static int u_iscased(struct jrender *r, uint32_t c) {
    return u_isupper(r, c) || u_islower(r, c);
}

static void put_cp(struct jsb *b, uint32_t cp, int origin) {
    char buf[4];
    jsb_put(b, buf, u8_put(buf, cp), origin);
}

jv jstr_case(struct jrender *r, jv x, int how) {
    const jstr *s = x.k == JK_STR ? x.u.s : ev_soft_str(r, x);
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    int prev_cased = 0, first = 1, at_start = 1;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = jstr_cp(s, i, &k), o = c;
        switch (how) {
        case CASE_LOWER:
            o = u_lower(r, c);
            break;
        case CASE_UPPER:
            o = u_upper(r, c);
            break;
        case CASE_TITLE: /* str.title() */
            o = prev_cased ? u_lower(r, c) : u_upper(r, c);
            prev_cased = u_iscased(r, c);
            break;
        case CASE_CAPITALIZE:
            o = first ? u_upper(r, c) : u_lower(r, c);
            break;
        case CASE_SWAP:
            o = u_isupper(r, c) ? u_lower(r, c) : u_islower(r, c) ? u_upper(r, c) : c;
            break;
        case CASE_TITLE_FILTER: /* jinja2's do_title: words split at [-\s({\[<]+ */
            if (c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || u_isspace(c)) {
                at_start = 1;
            } else {
                o = at_start ? u_upper(r, c) : u_lower(r, c);
                at_start = 0;
            }
            break;
        }
        first = 0;
        if (o == c)
            jsb_putjs_range(&b, s, i, k);
        else
            put_cp(&b, o, js_org(s, i));
        i += k;
    }
    jv v = jv_str(jsb_done(&b));
    v.safe = x.k == JK_STR && how != CASE_TITLE_FILTER ? x.safe : 0;
    return v;
}

jstr *jb_lower(struct jrender *r, const jstr *s) {
    return jstr_case(r, jv_str((jstr *)s), CASE_LOWER).u.s;
}

int jstr_is(struct jrender *r, const jstr *s, int what) {
    if (!s->len && what != IS_LOWER && what != IS_UPPER)
        return 0;
    int prev_cased = 0, any = 0;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = jstr_cp(s, i, &k);
        i += k;
        switch (what) {
        case IS_ALPHA:
            if (!u_isalpha(r, c))
                return 0;
            break;
        case IS_DIGIT:
            if (!u_isdigit(r, c))
                return 0;
            break;
        case IS_ALNUM:
            if (!u_isalnum(r, c))
                return 0;
            break;
        case IS_SPACE:
            if (!u_isspace(c))
                return 0;
            break;
        case IS_LOWER: /* cased characters, none upper */
            if (u_isupper(r, c))
                return 0;
            any |= u_islower(r, c);
            break;
        case IS_UPPER:
            if (u_islower(r, c))
                return 0;
            any |= u_isupper(r, c);
            break;
        case IS_TITLE:
            if (u_isupper(r, c)) {
                if (prev_cased)
                    return 0;
                prev_cased = any = 1;
            } else if (u_islower(r, c)) {
                if (!prev_cased)
                    return 0;
                prev_cased = 1;
            } else
                prev_cased = 0;
            break;
        }
    }
    return what >= IS_LOWER ? any : 1;
}

int64_t jstr_wordcount(struct jrender *r, const jstr *s) {
    int64_t n = 0;
    int in_word = 0;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = jstr_cp(s, i, &k);
        int w = c == '_' || u_isalnum(r, c);
        if (w && !in_word)
            n++;
        in_word = w;
        i += k;
    }
    return n;
}

/* ---- markupsafe ---- */

jstr *jstr_escape_html(struct jrender *r, const jstr *s) {
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    size_t run = 0;
    for (size_t i = 0; i < s->len; i++) {
        const char *e = NULL;
        switch (s->s[i]) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&#34;";
            break;
        case '\'':
            e = "&#39;";
            break;
        default:
            continue;
        }
        jsb_putjs_range(&b, s, run, i - run);
        jsb_puts(&b, e, js_org(s, i));
        run = i + 1;
    }
    jsb_putjs_range(&b, s, run, s->len - run);
    return jsb_done(&b);
}

jv jb_escape(struct jrender *r, jv v) {
    if (v.k == JK_STR && v.safe)
        return v;
    jv o = jv_str(jstr_escape_html(r, ev_soft_str(r, v)));
    o.safe = 1;
    return o;
}

/* ---- Python string algorithms ---- */

static int in_chars(const jstr *chars, uint32_t c) {
    for (size_t i = 0; i < chars->len;) {
        uint32_t d;
        i += u8_next(chars->s, chars->len, i, &d);
        if (d == c)
            return 1;
    }
    return 0;
}

/* strip (which: 1 left, 2 right, 3 both) the characters of chars (NULL: whitespace) */
jv jstr_strip(struct jrender *r, jv x, const jstr *chars, int which) {
    const jstr *s = x.u.s;
    size_t a = 0, b = s->len;
    if (which & 1)
        while (a < b) {
            size_t k;
            uint32_t c = jstr_cp(s, a, &k);
            if (chars ? !in_chars(chars, c) : !u_isspace(c))
                break;
            a += k;
        }
    if (which & 2) {
        size_t end = a; /* scan forward: the end of the last character to keep */
        for (size_t i = a; i < b;) {
            size_t k;
            uint32_t c = jstr_cp(s, i, &k);
            i += k;
            if (chars ? !in_chars(chars, c) : !u_isspace(c))
                end = i;
        }
        b = end;
    }
    jv v = jv_str(a == 0 && b == s->len ? (jstr *)s : js_sub(&r->a, s, a, b - a));
    v.safe = x.safe;
    return v;
}

const jstr *jstr_strip_arg(struct jrender *r, jv v) {
    if (v.k == JK_ABSENT || v.k == JK_NONE)
        return NULL;
    if (v.k != JK_STR)
        jr_fail(r, "strip arg must be None or str");
    return v.u.s;
}

const char *jstr_find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (!nn)
        return h;
    if (nn > hn)
        return NULL;
    for (size_t i = 0; i + nn <= hn; i++) {
        const char *p = memchr(h + i, n[0], hn - nn - i + 1);
        if (!p)
            return NULL;
        i = (size_t)(p - h);
        if (!memcmp(p, n, nn))
            return p;
    }
    return NULL;
}

const char *jstr_rfind_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn > hn)
        return NULL;
    for (size_t i = hn - nn + 1; i-- > 0;)
        if (!memcmp(h + i, n, nn))
            return h + i;
    return NULL;
}

jv jstr_replace(struct jrender *r, const jstr *s, const jstr *old, const jstr *new,
                      int64_t count) {
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    if (!old->len) { /* new between every character (and at both ends) */
        size_t i = 0;
        int64_t n = 0;
        for (;;) {
            if (count < 0 || n < count) {
                jsb_putjs(&b, new);
                n++;
            }
            if (i >= s->len)
                break;
            size_t k;
            jstr_cp(s, i, &k);
            jsb_putjs_range(&b, s, i, k);
            i += k;
        }
        return jv_str(jsb_done(&b));
    }
    size_t i = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
        const char *p = jstr_find_bytes(s->s + i, s->len - i, old->s, old->len);
        if (!p)
            break;
        size_t at = (size_t)(p - s->s);
        jsb_putjs_range(&b, s, i, at - i);
        jsb_putjs(&b, new);
        i = at + old->len;
        n++;
        jr_step(r, 1);
    }
    if (!n)
        return jv_str((jstr *)s);
    jsb_putjs_range(&b, s, i, s->len - i);
    return jv_str(jsb_done(&b));
}

/* str.split / str.rsplit */
jv jstr_split(struct jrender *r, const jstr *s, jv sepv, int64_t maxsplit, int right) {
    struct jlist *l = jl_new(&r->a, 0);
    if (sepv.k == JK_ABSENT || sepv.k == JK_NONE) {
        /* runs of whitespace; the ends stripped */
        size_t n;
        size_t *o = jstr_offsets(r, s, &n);
        uint8_t *ws = ja_raw(&r->a, n + 1);
        for (size_t i = 0; i < n; i++) {
            size_t k;
            ws[i] = (uint8_t)u_isspace(jstr_cp(s, o[i], &k));
        }
        if (!right) {
            size_t i = 0;
            int64_t splits = 0;
            for (;;) {
                while (i < n && ws[i])
                    i++;
                if (i >= n)
                    break;
                if (maxsplit >= 0 && splits >= maxsplit) {
                    size_t e = n; /* the rest, trailing whitespace kept */
                    jl_push(&r->a, l, jv_str(js_sub(&r->a, s, o[i], o[e] - o[i])));
                    break;
                }
                size_t j = i;
                while (j < n && !ws[j])
                    j++;
                jl_push(&r->a, l, jv_str(js_sub(&r->a, s, o[i], o[j] - o[i])));
                splits++;
                i = j;
            }
        } else {
            size_t i = n;
            int64_t splits = 0;
            struct jlist *rev = jl_new(&r->a, 0);
            for (;;) {
                while (i > 0 && ws[i - 1])
                    i--;
                if (i == 0)
                    break;
                if (maxsplit >= 0 && splits >= maxsplit) {
                    jl_push(&r->a, rev, jv_str(js_sub(&r->a, s, 0, o[i])));
                    break;
                }
                size_t j = i;
                while (j > 0 && !ws[j - 1])
                    j--;
                jl_push(&r->a, rev, jv_str(js_sub(&r->a, s, o[j], o[i] - o[j])));
                splits++;
                i = j;
            }
            for (size_t k = rev->n; k-- > 0;)
                jl_push(&r->a, l, rev->v[k]);
        }
        return jv_list(l);
    }
    const jstr *sep = ev_arg_str(r, sepv, "separator");
    if (!sep->len)
        jr_fail(r, "jstr_empty separator");
    if (!right) {
        size_t i = 0;
        int64_t splits = 0;
        for (;;) {
            const char *p = maxsplit >= 0 && splits >= maxsplit
                                ? NULL
                                : jstr_find_bytes(s->s + i, s->len - i, sep->s, sep->len);
            if (!p) {
                jl_push(&r->a, l, jv_str(js_sub(&r->a, s, i, s->len - i)));
                break;
            }
            size_t at = (size_t)(p - s->s);
            jl_push(&r->a, l, jv_str(js_sub(&r->a, s, i, at - i)));
            i = at + sep->len;
            splits++;
            jr_step(r, 1);
        }
        return jv_list(l);
    }
    struct jlist *rev = jl_new(&r->a, 0);
    size_t e = s->len;
    int64_t splits = 0;
    for (;;) {
        const char *p = maxsplit >= 0 && splits >= maxsplit
                            ? NULL
                            : jstr_rfind_bytes(s->s, e, sep->s, sep->len);
        if (!p) {
            jl_push(&r->a, rev, jv_str(js_sub(&r->a, s, 0, e)));
            break;
        }
        size_t at = (size_t)(p - s->s);
        jl_push(&r->a, rev, jv_str(js_sub(&r->a, s, at + sep->len, e - at - sep->len)));
        e = at;
        splits++;
        jr_step(r, 1);
    }
    for (size_t k = rev->n; k-- > 0;)
        jl_push(&r->a, l, rev->v[k]);
    return jv_list(l);
}

jv jstr_splitlines(struct jrender *r, const jstr *s, int keepends) {
    struct jlist *l = jl_new(&r->a, 0);
    size_t i = 0, start = 0;
    while (i < s->len) {
        size_t k;
        uint32_t c = jstr_cp(s, i, &k);
        if (!u_islinebreak(c)) {
            i += k;
            continue;
        }
        size_t eol = i + k;
        if (c == '\r' && eol < s->len && s->s[eol] == '\n')
            eol++;
        jl_push(&r->a, l, jv_str(js_sub(&r->a, s, start, (keepends ? eol : i) - start)));
        start = i = eol;
    }
    if (start < s->len)
        jl_push(&r->a, l, jv_str(js_sub(&r->a, s, start, s->len - start)));
    return jv_list(l);
}

/* Byte offsets [*a, *b) of the characters [start, end) (Python slice rules). */
void jstr_range(struct jrender *r, const jstr *s, jv start, jv end, size_t *a,
                      size_t *b) {
    *a = 0;
    *b = s->len;
    if ((start.k == JK_ABSENT || start.k == JK_NONE) && (end.k == JK_ABSENT || end.k == JK_NONE))
        return;
    size_t n;
    size_t *o = jstr_offsets(r, s, &n);
    int64_t x = ev_arg_int(r, start, 0, "start"), y = ev_arg_int(r, end, (int64_t)n, "end");
    if (x < 0)
        x = x + (int64_t)n < 0 ? 0 : x + (int64_t)n;
    if (y < 0)
        y = y + (int64_t)n < 0 ? 0 : y + (int64_t)n;
    if (x > (int64_t)n)
        x = (int64_t)n + 1; /* nothing matches (not even an jstr_empty string) */
    if (y > (int64_t)n)
        y = (int64_t)n;
    if (x > (int64_t)n || y < x) {
        *a = 1;
        *b = 0;
        return;
    }
    *a = o[x];
    *b = o[y];
}

int jstr_fixes(struct jrender *r, const jstr *s, jv prefix, jv start, jv end, int ends,
                     const char *fname) {
    size_t a, b;
    jstr_range(r, s, start, end, &a, &b);
    if (a > b)
        return 0;
    jv *items = &prefix;
    size_t n = 1;
    if (prefix.k == JK_TUPLE) {
        items = prefix.u.l->v;
        n = prefix.u.l->n;
    } else if (prefix.k != JK_STR)
        jr_fail(r, "%s first arg must be str or a tuple of str, not %s", fname,
                jv_type_name(prefix));
    for (size_t i = 0; i < n; i++) {
        if (items[i].k != JK_STR)
            jr_fail(r, "tuple for %s must only contain str, not %s", fname,
                    jv_type_name(items[i]));
        const jstr *p = items[i].u.s;
        if (p->len <= b - a && !memcmp(s->s + (ends ? b - p->len : a), p->s, p->len))
            return 1;
    }
    return 0;
}

/* find / rfind: the character index, -1 when absent */
int64_t jstr_find(struct jrender *r, const jstr *s, const jstr *sub, jv start, jv end,
                        int right) {
    size_t a, b;
    jstr_range(r, s, start, end, &a, &b);
    if (a > b)
        return -1;
    const char *p = right ? jstr_rfind_bytes(s->s + a, b - a, sub->s, sub->len)
                          : jstr_find_bytes(s->s + a, b - a, sub->s, sub->len);
    if (!p)
        return -1;
    return (int64_t)u8_count(s->s, (size_t)(p - s->s));
}

jv jstr_pad(struct jrender *r, jv x, int64_t width, jv fill, int how /* 0 l 1 r 2 c */) {
    const jstr *s = x.u.s;
    uint32_t fc = ' ';
    if (fill.k != JK_ABSENT) {
        const jstr *f = ev_arg_str(r, fill, "The fill character");
        if (u8_count(f->s, f->len) != 1)
            jr_fail(r, "The fill character must be exactly one character long");
        size_t k;
        fc = jstr_cp(f, 0, &k);
    }
    int64_t n = (int64_t)u8_count(s->s, s->len);
    if (width <= n)
        return x;
    if (width - n > (int64_t)r->lim.max_output)
        jr_fail(r, "text longer than %zu bytes (the output limit)", r->lim.max_output);
    int64_t marg = width - n, left;
    if (how == 0)
        left = 0;
    else if (how == 1)
        left = marg;
    else
        left = marg / 2 + (marg & width & 1);
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    for (int64_t i = 0; i < left; i++)
        put_cp(&b, fc, T);
    jsb_putjs(&b, s);
    for (int64_t i = 0; i < marg - left; i++)
        put_cp(&b, fc, T);
    jv v = jv_str(jsb_done(&b));
    v.safe = x.safe;
    return v;
}

jv jstr_join(struct jrender *r, const jstr *sep, jv iterable, int require_str) {
    jv *items;
    size_t n;
    jv_iterate(r, iterable, &items, &n);
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    for (size_t i = 0; i < n; i++) {
        if (i)
            jsb_putjs(&b, sep);
        if (require_str && items[i].k != JK_STR)
            jr_fail(r, "sequence item %zu: expected str instance, %s found", i,
                    jv_type_name(items[i]));
        jv_put_str(r, &b, items[i]);
    }
    return jv_str(jsb_done(&b));
}

/* ---- numbers ---- */

/* Python's int(str, base): 0 on success */
int jstr_to_int(const jstr *s, int base, int64_t *out) {
    const char *p = s->s, *e = s->s + s->len;
    while (p < e && (*p == ' ' || (*p >= 9 && *p <= 13)))
        p++;
    while (e > p && (e[-1] == ' ' || (e[-1] >= 9 && e[-1] <= 13)))
        e--;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p + 1 < e && p[0] == '0') {
        char c = (char)(p[1] | 0x20);
        if ((c == 'x' && (base == 16 || base == 0)) || (c == 'o' && (base == 8 || base == 0)) ||
            (c == 'b' && (base == 2 || base == 0))) {
            base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
            p += 2;
            if (p < e && *p == '_')
                p++;
        }
    }
    if (base == 0)
        base = 10;
    if (p >= e)
        return -1;
    uint64_t v = 0;
    int prev_us = 1;
    for (; p < e; p++) {
        if (*p == '_') {
            if (prev_us)
                return -1;
            prev_us = 1;
            continue;
        }
        int d = *p >= '0' && *p <= '9' ? *p - '0'
                : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'z' ? (*p | 0x20) - 'a' + 10 : 99;
        if (d >= base)
            return -1;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
        prev_us = 0;
    }
    if (prev_us || v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Python's float(str): 0 on success */
int jstr_to_float(const jstr *s, double *out) {
    char buf[128];
    const char *p = s->s, *e = s->s + s->len;
    while (p < e && u_isspace((unsigned char)*p))
        p++;
    while (e > p && u_isspace((unsigned char)e[-1]))
        e--;
    size_t o = 0;
    for (const char *q = p; q < e; q++) {
        if (*q == '_') {
            if (q == p || q + 1 >= e || !(q[-1] >= '0' && q[-1] <= '9') ||
                !(q[1] >= '0' && q[1] <= '9'))
                return -1;
            continue;
        }
        if (o + 1 >= sizeof buf)
            return -1;
        buf[o++] = *q;
    }
    buf[o] = 0;
    if (!o)
        return -1;
    for (size_t i = 0; i < o; i++) /* no hex floats, no "nan(...)" */
        if ((buf[i] | 0x20) == 'x' || buf[i] == '(')
            return -1;
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

double ev_num_float(struct jrender *r, jv v, const char *what) {
    if (v.k == JK_FLOAT)
        return v.u.f;
    if (v.k == JK_INT || v.k == JK_BOOL)
        return (double)v.u.i;
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "must be real number, not %s (%s)", jv_type_name(v), what);
}

jv ev_int_from_float(struct jrender *r, double f) {
    if (isnan(f) || isinf(f))
        jr_fail(r, "cannot convert float %s to integer", isnan(f) ? "NaN" : "infinity");
    if (f >= 9.2233720368547758e18 || f < -9.2233720368547758e18)
        jr_fail(r, "integer result too large");
    return jv_int((int64_t)f);
}

/* ---- % formatting ---- */

static void pad_put(struct jsb *b, const jstr *s, int64_t width, int left) {
    int64_t n = (int64_t)u8_count(s->s, s->len);
    if (!left)
        for (int64_t i = n; i < width; i++)
            jsb_putc(b, ' ', T);
    jsb_putjs(b, s);
    if (left)
        for (int64_t i = n; i < width; i++)
            jsb_putc(b, ' ', T);
}

static void put_nonfinite(struct jsb *b, double f, int upper, const char *flags, int64_t width) {
    char buf[16];
    const char *sgn = f < 0 ? "-" : strchr(flags, '+') ? "+" : strchr(flags, ' ') ? " " : "";
    snprintf(buf, sizeof buf, "%s%s", sgn, isnan(f) ? (upper ? "NAN" : "nan")
                                                     : (upper ? "INF" : "inf"));
    jstr s = {strlen(buf), buf, NULL, T};
    pad_put(b, &s, width, strchr(flags, '-') != NULL);
}

jstr *jb_percent(struct jrender *r, const jstr *fmt, jv args, int escape) {
    jv *av = &args;
    size_t an = 1, ai = 0;
    int is_map = args.k == JK_DICT || args.k == JK_LIST;
    if (args.k == JK_TUPLE) {
        av = args.u.l->v;
        an = args.u.l->n;
    }
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    const char *s = fmt->s;
    size_t n = fmt->len, run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%')
            continue;
        jsb_putjs_range(&b, fmt, run, i - run);
        size_t j = i + 1;
        jv val = JV_ABSENT;
        int from_map = 0;
        if (j < n && s[j] == '(') {
            size_t depth = 1, k = j + 1;
            while (k < n && depth) {
                if (s[k] == '(')
                    depth++;
                else if (s[k] == ')')
                    depth--;
                k++;
            }
            if (depth)
                jr_fail(r, "incomplete format key");
            if (args.k != JK_DICT)
                jr_fail(r, "format requires a mapping");
            jv *v = jd_get(args.u.d, jv_str(js_new(&r->a, s + j + 1, k - j - 2, T)));
            if (!v)
                jr_fail(r, "KeyError: '%.*s'", (int)(k - j - 2), s + j + 1);
            val = *v;
            from_map = 1;
            j = k;
        }
        char flags[8] = "";
        size_t nf = 0;
        while (j < n && strchr("-+ #0", s[j]) && s[j]) {
            if (nf < sizeof flags - 1)
                flags[nf++] = s[j];
            j++;
        }
        flags[nf] = 0;
        int64_t width = -1, prec = -1;
        if (j < n && s[j] == '*') {
            if (ai >= an || av[ai].k != JK_INT)
                jr_fail(r, "* wants int");
            width = av[ai++].u.i;
            j++;
        } else
            while (j < n && s[j] >= '0' && s[j] <= '9' && width < 100000)
                width = (width < 0 ? 0 : width) * 10 + (s[j++] - '0');
        if (j < n && s[j] == '.') {
            j++;
            prec = 0;
            if (j < n && s[j] == '*') {
                if (ai >= an || av[ai].k != JK_INT)
                    jr_fail(r, "* wants int");
                prec = av[ai++].u.i;
                j++;
            } else
                while (j < n && s[j] >= '0' && s[j] <= '9' && prec < 100000)
                    prec = prec * 10 + (s[j++] - '0');
        }
        while (j < n && (s[j] == 'h' || s[j] == 'l' || s[j] == 'L'))
            j++;
        if (j >= n)
            jr_fail(r, "incomplete format");
        char conv = s[j];
        run = j + 1;
        i = j;
        if (conv == '%') {
            jsb_putc(&b, '%', js_org(fmt, j));
            continue;
        }
        if (!from_map) {
            if (ai >= an)
                jr_fail(r, "not enough arguments for format string");
            val = av[ai++];
        }
        if (width > 100000 || prec > 100000)
            jr_fail(r, "width or precision too big");
        int left = strchr(flags, '-') != NULL;
        char cf[32], out[400];
        switch (conv) {
        case 's':
        case 'r':
        case 'a': {
            jstr *t = conv == 's' ? jv_to_str(r, val) : jv_to_repr(r, val);
            if (escape && !(val.k == JK_STR && val.safe)) /* Markup % x escapes x */
                t = jstr_escape_html(r, t);
            if (prec >= 0) {
                size_t cnt;
                size_t *o = jstr_offsets(r, t, &cnt);
                if ((size_t)prec < cnt)
                    t = js_sub(&r->a, t, 0, o[prec]);
            }
            pad_put(&b, t, width, left);
            break;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            int64_t v;
            if (val.k == JK_INT || val.k == JK_BOOL)
                v = val.u.i;
            else if (val.k == JK_FLOAT && (conv == 'd' || conv == 'i' || conv == 'u'))
                v = ev_int_from_float(r, trunc(val.u.f)).u.i;
            else {
                if (val.k == JK_UNDEF)
                    ev_fail_undef(r, val);
                jr_fail(r, "%%%c format: %s is required, not %s", conv,
                        conv == 'd' || conv == 'i' || conv == 'u' ? "a real number"
                                                                  : "an integer",
                        jv_type_name(val));
            }
            char c = conv == 'i' || conv == 'u' ? 'd' : conv;
            int alt = strchr(flags, '#') != NULL && c != 'd';
            char fl[8];
            size_t k = 0;
            for (const char *f = flags; *f; f++)
                if (*f != '#')
                    fl[k++] = *f;
            fl[k] = 0;
            /* the magnitude with C, the sign and Python's 0o/0x prefixes by hand */
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            char digits[80];
            if (prec >= 0)
                snprintf(cf, sizeof cf, "%%.%d%s", (int)(prec > 70 ? 70 : prec),
                         c == 'd' ? PRIu64 : c == 'o' ? PRIo64 : c == 'x' ? PRIx64 : PRIX64);
            else
                snprintf(cf, sizeof cf, "%%%s",
                         c == 'd' ? PRIu64 : c == 'o' ? PRIo64 : c == 'x' ? PRIx64 : PRIX64);
            snprintf(digits, sizeof digits, cf, mag);
            char body[120];
            snprintf(body, sizeof body, "%s%s%s",
                     v < 0 ? "-" : strchr(fl, '+') ? "+" : strchr(fl, ' ') ? " " : "",
                     alt ? (c == 'o' ? "0o" : c == 'x' ? "0x" : "0X") : "", digits);
            size_t blen = strlen(body);
            if (width > (int64_t)blen && strchr(fl, '0') && !left) {
                /* zeros go after the sign and prefix */
                size_t pre = (v < 0 || strchr(fl, '+') || strchr(fl, ' ')) + (alt ? 2 : 0);
                jsb_put(&b, body, pre, T);
                for (int64_t z = (int64_t)blen; z < width; z++)
                    jsb_putc(&b, '0', T);
                jsb_puts(&b, body + pre, T);
            } else {
                jstr bs = {blen, body, NULL, T};
                pad_put(&b, &bs, width, left);
            }
            break;
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G': {
            double f = ev_num_float(r, val, "% format");
            if (isnan(f) || isinf(f)) {
                put_nonfinite(&b, f, conv >= 'A' && conv <= 'Z', flags, width);
                break;
            }
            snprintf(cf, sizeof cf, "%%%s%s.%d%c", flags, "", (int)(prec < 0 ? 6 : prec > 300 ? 300 : prec),
                     conv);
            int len = snprintf(out, sizeof out, cf, f);
            jstr os = {len > 0 ? (size_t)len < sizeof out ? (size_t)len : sizeof out - 1 : 0, out,
                       NULL, T};
            if (width > (int64_t)os.len) {
                if (strchr(flags, '0') && !left) {
                    size_t pre = out[0] == '-' || out[0] == '+' || out[0] == ' ';
                    jsb_put(&b, out, pre, T);
                    for (int64_t z = (int64_t)os.len; z < width; z++)
                        jsb_putc(&b, '0', T);
                    jsb_put(&b, out + pre, os.len - pre, T);
                } else
                    pad_put(&b, &os, width, left);
            } else
                jsb_putjs(&b, &os);
            break;
        }
        case 'c': {
            jstr *t;
            if (val.k == JK_INT || val.k == JK_BOOL) {
                if (val.u.i < 0 || val.u.i > 0x10ffff)
                    jr_fail(r, "%%c arg not in range(0x110000)");
                char buf[4];
                t = js_new(&r->a, buf, u8_put(buf, (uint32_t)val.u.i), T);
            } else if (val.k == JK_STR && u8_count(val.u.s->s, val.u.s->len) == 1)
                t = val.u.s;
            else
                jr_fail(r, "%%c requires int or char");
            pad_put(&b, t, width, left);
            break;
        }
        default:
            jr_fail(r, "unsupported format character '%c' (0x%x) at index %zu", conv,
                    (unsigned char)conv, j);
        }
    }
    jsb_putjs_range(&b, fmt, run, n - run);
    if (ai < an && !is_map && args.k != JK_ABSENT)
        jr_fail(r, "not all arguments converted during string formatting");
    return jsb_done(&b);
}

/* ---- str.format ---- */

struct fspec {
    uint32_t fill;
    char align;     /* 0 < > ^ = */
    char sign;      /* 0 + - ' ' */
    int alt, zero, has_fill;
    int64_t width, prec;
    char group;     /* 0 , _ */
    char type;      /* 0 or the type letter */
};

static void spec_parse(struct jrender *r, const jstr *sp, struct fspec *f) {
    memset(f, 0, sizeof *f);
    f->fill = ' ';
    f->width = -1;
    f->prec = -1;
    const char *s = sp->s;
    size_t n = sp->len, i = 0;
    uint32_t c0;
    size_t k0 = n ? u8_next(s, n, 0, &c0) : 0;
    if (n > k0 && strchr("<>^=", s[k0]) && s[k0]) {
        f->fill = c0;
        f->has_fill = 1;
        f->align = s[k0];
        i = k0 + 1;
    } else if (n && strchr("<>^=", s[0]) && s[0]) {
        f->align = s[0];
        i = 1;
    }
    if (i < n && (s[i] == '+' || s[i] == '-' || s[i] == ' '))
        f->sign = s[i++];
    if (i < n && s[i] == '#') {
        f->alt = 1;
        i++;
    }
    if (i < n && s[i] == '0') {
        f->zero = 1;
        i++;
    }
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        f->width = (f->width < 0 ? 0 : f->width) * 10 + (s[i++] - '0');
        if (f->width > 100000)
            jr_fail(r, "Too many decimal digits in format string");
    }
    if (i < n && (s[i] == ',' || s[i] == '_'))
        f->group = s[i++];
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            jr_fail(r, "Format specifier missing precision");
        f->prec = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            f->prec = f->prec * 10 + (s[i++] - '0');
            if (f->prec > 100000)
                jr_fail(r, "Too many decimal digits in format string");
        }
    }
    if (i < n)
        f->type = s[i++];
    if (i < n)
        jr_fail(r, "Invalid format specifier");
}

static void spec_pad(struct jsb *b, const jstr *body, const struct fspec *f, char def_align,
                     size_t sign_len) {
    int64_t n = (int64_t)u8_count(body->s, body->len);
    char align = f->align ? f->align : f->zero ? '=' : def_align;
    uint32_t fill = f->has_fill ? f->fill : f->zero ? '0' : ' ';
    int64_t pad = f->width > n ? f->width - n : 0, left = 0;
    if (align == '>')
        left = pad;
    else if (align == '^')
        left = pad / 2;
    else if (align == '=') {
        jsb_putjs_range(b, body, 0, sign_len);
        for (int64_t i = 0; i < pad; i++)
            put_cp(b, fill, T);
        jsb_putjs_range(b, body, sign_len, body->len - sign_len);
        return;
    }
    for (int64_t i = 0; i < left; i++)
        put_cp(b, fill, T);
    jsb_putjs(b, body);
    for (int64_t i = left; i < pad; i++)
        put_cp(b, fill, T);
}

/* digits with a separator every `every` (3: thousands; 4 for b, o, x) */
static void group_digits(char *buf, size_t cap, const char *digits, char sep, size_t every) {
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % every == 0)
            buf[o++] = sep;
        buf[o++] = digits[i];
    }
    buf[o] = 0;
}

static void format_value(struct jrender *r, struct jsb *b, jv v, const jstr *spec) {
    if (!spec->len && !(v.k == JK_FLOAT)) {
        jv_put_str(r, b, v);
        return;
    }
    struct fspec f;
    spec_parse(r, spec, &f);
    if (v.k == JK_STR) {
        if (f.type && f.type != 's')
            jr_fail(r, "Unknown format code '%c' for object of type 'str'", f.type);
        if (f.sign)
            jr_fail(r, "Sign not allowed in string format specifier");
        if (f.align == '=')
            jr_fail(r, "'=' alignment not allowed in string format specifier");
        const jstr *s = v.u.s;
        if (f.prec >= 0) {
            size_t cnt;
            size_t *o = jstr_offsets(r, s, &cnt);
            if ((size_t)f.prec < cnt)
                s = js_sub(&r->a, s, 0, o[f.prec]);
        }
        spec_pad(b, s, &f, '<', 0);
        return;
    }
    if (v.k == JK_INT || v.k == JK_BOOL ||
        (v.k == JK_FLOAT && f.type && strchr("bcdoxXn", f.type))) {
        if (v.k == JK_FLOAT)
            jr_fail(r, "Unknown format code '%c' for object of type 'float'", f.type);
        if (f.type && strchr("eEfFgG%", f.type)) {
            v = jv_float((double)v.u.i);
            goto as_float;
        }
        if (f.prec >= 0)
            jr_fail(r, "Precision not allowed in integer format specifier");
        int64_t x = v.u.i;
        uint64_t mag = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
        char digits[80], grouped[120], body[160];
        char t = f.type ? f.type : 'd';
        if (t == 'c') {
            if (x < 0 || x > 0x10ffff)
                jr_fail(r, "%%c arg not in range(0x110000)");
            char cb[4];
            jstr cs = {u8_put(cb, (uint32_t)x), cb, NULL, T};
            spec_pad(b, &cs, &f, '<', 0);
            return;
        }
        if (t == 'b') {
            size_t k = 0;
            char tmp[70];
            do {
                tmp[k++] = (char)('0' + (mag & 1));
                mag >>= 1;
            } while (mag);
            for (size_t i = 0; i < k; i++)
                digits[i] = tmp[k - 1 - i];
            digits[k] = 0;
        } else if (t == 'd' || t == 'n')
            snprintf(digits, sizeof digits, "%" PRIu64, mag);
        else if (t == 'o')
            snprintf(digits, sizeof digits, "%" PRIo64, mag);
        else if (t == 'x')
            snprintf(digits, sizeof digits, "%" PRIx64, mag);
        else if (t == 'X')
            snprintf(digits, sizeof digits, "%" PRIX64, mag);
        else
            jr_fail(r, "Unknown format code '%c' for object of type 'int'", t);
        if (f.group && f.group == ',' && strchr("box", t | 0x20))
            jr_fail(r, "Cannot specify ',' with '%c'.", t);
        if (f.group)
            group_digits(grouped, sizeof grouped, digits, f.group,
                         strchr("box", t | 0x20) ? 4 : 3);
        else
            snprintf(grouped, sizeof grouped, "%s", digits);
        const char *sgn = x < 0 ? "-" : f.sign == '+' ? "+" : f.sign == ' ' ? " " : "";
        const char *pre = f.alt ? (t == 'b' ? "0b" : t == 'o' ? "0o" : t == 'x' ? "0x"
                                   : t == 'X' ? "0X" : "") : "";
        snprintf(body, sizeof body, "%s%s%s", sgn, pre, grouped);
        jstr bs = {strlen(body), body, NULL, T};
        spec_pad(b, &bs, &f, '>', strlen(sgn) + strlen(pre));
        return;
    }
    if (v.k == JK_FLOAT) {
    as_float:;
        double x = v.u.f;
        char t = f.type, body[1100], num[400];
        if (t && !strchr("eEfFgG%n", t))
            jr_fail(r, "Unknown format code '%c' for object of type 'float'", t);
        const char *sgn = signbit(x) && !isnan(x) ? "-" : f.sign == '+' ? "+"
                          : f.sign == ' ' ? " " : "";
        double ax = fabs(x);
        if (isnan(x) || isinf(x))
            snprintf(num, sizeof num, "%s", isnan(x) ? (t && t <= 'Z' ? "NAN" : "nan")
                                                     : (t && t <= 'Z' ? "INF" : "inf"));
        else if (!t && f.prec < 0)
            jv_fmt_float(num, sizeof num, ax);
        else if (!t) { /* like g, but a fixed-point result keeps a decimal digit */
            int p = f.prec == 0 ? 1 : (int)(f.prec > 300 ? 300 : f.prec);
            snprintf(num, sizeof num, "%.*g", p, ax);
            if (!strchr(num, '.') && !strchr(num, 'e') && !strchr(num, 'n'))
                strcat(num, ".0");
        } else if (t == '%') {
            snprintf(num, sizeof num, f.alt ? "%#.*f%%" : "%.*f%%",
                     (int)(f.prec < 0 ? 6 : f.prec > 300 ? 300 : f.prec), ax * 100);
        } else {
            char cf[16];
            snprintf(cf, sizeof cf, "%%%s.*%c", f.alt ? "#" : "", t == 'n' ? 'g' : t);
            snprintf(num, sizeof num, cf, (int)(f.prec < 0 ? 6 : f.prec > 300 ? 300 : f.prec),
                     ax);
        }
        if (f.group) {
            char *dot = num;
            while (*dot >= '0' && *dot <= '9')
                dot++;
            char ip[400], g[600];
            size_t il = (size_t)(dot - num);
            memcpy(ip, num, il);
            ip[il] = 0;
            group_digits(g, sizeof g, ip, f.group, 3);
            snprintf(body, sizeof body, "%s%s%s", sgn, g, dot);
        } else
            snprintf(body, sizeof body, "%s%s", sgn, num);
        jstr bs = {strlen(body), body, NULL, T};
        spec_pad(b, &bs, &f, '>', strlen(sgn));
        return;
    }
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "unsupported format string passed to %s.__format__", jv_type_name(v));
}

/* Looks up a field: NAME or INDEX, then .attr and [key] parts. */
static jv format_field(struct jrender *r, const char *s, size_t n, struct jargv *a,
                       size_t *auto_idx, int *mode) {
    size_t i = 0;
    while (i < n && s[i] != '.' && s[i] != '[')
        i++;
    jv v;
    if (i == 0) {
        if (*mode == 2)
            jr_fail(r, "cannot switch from manual field specification to automatic field "
                       "numbering");
        *mode = 1;
        size_t k = (*auto_idx)++;
        if (k >= a->n_pos)
            jr_fail(r, "Replacement index %zu out of range for positional args tuple", k);
        v = a->pos[k];
    } else {
        int digits = 1;
        for (size_t k = 0; k < i; k++)
            digits &= s[k] >= '0' && s[k] <= '9';
        if (digits) {
            if (*mode == 1)
                jr_fail(r, "cannot switch from automatic field numbering to manual field "
                           "specification");
            *mode = 2;
            size_t k = 0;
            for (size_t d = 0; d < i && k < 1000000; d++)
                k = k * 10 + (size_t)(s[d] - '0');
            if (k >= a->n_pos)
                jr_fail(r, "Replacement index %zu out of range for positional args tuple", k);
            v = a->pos[k];
        } else {
            size_t k = 0;
            while (k < a->n_kw && !(a->kw_name[k]->len == i && !memcmp(a->kw_name[k]->s, s, i)))
                k++;
            if (k == a->n_kw)
                jr_fail(r, "KeyError: '%.*s'", (int)i, s);
            v = a->kw[k];
        }
    }
    while (i < n) {
        if (s[i] == '.') {
            size_t j = ++i;
            while (j < n && s[j] != '.' && s[j] != '[')
                j++;
            if (j == i)
                jr_fail(r, "Empty attribute in format string");
            v = ev_getattr(r, v, js_new(&r->a, s + i, j - i, T));
            i = j;
        } else if (s[i] == '[') {
            size_t j = ++i;
            while (j < n && s[j] != ']')
                j++;
            if (j >= n)
                jr_fail(r, "Missing ']' in format string");
            int digits = j > i;
            int64_t idx = 0;
            for (size_t k = i; k < j; k++) {
                digits &= s[k] >= '0' && s[k] <= '9';
                if (digits && idx < INT32_MAX)
                    idx = idx * 10 + (s[k] - '0');
            }
            v = ev_getitem(r, v, digits ? jv_int(idx) : jv_str(js_new(&r->a, s + i, j - i, T)));
            i = j + 1;
        } else
            jr_fail(r, "Only '.' or '[' may follow ']' in format field specifier");
    }
    return v;
}

jstr *jstr_format(struct jrender *r, const jstr *fmt, struct jargv *a, int depth) {
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    const char *s = fmt->s;
    size_t n = fmt->len, run = 0, auto_idx = 0;
    int mode = 0;
    if (depth > 2)
        jr_fail(r, "Max string recursion exceeded");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '}') {
            if (i + 1 < n && s[i + 1] == '}') {
                jsb_putjs_range(&b, fmt, run, i + 1 - run);
                run = i + 2;
                i++;
                continue;
            }
            jr_fail(r, "Single '}' encountered in format string");
        }
        if (s[i] != '{')
            continue;
        if (i + 1 < n && s[i + 1] == '{') {
            jsb_putjs_range(&b, fmt, run, i + 1 - run);
            run = i + 2;
            i++;
            continue;
        }
        jsb_putjs_range(&b, fmt, run, i - run);
        size_t j = i + 1, level = 1, colon = 0, bang = 0;
        for (; j < n; j++) {
            if (s[j] == '{')
                level++;
            else if (s[j] == '}' && !--level)
                break;
            else if (level == 1 && s[j] == ':' && !colon)
                colon = j;
            else if (level == 1 && s[j] == '!' && !colon && !bang)
                bang = j;
        }
        if (j >= n)
            jr_fail(r, "expected '}' before end of string");
        size_t name_end = bang ? bang : colon ? colon : j;
        jv v = format_field(r, s + i + 1, name_end - i - 1, a, &auto_idx, &mode);
        if (bang) {
            char c = bang + 1 < n ? s[bang + 1] : 0;
            if (bang + 2 != (colon ? colon : j))
                jr_fail(r, "expected ':' after conversion specifier");
            if (c == 'r' || c == 'a')
                v = jv_str(jv_to_repr(r, v));
            else if (c == 's')
                v = jv_str(jv_to_str(r, v));
            else
                jr_fail(r, "Unknown conversion specifier %c", c);
        }
        jstr *spec = colon ? js_sub(&r->a, fmt, colon + 1, j - colon - 1) : jstr_empty(r);
        if (memchr(spec->s, '{', spec->len)) { /* nested fields in the spec */
            struct jargv sub = *a;
            spec = jstr_format(r, spec, &sub, depth + 1);
        }
        format_value(r, &b, v, spec);
        run = j + 1;
        i = j;
    }
    jsb_putjs_range(&b, fmt, run, n - run);
    return jsb_done(&b);
}

/* ---- strftime ---- */

jstr *jstr_strftime(struct jrender *r, const jstr *fmt) {
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    const char *s = fmt->s;
    size_t n = fmt->len;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%' || i + 1 >= n) {
            jsb_putc(&b, s[i], T);
            continue;
        }
        size_t j = i + 1;
        while (j < n && strchr("-_0^#", s[j]) && s[j])
            j++;
        while (j < n && s[j] >= '0' && s[j] <= '9' && j - i < 6)
            j++;
        if (j < n && (s[j] == 'E' || s[j] == 'O'))
            j++;
        if (j >= n) {
            jsb_put(&b, s + i, n - i, T);
            break;
        }
        char c = s[j];
        if (c == 'f')
            jsb_puts(&b, "000000", T); /* datetime's microseconds: now has none */
        else if (c == 'z' || c == 'Z')
            ; /* a naive datetime: jstr_empty */
        else if (c == '\0') {
            jsb_put(&b, s + i, j - i + 1, T);
        } else {
            char d[16], out[256];
            size_t dl = j - i + 1;
            memcpy(d, s + i, dl);
            d[dl] = 0;
            size_t len = strftime(out, sizeof out, d, &r->now);
            jsb_put(&b, out, len, T);
        }
        i = j;
    }
    return jsb_done(&b);
}

