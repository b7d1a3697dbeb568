/* src/jinja_builtin.c — what templates call: jinja2's filters and tests, Python's str, dict
 * and list methods (the immutable sandbox's view: list.append, dict.update... are unsafe),
 * the globals transformers provides (range, namespace, dict, cycler, joiner,
 * raise_exception, strftime_now), Python's % formatting and str.format, markupsafe's escape.
 * Semantics follow jinja2 3.1 / Python 3 (filters.py, tests.py, sandbox.py); arguments bind
 * like Python's (positional, keyword, defaults) with Python's error words. Any thread. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "jinja_impl.h"

#define T JINJA_ORIGIN_TEMPLATE

/* ---- argument binding ---- */

/* Binds a's arguments to names[0..n) (the parameters after the value): out[i] is the argument
 * or JV_ABSENT. Fails like Python on too many, unknown or repeated arguments. */
static void bind_args(struct jrender *r, const char *fname, struct jargv *a,
                      const char *const *names, size_t n, jv *out) {
    if (a->n_pos > n)
        jr_fail(r, "%s() takes at most %zu argument%s (%zu given)", fname, n, n == 1 ? "" : "s",
                a->n_pos);
    for (size_t i = 0; i < n; i++)
        out[i] = i < a->n_pos ? a->pos[i] : JV_ABSENT;
    for (size_t k = 0; k < a->n_kw; k++) {
        size_t i = 0;
        while (i < n && !js_eqc(a->kw_name[k], names[i]))
            i++;
        if (i == n)
            jr_fail(r, "%s() got an unexpected keyword argument '%s'", fname, a->kw_name[k]->s);
        if (out[i].k != JK_ABSENT)
            jr_fail(r, "%s() got multiple values for argument '%s'", fname, names[i]);
        out[i] = a->kw[k];
    }
}

static void no_args(struct jrender *r, const char *fname, struct jargv *a) {
    if (a->n_pos || a->n_kw)
        jr_fail(r, "%s() takes no arguments (%zu given)", fname, a->n_pos + a->n_kw);
}

static jv arg_or(jv v, jv def) {
    return v.k == JK_ABSENT ? def : v;
}

static int64_t arg_int(struct jrender *r, jv v, int64_t def, const char *what) {
    if (v.k == JK_ABSENT || v.k == JK_NONE)
        return def;
    if (v.k == JK_INT || v.k == JK_BOOL)
        return v.u.i;
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "'%s' object cannot be interpreted as an integer (%s)", jv_type_name(v), what);
}

static const jstr *arg_str(struct jrender *r, jv v, const char *what) {
    if (v.k == JK_STR)
        return v.u.s;
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "%s must be str, not %s", what, jv_type_name(v));
}

static jv str_v(jstr *s) {
    return jv_str(s);
}

static jstr *empty(struct jrender *r) {
    return js_new(&r->a, "", 0, T);
}

/* str(x), the way filters take their value (soft_str) */
static jstr *soft_str(struct jrender *r, jv x) {
    return jv_to_str(r, x);
}

/* ---- characters ---- */

/* character i's byte offsets of s: offs[0..n] (offs[n] = len) */
static size_t *char_offsets(struct jrender *r, const jstr *s, size_t *n) {
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

static uint32_t cp_at(const jstr *s, size_t off, size_t *len) {
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

enum { CASE_LOWER, CASE_UPPER, CASE_TITLE, CASE_CAPITALIZE, CASE_SWAP, CASE_TITLE_FILTER };

static jv str_case(struct jrender *r, jv x, int how) {
    const jstr *s = x.k == JK_STR ? x.u.s : soft_str(r, x);
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    int prev_cased = 0, first = 1, at_start = 1;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = cp_at(s, i, &k), o = c;
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
    return str_case(r, jv_str((jstr *)s), CASE_LOWER).u.s;
}

/* ---- markupsafe ---- */

static jstr *html_escape(struct jrender *r, const jstr *s) {
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
    jv o = jv_str(html_escape(r, soft_str(r, v)));
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
static jv str_strip(struct jrender *r, jv x, const jstr *chars, int which) {
    const jstr *s = x.u.s;
    size_t a = 0, b = s->len;
    if (which & 1)
        while (a < b) {
            size_t k;
            uint32_t c = cp_at(s, a, &k);
            if (chars ? !in_chars(chars, c) : !u_isspace(c))
                break;
            a += k;
        }
    if (which & 2) {
        size_t end = a; /* scan forward: the end of the last character to keep */
        for (size_t i = a; i < b;) {
            size_t k;
            uint32_t c = cp_at(s, i, &k);
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

static const jstr *strip_chars_arg(struct jrender *r, jv v) {
    if (v.k == JK_ABSENT || v.k == JK_NONE)
        return NULL;
    if (v.k != JK_STR)
        jr_fail(r, "strip arg must be None or str");
    return v.u.s;
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
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

static const char *rfind_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn > hn)
        return NULL;
    for (size_t i = hn - nn + 1; i-- > 0;)
        if (!memcmp(h + i, n, nn))
            return h + i;
    return NULL;
}

static jv str_replace(struct jrender *r, const jstr *s, const jstr *old, const jstr *new,
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
            cp_at(s, i, &k);
            jsb_putjs_range(&b, s, i, k);
            i += k;
        }
        return jv_str(jsb_done(&b));
    }
    size_t i = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
        const char *p = find_bytes(s->s + i, s->len - i, old->s, old->len);
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
static jv str_split(struct jrender *r, const jstr *s, jv sepv, int64_t maxsplit, int right) {
    struct jlist *l = jl_new(&r->a, 0);
    if (sepv.k == JK_ABSENT || sepv.k == JK_NONE) {
        /* runs of whitespace; the ends stripped */
        size_t n;
        size_t *o = char_offsets(r, s, &n);
        uint8_t *ws = ja_raw(&r->a, n + 1);
        for (size_t i = 0; i < n; i++) {
            size_t k;
            ws[i] = (uint8_t)u_isspace(cp_at(s, o[i], &k));
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
                    jl_push(&r->a, l, str_v(js_sub(&r->a, s, o[i], o[e] - o[i])));
                    break;
                }
                size_t j = i;
                while (j < n && !ws[j])
                    j++;
                jl_push(&r->a, l, str_v(js_sub(&r->a, s, o[i], o[j] - o[i])));
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
                    jl_push(&r->a, rev, str_v(js_sub(&r->a, s, 0, o[i])));
                    break;
                }
                size_t j = i;
                while (j > 0 && !ws[j - 1])
                    j--;
                jl_push(&r->a, rev, str_v(js_sub(&r->a, s, o[j], o[i] - o[j])));
                splits++;
                i = j;
            }
            for (size_t k = rev->n; k-- > 0;)
                jl_push(&r->a, l, rev->v[k]);
        }
        return jv_list(l);
    }
    const jstr *sep = arg_str(r, sepv, "separator");
    if (!sep->len)
        jr_fail(r, "empty separator");
    if (!right) {
        size_t i = 0;
        int64_t splits = 0;
        for (;;) {
            const char *p = maxsplit >= 0 && splits >= maxsplit
                                ? NULL
                                : find_bytes(s->s + i, s->len - i, sep->s, sep->len);
            if (!p) {
                jl_push(&r->a, l, str_v(js_sub(&r->a, s, i, s->len - i)));
                break;
            }
            size_t at = (size_t)(p - s->s);
            jl_push(&r->a, l, str_v(js_sub(&r->a, s, i, at - i)));
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
                            : rfind_bytes(s->s, e, sep->s, sep->len);
        if (!p) {
            jl_push(&r->a, rev, str_v(js_sub(&r->a, s, 0, e)));
            break;
        }
        size_t at = (size_t)(p - s->s);
        jl_push(&r->a, rev, str_v(js_sub(&r->a, s, at + sep->len, e - at - sep->len)));
        e = at;
        splits++;
        jr_step(r, 1);
    }
    for (size_t k = rev->n; k-- > 0;)
        jl_push(&r->a, l, rev->v[k]);
    return jv_list(l);
}

static jv str_splitlines(struct jrender *r, const jstr *s, int keepends) {
    struct jlist *l = jl_new(&r->a, 0);
    size_t i = 0, start = 0;
    while (i < s->len) {
        size_t k;
        uint32_t c = cp_at(s, i, &k);
        if (!u_islinebreak(c)) {
            i += k;
            continue;
        }
        size_t eol = i + k;
        if (c == '\r' && eol < s->len && s->s[eol] == '\n')
            eol++;
        jl_push(&r->a, l, str_v(js_sub(&r->a, s, start, (keepends ? eol : i) - start)));
        start = i = eol;
    }
    if (start < s->len)
        jl_push(&r->a, l, str_v(js_sub(&r->a, s, start, s->len - start)));
    return jv_list(l);
}

/* Byte offsets [*a, *b) of the characters [start, end) (Python slice rules). */
static void str_range(struct jrender *r, const jstr *s, jv start, jv end, size_t *a,
                      size_t *b) {
    *a = 0;
    *b = s->len;
    if ((start.k == JK_ABSENT || start.k == JK_NONE) && (end.k == JK_ABSENT || end.k == JK_NONE))
        return;
    size_t n;
    size_t *o = char_offsets(r, s, &n);
    int64_t x = arg_int(r, start, 0, "start"), y = arg_int(r, end, (int64_t)n, "end");
    if (x < 0)
        x = x + (int64_t)n < 0 ? 0 : x + (int64_t)n;
    if (y < 0)
        y = y + (int64_t)n < 0 ? 0 : y + (int64_t)n;
    if (x > (int64_t)n)
        x = (int64_t)n + 1; /* nothing matches (not even an empty string) */
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

static int str_fixes(struct jrender *r, const jstr *s, jv prefix, jv start, jv end, int ends,
                     const char *fname) {
    size_t a, b;
    str_range(r, s, start, end, &a, &b);
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
static int64_t str_find(struct jrender *r, const jstr *s, const jstr *sub, jv start, jv end,
                        int right) {
    size_t a, b;
    str_range(r, s, start, end, &a, &b);
    if (a > b)
        return -1;
    const char *p = right ? rfind_bytes(s->s + a, b - a, sub->s, sub->len)
                          : find_bytes(s->s + a, b - a, sub->s, sub->len);
    if (!p)
        return -1;
    return (int64_t)u8_count(s->s, (size_t)(p - s->s));
}

static jv str_pad(struct jrender *r, jv x, int64_t width, jv fill, int how /* 0 l 1 r 2 c */) {
    const jstr *s = x.u.s;
    uint32_t fc = ' ';
    if (fill.k != JK_ABSENT) {
        const jstr *f = arg_str(r, fill, "The fill character");
        if (u8_count(f->s, f->len) != 1)
            jr_fail(r, "The fill character must be exactly one character long");
        size_t k;
        fc = cp_at(f, 0, &k);
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

static jv str_join(struct jrender *r, const jstr *sep, jv iterable, int require_str) {
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
static int parse_int(const jstr *s, int base, int64_t *out) {
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
static int parse_float(const jstr *s, double *out) {
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

static double to_float(struct jrender *r, jv v, const char *what) {
    if (v.k == JK_FLOAT)
        return v.u.f;
    if (v.k == JK_INT || v.k == JK_BOOL)
        return (double)v.u.i;
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "must be real number, not %s (%s)", jv_type_name(v), what);
}

static jv num_from_float(struct jrender *r, double f) {
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
                t = html_escape(r, t);
            if (prec >= 0) {
                size_t cnt;
                size_t *o = char_offsets(r, t, &cnt);
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
                v = num_from_float(r, trunc(val.u.f)).u.i;
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
            double f = to_float(r, val, "% format");
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
            size_t *o = char_offsets(r, s, &cnt);
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

static jstr *str_format(struct jrender *r, const jstr *fmt, struct jargv *a, int depth) {
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
        jstr *spec = colon ? js_sub(&r->a, fmt, colon + 1, j - colon - 1) : empty(r);
        if (memchr(spec->s, '{', spec->len)) { /* nested fields in the spec */
            struct jargv sub = *a;
            spec = str_format(r, spec, &sub, depth + 1);
        }
        format_value(r, &b, v, spec);
        run = j + 1;
        i = j;
    }
    jsb_putjs_range(&b, fmt, run, n - run);
    return jsb_done(&b);
}

/* ---- strftime ---- */

static jstr *do_strftime(struct jrender *r, const jstr *fmt) {
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
            ; /* a naive datetime: empty */
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

/* ---- attribute getters of filters (make_attrgetter) ---- */

struct attrpath {
    jv *parts;
    size_t n;
};

static void attrpath_make(struct jrender *r, jv attribute, struct attrpath *p) {
    p->n = 0;
    p->parts = NULL;
    if (attribute.k == JK_ABSENT || attribute.k == JK_NONE)
        return;
    if (attribute.k != JK_STR) {
        p->parts = ja_alloc(&r->a, sizeof(jv));
        p->parts[0] = attribute;
        p->n = 1;
        return;
    }
    const jstr *s = attribute.u.s;
    size_t cnt = 1;
    for (size_t i = 0; i < s->len; i++)
        cnt += s->s[i] == '.';
    p->parts = ja_alloc(&r->a, cnt * sizeof(jv));
    size_t start = 0;
    for (size_t i = 0; i <= s->len; i++) {
        if (i < s->len && s->s[i] != '.')
            continue;
        int digits = i > start;
        int64_t v = 0;
        for (size_t k = start; k < i; k++) {
            digits &= s->s[k] >= '0' && s->s[k] <= '9';
            if (digits && v < INT32_MAX)
                v = v * 10 + (s->s[k] - '0');
        }
        p->parts[p->n++] = digits ? jv_int(v) : jv_str(js_sub(&r->a, s, start, i - start));
        start = i + 1;
    }
}

static jv attrpath_get(struct jrender *r, const struct attrpath *p, jv item, jv def) {
    for (size_t i = 0; i < p->n; i++) {
        item = ev_getitem(r, item, p->parts[i]);
        if (def.k != JK_ABSENT && def.k != JK_NONE && item.k == JK_UNDEF)
            item = def;
    }
    return item;
}

static jv ignore_case(struct jrender *r, jv v) {
    if (v.k == JK_STR)
        return jv_str(jb_lower(r, v.u.s));
    return v;
}

/* ---- sorting ---- */

struct sort_ud {
    struct jrender *r;
    int reverse;
};

static int cmp_values(void *ud, jv a, jv b) {
    struct sort_ud *s = ud;
    int c = jv_cmp(s->r, a, b, "<");
    return s->reverse ? -c : c;
}

static int cmp_first(void *ud, jv a, jv b) {
    return cmp_values(ud, a.u.l->v[0], b.u.l->v[0]);
}

/* Sorts items by keys (parallel arrays); stable in both directions, as Python's sorted(). */
static void sort_by_keys(struct jrender *r, jv *items, jv *keys, size_t n, int reverse) {
    jv *pairs = ja_raw(&r->a, ja_mul(&r->a, n ? n : 1, sizeof(jv)));
    for (size_t i = 0; i < n; i++)
        pairs[i] = jv_tuple2(&r->a, keys[i], items[i]);
    struct sort_ud ud = {r, reverse};
    jv_sort(r, pairs, n, cmp_first, &ud);
    for (size_t i = 0; i < n; i++)
        items[i] = pairs[i].u.l->v[1];
}

/* ---- filters ---- */

typedef jv (*filter_fn)(struct jrender *r, jv x, struct jargv *a);

static int64_t py_len(struct jrender *r, jv x) {
    switch (x.k) {
    case JK_STR:
        return (int64_t)u8_count(x.u.s->s, x.u.s->len);
    case JK_LIST:
    case JK_TUPLE:
        return (int64_t)x.u.l->n;
    case JK_DICT:
        return (int64_t)x.u.d->n;
    case JK_UNDEF:
        return 0;
    case JK_ITER:
        if (x.u.it->what >= IT_ITEMS)
            return (int64_t)x.u.it->n;
        break;
    case JK_LOOP:
        return (int64_t)x.u.lp->n;
    default:
        break;
    }
    jr_fail(r, "object of type '%s' has no len()", jv_type_name(x));
}

static jv f_length(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "length", a);
    return jv_int(py_len(r, x));
}

static jv f_abs(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "abs", a);
    if (x.k == JK_FLOAT)
        return jv_float(fabs(x.u.f));
    if (x.k == JK_INT || x.k == JK_BOOL) {
        if (x.u.i == INT64_MIN)
            jr_fail(r, "integer result too large");
        return jv_int(x.u.i < 0 ? -x.u.i : x.u.i);
    }
    jr_fail(r, "bad operand type for abs(): '%s'", jv_type_name(x));
}

static jv f_attr(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"name"};
    jv v[1];
    bind_args(r, "attr", a, names, 1, v);
    jstr *name = (jstr *)arg_str(r, v[0], "attribute name");
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if (x.k == JK_NS || x.k == JK_LOOP || x.k == JK_CYCLER)
        return ev_getattr(r, x, name);
    jv m = jb_method(r, x, name);
    return m.k == JK_ABSENT ? jv_undef_attr(&r->a, UNDEF_ATTR, (uint8_t)x.k, jv_str(name)) : m;
}

static jv f_batch(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"linecount", "fill_with"};
    jv v[2];
    bind_args(r, "batch", a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "do_batch() missing 1 required positional argument: 'linecount'");
    int64_t count = arg_int(r, v[0], 0, "linecount");
    jv fill = arg_or(v[1], JV_NONE);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    struct jlist *out = jl_new(&r->a, 0), *tmp = jl_new(&r->a, 0);
    for (size_t i = 0; i < n; i++) {
        if ((int64_t)tmp->n == count) {
            jl_push(&r->a, out, jv_list(tmp));
            tmp = jl_new(&r->a, 0);
        }
        jl_push(&r->a, tmp, items[i]);
    }
    if (tmp->n) {
        if (fill.k != JK_NONE)
            while ((int64_t)tmp->n < count) {
                jr_step(r, 1);
                jl_push(&r->a, tmp, fill);
            }
        jl_push(&r->a, out, jv_list(tmp));
    }
    return jv_iter_new(&r->a, out->v, out->n, IT_GENERATOR);
}

static jv f_capitalize(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "capitalize", a);
    return str_case(r, x.k == JK_STR ? x : jv_str(soft_str(r, x)), CASE_CAPITALIZE);
}

static jv f_center(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"width"};
    jv v[1];
    bind_args(r, "center", a, names, 1, v);
    jv s = x.k == JK_STR ? x : jv_str(soft_str(r, x));
    return str_pad(r, s, arg_int(r, v[0], 80, "width"), JV_ABSENT, 2);
}

static jv f_default(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"default_value", "boolean"};
    jv v[2];
    bind_args(r, "default", a, names, 2, v);
    jv def = v[0].k == JK_ABSENT ? jv_str(empty(r)) : v[0];
    if (x.k == JK_UNDEF || (v[1].k != JK_ABSENT && jv_truth(v[1]) && !jv_truth(x)))
        return def;
    return x;
}

static jv f_dictsort(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"case_sensitive", "by", "reverse"};
    jv v[3];
    bind_args(r, "dictsort", a, names, 3, v);
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if (x.k != JK_DICT)
        jr_fail(r, "'%s' object has no attribute 'items'", jv_type_name(x));
    int pos = 0;
    if (v[1].k != JK_ABSENT) {
        if (v[1].k == JK_STR && js_eqc(v[1].u.s, "value"))
            pos = 1;
        else if (!(v[1].k == JK_STR && js_eqc(v[1].u.s, "key")))
            jr_fail(r, "You can only sort by either \"key\" or \"value\"");
    }
    const struct jdict *d = x.u.d;
    jv *items = ja_raw(&r->a, ja_mul(&r->a, d->n + 1, sizeof(jv)));
    jv *keys = ja_raw(&r->a, ja_mul(&r->a, d->n + 1, sizeof(jv)));
    for (size_t i = 0; i < d->n; i++) {
        items[i] = jv_tuple2(&r->a, d->key[i], d->val[i]);
        jv k = pos ? d->val[i] : d->key[i];
        keys[i] = jv_truth(arg_or(v[0], JV_FALSE)) ? k : ignore_case(r, k);
    }
    sort_by_keys(r, items, keys, d->n, jv_truth(arg_or(v[2], JV_FALSE)));
    struct jlist *l = jl_new(&r->a, 0);
    l->v = items;
    l->n = l->cap = d->n;
    return jv_list(l);
}

static jv f_escape(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "escape", a);
    return jb_escape(r, x);
}

static jv f_forceescape(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "forceescape", a);
    x.safe = 0;
    return jb_escape(r, x);
}

static jv iterate_first(struct jrender *r, jv x, int *found) {
    *found = 0;
    switch (x.k) {
    case JK_UNDEF:
        return JV_UNDEF;
    case JK_STR:
        if (!x.u.s->len)
            return JV_UNDEF;
        *found = 1;
        {
            size_t k;
            cp_at(x.u.s, 0, &k);
            return jv_str(js_sub(&r->a, x.u.s, 0, k));
        }
    case JK_LIST:
    case JK_TUPLE:
        if (!x.u.l->n)
            return JV_UNDEF;
        *found = 1;
        return x.u.l->v[0];
    case JK_DICT:
        if (!x.u.d->n)
            return JV_UNDEF;
        *found = 1;
        return x.u.d->key[0];
    case JK_ITER: {
        struct jiter *it = x.u.it;
        size_t pos = it->what >= IT_ITEMS ? 0 : it->pos;
        if (pos >= it->n)
            return JV_UNDEF;
        *found = 1;
        if (it->what < IT_ITEMS)
            it->pos++;
        return it->v[pos];
    }
    default:
        jr_fail(r, "'%s' object is not iterable", jv_type_name(x));
    }
}

static jv f_first(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "first", a);
    int found;
    jv v = iterate_first(r, x, &found);
    return found ? v : jv_undef_hint(&r->a, "No first item, sequence was empty.");
}

static jv f_last(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "last", a);
    switch (x.k) {
    case JK_UNDEF:
        break;
    case JK_STR:
        if (x.u.s->len) {
            size_t i = x.u.s->len - 1;
            while (i > 0 && ((unsigned char)x.u.s->s[i] & 0xc0) == 0x80 &&
                   x.u.s->len - i < 4)
                i--;
            size_t k;
            cp_at(x.u.s, i, &k);
            if (i + k != x.u.s->len) /* not one character: the last byte alone */
                i = x.u.s->len - 1, k = 1;
            return jv_str(js_sub(&r->a, x.u.s, i, k));
        }
        break;
    case JK_LIST:
    case JK_TUPLE:
        if (x.u.l->n)
            return x.u.l->v[x.u.l->n - 1];
        break;
    case JK_DICT:
        if (x.u.d->n)
            return x.u.d->key[x.u.d->n - 1];
        break;
    case JK_ITER:
        if (x.u.it->what >= IT_ITEMS) {
            if (x.u.it->n)
                return x.u.it->v[x.u.it->n - 1];
            break;
        }
        /* fall through */
    default:
        jr_fail(r, "'%s' object is not reversible", jv_type_name(x));
    }
    return jv_undef_hint(&r->a, "No last item, sequence was empty.");
}

static jv f_float(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"default"};
    jv v[1];
    bind_args(r, "float", a, names, 1, v);
    jv def = arg_or(v[0], jv_float(0.0));
    double f;
    switch (x.k) {
    case JK_FLOAT:
        return x;
    case JK_INT:
    case JK_BOOL:
        return jv_float((double)x.u.i);
    case JK_STR:
        return parse_float(x.u.s, &f) == 0 ? jv_float(f) : def;
    case JK_UNDEF:
        ev_fail_undef(r, x);
    default:
        return def;
    }
}

static jv f_format(struct jrender *r, jv x, struct jargv *a) {
    jstr *s = soft_str(r, x);
    jv args;
    if (a->n_kw) {
        struct jdict *d = jd_new(&r->a);
        for (size_t i = 0; i < a->n_kw; i++)
            jd_set(&r->a, d, jv_str(a->kw_name[i]), a->kw[i]);
        args = jv_dict(d);
    } else {
        struct jlist *l = jl_new(&r->a, a->n_pos);
        memcpy(l->v, a->pos, a->n_pos * sizeof(jv));
        l->n = a->n_pos;
        args = jv_tuple(l);
    }
    jv v = jv_str(jb_percent(r, s, args, x.k == JK_STR && x.safe));
    v.safe = x.k == JK_STR && x.safe;
    return v;
}

static jv groupby_key(struct jrender *r, const struct attrpath *p, jv item, jv def, int ci) {
    jv k = attrpath_get(r, p, item, def);
    return ci ? ignore_case(r, k) : k;
}

static jv f_groupby(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"attribute", "default", "case_sensitive"};
    jv v[3];
    bind_args(r, "groupby", a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "do_groupby() missing 1 required positional argument: 'attribute'");
    struct attrpath p;
    attrpath_make(r, v[0], &p);
    int ci = !jv_truth(arg_or(v[2], JV_FALSE));
    jv def = arg_or(v[1], JV_NONE);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    jv *keys = ja_raw(&r->a, ja_mul(&r->a, n + 1, sizeof(jv)));
    for (size_t i = 0; i < n; i++)
        keys[i] = groupby_key(r, &p, items[i], def, ci);
    sort_by_keys(r, items, keys, n, 0);
    struct jlist *out = jl_new(&r->a, 0);
    for (size_t i = 0; i < n;) {
        jv k = groupby_key(r, &p, items[i], def, ci);
        struct jlist *g = jl_new(&r->a, 0);
        size_t j = i;
        while (j < n && jv_eq(r, groupby_key(r, &p, items[j], def, ci), k, 0))
            jl_push(&r->a, g, items[j++]);
        jv grouper = ci ? attrpath_get(r, &p, items[i], def) : k;
        jl_push(&r->a, out, jv_tuple2(&r->a, grouper, jv_list(g)));
        i = j;
    }
    return jv_list(out);
}

static jv f_indent(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"width", "first", "blank"};
    jv v[3];
    bind_args(r, "indent", a, names, 3, v);
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if (x.k != JK_STR)
        jr_fail(r, "unsupported operand type(s) for +=: '%s' and 'str'", jv_type_name(x));
    jstr *ind;
    if (v[0].k == JK_STR)
        ind = v[0].u.s;
    else {
        int64_t w = arg_int(r, v[0], 4, "width");
        if (w > (int64_t)r->lim.max_output)
            jr_fail(r, "text longer than %zu bytes (the output limit)", r->lim.max_output);
        struct jsb sb;
        jsb_init(&sb, &r->a, 0);
        for (int64_t i = 0; i < w; i++)
            jsb_putc(&sb, ' ', T);
        ind = jsb_done(&sb);
    }
    /* s += "\n"; s.splitlines() */
    struct jsb sb;
    jsb_init(&sb, &r->a, r->lim.max_output);
    jsb_putjs(&sb, x.u.s);
    jsb_putc(&sb, '\n', T);
    jv lines = str_splitlines(r, jsb_done(&sb), 0);
    const struct jlist *l = lines.u.l;
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    if (jv_truth(arg_or(v[1], JV_FALSE)))
        jsb_putjs(&b, ind);
    int blank = jv_truth(arg_or(v[2], JV_FALSE));
    for (size_t i = 0; i < l->n; i++) {
        const jstr *line = l->v[i].u.s;
        if (i) {
            jsb_putc(&b, '\n', T);
            if (blank || line->len)
                jsb_putjs(&b, ind);
        }
        jsb_putjs(&b, line);
    }
    jv o = jv_str(jsb_done(&b));
    o.safe = x.safe;
    return o;
}

static jv f_int(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"default", "base"};
    jv v[2];
    bind_args(r, "int", a, names, 2, v);
    jv def = arg_or(v[0], jv_int(0));
    int64_t base = arg_int(r, v[1], 10, "base");
    switch (x.k) {
    case JK_INT:
    case JK_BOOL:
        return jv_int(x.u.i);
    case JK_FLOAT:
        if (isnan(x.u.f) || isinf(x.u.f))
            return def;
        return num_from_float(r, trunc(x.u.f));
    case JK_STR: {
        int64_t i;
        double f;
        if ((base == 0 || (base >= 2 && base <= 36)) && parse_int(x.u.s, (int)base, &i) == 0)
            return jv_int(i);
        if (parse_float(x.u.s, &f) == 0 && !isnan(f) && !isinf(f))
            return num_from_float(r, trunc(f));
        return def;
    }
    case JK_UNDEF:
        ev_fail_undef(r, x);
    default:
        return def;
    }
}

static jv f_items(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "items", a);
    if (x.k == JK_UNDEF)
        return jv_iter_new(&r->a, NULL, 0, IT_GENERATOR);
    if (x.k != JK_DICT)
        jr_fail(r, "Can only get item pairs from a mapping.");
    const struct jdict *d = x.u.d;
    jv *v = ja_raw(&r->a, ja_mul(&r->a, d->n + 1, sizeof(jv)));
    for (size_t i = 0; i < d->n; i++)
        v[i] = jv_tuple2(&r->a, d->key[i], d->val[i]);
    jr_step(r, d->n);
    return jv_iter_new(&r->a, v, d->n, IT_GENERATOR);
}

static jv f_join(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"d", "attribute"};
    jv v[2];
    bind_args(r, "join", a, names, 2, v);
    jstr *sep = v[0].k == JK_ABSENT ? empty(r) : soft_str(r, v[0]);
    if (v[1].k != JK_ABSENT && v[1].k != JK_NONE) {
        struct attrpath p;
        attrpath_make(r, v[1], &p);
        jv *items;
        size_t n;
        jv_iterate(r, x, &items, &n);
        for (size_t i = 0; i < n; i++)
            items[i] = attrpath_get(r, &p, items[i], JV_ABSENT);
        struct jlist *l = jl_new(&r->a, 0);
        l->v = items;
        l->n = l->cap = n;
        x = jv_list(l);
    }
    return str_join(r, sep, x, 0);
}

static jv f_list(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "list", a);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    struct jlist *l = jl_new(&r->a, 0);
    l->v = items;
    l->n = l->cap = n;
    return jv_list(l);
}

static jv f_lower(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "lower", a);
    return str_case(r, x.k == JK_STR ? x : jv_str(soft_str(r, x)), CASE_LOWER);
}

static jv f_upper(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "upper", a);
    return str_case(r, x.k == JK_STR ? x : jv_str(soft_str(r, x)), CASE_UPPER);
}

static jv f_title(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "title", a);
    return str_case(r, jv_str(soft_str(r, x)), CASE_TITLE_FILTER);
}

/* map(attribute=..., default=...) or map('filter', args...) */
static jv f_map(struct jrender *r, jv x, struct jargv *a) {
    if (!jv_truth(x))
        return jv_iter_new(&r->a, NULL, 0, IT_GENERATOR);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    int by_attr = 0;
    jv attribute = JV_ABSENT, def = JV_NONE;
    if (!a->n_pos)
        for (size_t k = 0; k < a->n_kw; k++)
            by_attr |= js_eqc(a->kw_name[k], "attribute");
    if (by_attr) {
        for (size_t k = 0; k < a->n_kw; k++) {
            if (js_eqc(a->kw_name[k], "attribute"))
                attribute = a->kw[k];
            else if (js_eqc(a->kw_name[k], "default"))
                def = a->kw[k];
            else
                jr_fail(r, "Unexpected keyword argument '%s'", a->kw_name[k]->s);
        }
        struct attrpath p;
        attrpath_make(r, attribute, &p);
        for (size_t i = 0; i < n; i++)
            items[i] = attrpath_get(r, &p, items[i], def);
        return jv_iter_new(&r->a, items, n, IT_GENERATOR);
    }
    if (!a->n_pos)
        jr_fail(r, "map requires a filter argument");
    const jstr *name = arg_str(r, a->pos[0], "filter name");
    int id = jb_filter_find(name->s, name->len);
    if (id < 0)
        jr_fail(r, "No filter named '%s'.", name->s);
    struct jargv rest = {a->pos + 1, a->n_pos - 1, a->kw_name, a->kw, a->n_kw};
    for (size_t i = 0; i < n; i++)
        items[i] = jb_filter(r, id, items[i], &rest);
    return jv_iter_new(&r->a, items, n, IT_GENERATOR);
}

static jv f_minmax(struct jrender *r, jv x, struct jargv *a, int want_max) {
    static const char *const names[] = {"case_sensitive", "attribute"};
    jv v[2];
    bind_args(r, want_max ? "max" : "min", a, names, 2, v);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    if (!n)
        return jv_undef_hint(&r->a, "No aggregated item, sequence was empty.");
    struct attrpath p;
    attrpath_make(r, v[1], &p);
    int ci = !jv_truth(arg_or(v[0], JV_FALSE));
    size_t best = 0;
    jv bk = attrpath_get(r, &p, items[0], JV_ABSENT);
    if (ci)
        bk = ignore_case(r, bk);
    for (size_t i = 1; i < n; i++) {
        jv k = attrpath_get(r, &p, items[i], JV_ABSENT);
        if (ci)
            k = ignore_case(r, k);
        int c = jv_cmp(r, k, bk, want_max ? ">" : "<");
        if (want_max ? c > 0 : c < 0) {
            best = i;
            bk = k;
        }
    }
    return items[best];
}

static jv f_min(struct jrender *r, jv x, struct jargv *a) {
    return f_minmax(r, x, a, 0);
}

static jv f_max(struct jrender *r, jv x, struct jargv *a) {
    return f_minmax(r, x, a, 1);
}

static jv f_pprint(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "pprint", a);
    return jv_str(jv_to_repr(r, x));
}

static jv f_replace(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"old", "new", "count"};
    jv v[3];
    bind_args(r, "replace", a, names, 3, v);
    if (v[0].k == JK_ABSENT || v[1].k == JK_ABSENT)
        jr_fail(r, "do_replace() missing required argument: '%s'",
                v[0].k == JK_ABSENT ? "old" : "new");
    return str_replace(r, soft_str(r, x), soft_str(r, v[0]), soft_str(r, v[1]),
                       arg_int(r, v[2], -1, "count"));
}

static jv f_reverse(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "reverse", a);
    if (x.k == JK_STR) {
        size_t n;
        size_t *o = char_offsets(r, x.u.s, &n);
        struct jsb b;
        jsb_init(&b, &r->a, r->lim.max_output);
        for (size_t i = n; i-- > 0;)
            jsb_putjs_range(&b, x.u.s, o[i], o[i + 1] - o[i]);
        jv v = jv_str(jsb_done(&b));
        v.safe = x.safe;
        return v;
    }
    jv *items;
    size_t n;
    int gen = x.k == JK_ITER && x.u.it->what < IT_ITEMS;
    jv_iterate(r, x, &items, &n);
    for (size_t i = 0; i < n / 2; i++) {
        jv t = items[i];
        items[i] = items[n - 1 - i];
        items[n - 1 - i] = t;
    }
    if (gen) { /* reversed() of a generator fails: jinja2 makes a list */
        struct jlist *l = jl_new(&r->a, 0);
        l->v = items;
        l->n = l->cap = n;
        return jv_list(l);
    }
    return jv_iter_new(&r->a, items, n, IT_REVERSE);
}

static jv f_round(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"precision", "method"};
    jv v[2];
    bind_args(r, "round", a, names, 2, v);
    int64_t prec = arg_int(r, v[0], 0, "precision");
    const char *method = "common";
    if (v[1].k != JK_ABSENT) {
        const jstr *m = arg_str(r, v[1], "method");
        if (!js_eqc(m, "common") && !js_eqc(m, "ceil") && !js_eqc(m, "floor"))
            jr_fail(r, "method must be common, ceil or floor");
        method = m->s;
    }
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if (x.k != JK_INT && x.k != JK_BOOL && x.k != JK_FLOAT)
        jr_fail(r, "type %s doesn't define __round__ method", jv_type_name(x));
    if (!strcmp(method, "common")) {
        if (x.k != JK_FLOAT) { /* round(int, n) stays an int */
            if (prec >= 0)
                return jv_int(x.u.i);
            double p = pow(10.0, (double)-prec);
            return num_from_float(r, nearbyint((double)x.u.i / p) * p);
        }
        double f = x.u.f;
        if (isnan(f) || isinf(f))
            return x;
        if (prec > 330)
            return x;
        if (prec >= 0) { /* correctly rounded, half to even, as Python */
            char buf[400];
            snprintf(buf, sizeof buf, "%.*f", (int)prec, f);
            return jv_float(strtod(buf, NULL));
        }
        double p = pow(10.0, (double)-prec);
        return jv_float(nearbyint(f / p) * p);
    }
    double f = x.k == JK_FLOAT ? x.u.f : (double)x.u.i, p = pow(10.0, (double)prec);
    return jv_float((method[0] == 'c' ? ceil(f * p) : floor(f * p)) / p);
}

static jv f_safe(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "safe", a);
    jv v = x.k == JK_STR ? x : jv_str(soft_str(r, x));
    v.safe = 1;
    return v;
}

/* select / reject / selectattr / rejectattr */
static jv select_reject(struct jrender *r, jv x, struct jargv *a, int reject, int attr) {
    if (!jv_truth(x))
        return jv_iter_new(&r->a, NULL, 0, IT_GENERATOR);
    struct attrpath p = {NULL, 0};
    size_t off = 0;
    if (attr) {
        if (!a->n_pos)
            jr_fail(r, "Missing parameter for attribute name");
        attrpath_make(r, a->pos[0], &p);
        off = 1;
    }
    int id = -1;
    if (a->n_pos > off) {
        const jstr *name = arg_str(r, a->pos[off], "test name");
        id = jb_test_find(name->s, name->len);
        if (id < 0)
            jr_fail(r, "No test named '%s'.", name->s);
    }
    struct jargv rest = {a->pos + off + 1, a->n_pos > off ? a->n_pos - off - 1 : 0, a->kw_name,
                         a->kw, a->n_kw};
    jv *items;
    size_t n, k = 0;
    jv_iterate(r, x, &items, &n);
    for (size_t i = 0; i < n; i++) {
        jv v = attr ? attrpath_get(r, &p, items[i], JV_ABSENT) : items[i];
        int ok = id < 0 ? jv_truth(v) : jb_test(r, id, v, &rest);
        if (ok != reject)
            items[k++] = items[i];
    }
    return jv_iter_new(&r->a, items, k, IT_GENERATOR);
}

static jv f_select(struct jrender *r, jv x, struct jargv *a) {
    return select_reject(r, x, a, 0, 0);
}

static jv f_reject(struct jrender *r, jv x, struct jargv *a) {
    return select_reject(r, x, a, 1, 0);
}

static jv f_selectattr(struct jrender *r, jv x, struct jargv *a) {
    return select_reject(r, x, a, 0, 1);
}

static jv f_rejectattr(struct jrender *r, jv x, struct jargv *a) {
    return select_reject(r, x, a, 1, 1);
}

static jv f_slice(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"slices", "fill_with"};
    jv v[2];
    bind_args(r, "slice", a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "do_slice() missing 1 required positional argument: 'slices'");
    int64_t slices = arg_int(r, v[0], 1, "slices");
    jv fill = arg_or(v[1], JV_NONE);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    if (slices <= 0) {
        if (slices == 0)
            jr_fail(r, "integer division or modulo by zero");
        return jv_iter_new(&r->a, NULL, 0, IT_GENERATOR);
    }
    if (slices > 100000)
        jr_fail(r, "too many slices");
    int64_t per = (int64_t)n / slices, extra = (int64_t)n % slices, offset = 0;
    struct jlist *out = jl_new(&r->a, 0);
    for (int64_t s = 0; s < slices; s++) {
        int64_t start = offset + s * per;
        if (s < extra)
            offset++;
        int64_t end = offset + (s + 1) * per;
        struct jlist *l = jl_new(&r->a, 0);
        for (int64_t i = start; i < end && i < (int64_t)n; i++)
            jl_push(&r->a, l, items[i]);
        if (fill.k != JK_NONE && s >= extra)
            jl_push(&r->a, l, fill);
        jl_push(&r->a, out, jv_list(l));
        jr_step(r, 1);
    }
    return jv_iter_new(&r->a, out->v, out->n, IT_GENERATOR);
}

static jv f_sort(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"reverse", "case_sensitive", "attribute"};
    jv v[3];
    bind_args(r, "sort", a, names, 3, v);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    int ci = !jv_truth(arg_or(v[1], JV_FALSE));
    /* make_multi_attrgetter: "a,b" sorts by a list of attributes */
    struct attrpath paths[16];
    size_t np = 1;
    if (v[2].k == JK_STR) {
        const jstr *s = v[2].u.s;
        size_t start = 0;
        np = 0;
        for (size_t i = 0; i <= s->len; i++)
            if (i == s->len || s->s[i] == ',') {
                if (np == 16)
                    jr_fail(r, "too many sort attributes");
                attrpath_make(r, jv_str(js_sub(&r->a, s, start, i - start)), &paths[np++]);
                start = i + 1;
            }
    } else
        attrpath_make(r, v[2], &paths[0]);
    jv *keys = ja_raw(&r->a, ja_mul(&r->a, n + 1, sizeof(jv)));
    for (size_t i = 0; i < n; i++) {
        struct jlist *k = jl_new(&r->a, np);
        for (size_t j = 0; j < np; j++) {
            jv kv = attrpath_get(r, &paths[j], items[i], JV_ABSENT);
            k->v[k->n++] = ci ? ignore_case(r, kv) : kv;
        }
        keys[i] = jv_list(k);
    }
    sort_by_keys(r, items, keys, n, jv_truth(arg_or(v[0], JV_FALSE)));
    struct jlist *l = jl_new(&r->a, 0);
    l->v = items;
    l->n = l->cap = n;
    return jv_list(l);
}

static jv f_string(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "string", a);
    return x.k == JK_STR ? x : jv_str(soft_str(r, x));
}

static jv py_sum_add(struct jrender *r, jv acc, jv x);

static jv f_sum(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"attribute", "start"};
    jv v[2];
    bind_args(r, "sum", a, names, 2, v);
    jv acc = arg_or(v[1], jv_int(0));
    if (acc.k == JK_STR)
        jr_fail(r, "sum() can't sum strings [use ''.join(seq) instead]");
    struct attrpath p;
    attrpath_make(r, v[0], &p);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    for (size_t i = 0; i < n; i++)
        acc = py_sum_add(r, acc, p.n ? attrpath_get(r, &p, items[i], JV_ABSENT) : items[i]);
    return acc;
}

static jv f_tojson(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"ensure_ascii", "indent", "separators", "sort_keys"};
    jv v[4];
    bind_args(r, "tojson", a, names, 4, v);
    struct jjson_opts o = {0};
    o.ensure_ascii = jv_truth(arg_or(v[0], JV_FALSE));
    jv ind = arg_or(v[1], JV_NONE);
    if (ind.k == JK_STR)
        o.indent = ind.u.s;
    else if (ind.k == JK_INT || ind.k == JK_BOOL) {
        int64_t w = ind.u.i;
        if (w > 1000)
            jr_fail(r, "indent too large");
        struct jsb sb;
        jsb_init(&sb, &r->a, 0);
        for (int64_t i = 0; i < w; i++)
            jsb_putc(&sb, ' ', T);
        o.indent = jsb_done(&sb);
    } else if (ind.k != JK_NONE)
        jr_fail(r, "can't multiply sequence by non-int of type '%s'", jv_type_name(ind));
    o.item_sep = js_cstr(&r->a, o.indent ? "," : ", ", T);
    o.key_sep = js_cstr(&r->a, ": ", T);
    jv sep = arg_or(v[2], JV_NONE);
    if (sep.k != JK_NONE) {
        if (!jv_is_seq(sep) || sep.u.l->n != 2 || sep.u.l->v[0].k != JK_STR ||
            sep.u.l->v[1].k != JK_STR)
            jr_fail(r, "separators must be a (item_separator, key_separator) pair of strings");
        o.item_sep = sep.u.l->v[0].u.s;
        o.key_sep = sep.u.l->v[1].u.s;
    }
    o.sort_keys = jv_truth(arg_or(v[3], JV_FALSE));
    return jv_str(jv_to_json(r, x, &o));
}

static jv f_trim(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"chars"};
    jv v[1];
    bind_args(r, "trim", a, names, 1, v);
    jv s = x.k == JK_STR ? x : jv_str(soft_str(r, x));
    return str_strip(r, s, strip_chars_arg(r, v[0]), 3);
}

static jv f_truncate(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"length", "killwords", "end", "leeway"};
    jv v[4];
    bind_args(r, "truncate", a, names, 4, v);
    jstr *s = soft_str(r, x);
    int64_t length = arg_int(r, v[0], 255, "length");
    int killwords = jv_truth(arg_or(v[1], JV_FALSE));
    jstr *end = v[2].k == JK_ABSENT ? js_cstr(&r->a, "...", T) : soft_str(r, v[2]);
    int64_t leeway = arg_int(r, v[3], 5, "leeway");
    int64_t end_n = (int64_t)u8_count(end->s, end->len);
    if (length < end_n)
        jr_fail(r, "expected length >= %" PRId64 ", got %" PRId64, end_n, length);
    if (leeway < 0)
        jr_fail(r, "expected leeway >= 0, got %" PRId64, leeway);
    size_t n;
    size_t *o = char_offsets(r, s, &n);
    if ((int64_t)n <= length + leeway)
        return jv_str(s);
    size_t cut = o[length - end_n];
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    if (killwords)
        jsb_putjs_range(&b, s, 0, cut);
    else {
        const char *sp = rfind_bytes(s->s, cut, " ", 1);
        jsb_putjs_range(&b, s, 0, sp ? (size_t)(sp - s->s) : cut);
    }
    jsb_putjs(&b, end);
    return jv_str(jsb_done(&b));
}

static jv f_unique(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"case_sensitive", "attribute"};
    jv v[2];
    bind_args(r, "unique", a, names, 2, v);
    jv *items;
    size_t n, k = 0;
    jv_iterate(r, x, &items, &n);
    struct attrpath p;
    attrpath_make(r, v[1], &p);
    int ci = !jv_truth(arg_or(v[0], JV_FALSE));
    struct jdict *seen = jd_new(&r->a);
    for (size_t i = 0; i < n; i++) {
        jv key = attrpath_get(r, &p, items[i], JV_ABSENT);
        if (ci)
            key = ignore_case(r, key);
        if (!jv_hashable(key))
            jr_fail(r, "unhashable type: '%s'", jv_type_name(key));
        if (!jd_get(seen, key)) {
            jd_set(&r->a, seen, key, JV_TRUE);
            items[k++] = items[i];
        }
    }
    return jv_iter_new(&r->a, items, k, IT_GENERATOR);
}

static jv f_wordcount(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "wordcount", a);
    jstr *s = soft_str(r, x);
    int64_t n = 0;
    int in_word = 0;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = cp_at(s, i, &k);
        int w = c == '_' || u_isalnum(r, c);
        if (w && !in_word)
            n++;
        in_word = w;
        i += k;
    }
    return jv_int(n);
}

static const struct {
    const char *name;
    filter_fn fn;
} filters[] = {
    {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize},
    {"center", f_center}, {"count", f_length}, {"d", f_default}, {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape}, {"escape", f_escape}, {"first", f_first},
    {"float", f_float}, {"forceescape", f_forceescape}, {"format", f_format},
    {"groupby", f_groupby}, {"indent", f_indent}, {"int", f_int}, {"items", f_items},
    {"join", f_join}, {"last", f_last}, {"length", f_length}, {"list", f_list},
    {"lower", f_lower}, {"map", f_map}, {"max", f_max}, {"min", f_min}, {"pprint", f_pprint},
    {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
    {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select},
    {"selectattr", f_selectattr}, {"slice", f_slice}, {"sort", f_sort}, {"string", f_string},
    {"sum", f_sum}, {"title", f_title}, {"tojson", f_tojson}, {"trim", f_trim},
    {"truncate", f_truncate}, {"unique", f_unique}, {"upper", f_upper},
    {"wordcount", f_wordcount},
};

int jb_filter_find(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (strlen(filters[i].name) == len && !memcmp(filters[i].name, name, len))
            return (int)i;
    return -1;
}

jv jb_filter(struct jrender *r, int id, jv x, struct jargv *a) {
    if (id < 0 || (size_t)id >= sizeof filters / sizeof filters[0])
        jr_fail(r, "no such filter");
    return filters[id].fn(r, x, a);
}

/* ---- tests ---- */

typedef int (*test_fn)(struct jrender *r, jv x, struct jargv *a);

static jv test_arg(struct jrender *r, const char *name, struct jargv *a) {
    static const char *const names[] = {"other"};
    jv v[1];
    bind_args(r, name, a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() missing 1 required positional argument", name);
    return v[0];
}

static int t_defined(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "defined", a);
    return x.k != JK_UNDEF;
}

static int t_undefined(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "undefined", a);
    return x.k == JK_UNDEF;
}

static int t_none(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "none", a);
    return x.k == JK_NONE;
}

static int t_boolean(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "boolean", a);
    return x.k == JK_BOOL;
}

static int t_false(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "false", a);
    return x.k == JK_BOOL && !x.u.i;
}

static int t_true(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "true", a);
    return x.k == JK_BOOL && x.u.i;
}

static int t_integer(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "integer", a);
    return x.k == JK_INT;
}

static int t_float(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "float", a);
    return x.k == JK_FLOAT;
}

static int t_number(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "number", a);
    return x.k == JK_INT || x.k == JK_FLOAT || x.k == JK_BOOL;
}

static int t_string(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "string", a);
    return x.k == JK_STR;
}

static int t_mapping(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "mapping", a);
    return x.k == JK_DICT;
}

static int t_sequence(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "sequence", a);
    return x.k == JK_STR || x.k == JK_LIST || x.k == JK_TUPLE || x.k == JK_DICT ||
           x.k == JK_UNDEF;
}

static int t_iterable(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "iterable", a);
    return x.k == JK_STR || x.k == JK_LIST || x.k == JK_TUPLE || x.k == JK_DICT ||
           x.k == JK_UNDEF || x.k == JK_ITER || x.k == JK_LOOP;
}

static int t_callable(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "callable", a);
    return x.k == JK_MACRO || x.k == JK_FUNC || x.k == JK_LOOP || x.k == JK_JOINER ||
           x.k == JK_UNDEF;
}

static int t_odd_even(struct jrender *r, jv x, int want) {
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if (x.k == JK_INT || x.k == JK_BOOL) {
        int64_t m = x.u.i % 2;
        return (m != 0) == want;
    }
    if (x.k == JK_FLOAT) {
        double m = fmod(x.u.f, 2.0);
        if (m < 0)
            m += 2.0;
        return want ? m == 1.0 : m == 0.0;
    }
    jr_fail(r, "unsupported operand type(s) for %%: '%s' and 'int'", jv_type_name(x));
}

static int t_odd(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "odd", a);
    return t_odd_even(r, x, 1);
}

static int t_even(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "even", a);
    return t_odd_even(r, x, 0);
}

static int t_divisibleby(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"num"};
    jv v[1];
    bind_args(r, "divisibleby", a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "test_divisibleby() missing 1 required positional argument: 'num'");
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    double q = to_float(r, v[0], "divisibleby");
    if ((x.k == JK_INT || x.k == JK_BOOL) && (v[0].k == JK_INT || v[0].k == JK_BOOL)) {
        if (!v[0].u.i)
            jr_fail(r, "integer division or modulo by zero");
        return v[0].u.i == -1 || x.u.i % v[0].u.i == 0;
    }
    if (q == 0)
        jr_fail(r, "float modulo");
    return fmod(to_float(r, x, "divisibleby"), q) == 0;
}

static int t_lower(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "lower", a);
    jstr *s = soft_str(r, x);
    int cased = 0;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = cp_at(s, i, &k);
        if (u_isupper(r, c))
            return 0;
        cased |= u_islower(r, c);
        i += k;
    }
    return cased;
}

static int t_upper(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "upper", a);
    jstr *s = soft_str(r, x);
    int cased = 0;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = cp_at(s, i, &k);
        if (u_islower(r, c))
            return 0;
        cased |= u_isupper(r, c);
        i += k;
    }
    return cased;
}

static int t_escaped(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "escaped", a);
    return x.k == JK_STR && x.safe;
}

static int t_sameas(struct jrender *r, jv x, struct jargv *a) {
    jv o = test_arg(r, "sameas", a);
    if (x.k != o.k)
        return 0;
    switch (x.k) {
    case JK_NONE:
        return 1;
    case JK_BOOL:
    case JK_INT:
        return x.u.i == o.u.i;
    case JK_FLOAT:
        return 0;
    default:
        return x.u.s == o.u.s;
    }
}

static int t_in(struct jrender *r, jv x, struct jargv *a) {
    jv seq = test_arg(r, "in", a);
    switch (seq.k) {
    case JK_STR:
        if (x.k != JK_STR)
            jr_fail(r, "'in <string>' requires string as left operand, not %s", jv_type_name(x));
        return find_bytes(seq.u.s->s, seq.u.s->len, x.u.s->s, x.u.s->len) != NULL;
    case JK_LIST:
    case JK_TUPLE:
        for (size_t i = 0; i < seq.u.l->n; i++)
            if (jv_eq(r, seq.u.l->v[i], x, 0))
                return 1;
        return 0;
    case JK_DICT:
        if (!jv_hashable(x))
            jr_fail(r, "unhashable type: '%s'", jv_type_name(x));
        return jd_get(seq.u.d, x) != NULL;
    case JK_UNDEF:
        return 0;
    case JK_ITER:
        for (size_t i = seq.u.it->what >= IT_ITEMS ? 0 : seq.u.it->pos; i < seq.u.it->n; i++)
            if (jv_eq(r, seq.u.it->v[i], x, 0))
                return 1;
        return 0;
    default:
        jr_fail(r, "argument of type '%s' is not iterable", jv_type_name(seq));
    }
}

static int t_eq(struct jrender *r, jv x, struct jargv *a) {
    return jv_eq(r, x, test_arg(r, "eq", a), 0);
}

static int t_ne(struct jrender *r, jv x, struct jargv *a) {
    return !jv_eq(r, x, test_arg(r, "ne", a), 0);
}

static int cmp_test(struct jrender *r, jv x, jv y, const char *op) {
    int c = jv_cmp(r, x, y, op);
    if ((x.k == JK_FLOAT && isnan(x.u.f)) || (y.k == JK_FLOAT && isnan(y.u.f)))
        return 0;
    switch (op[0]) {
    case '<':
        return op[1] ? c <= 0 : c < 0;
    default:
        return op[1] ? c >= 0 : c > 0;
    }
}

static int t_lt(struct jrender *r, jv x, struct jargv *a) {
    return cmp_test(r, x, test_arg(r, "lt", a), "<");
}

static int t_le(struct jrender *r, jv x, struct jargv *a) {
    return cmp_test(r, x, test_arg(r, "le", a), "<=");
}

static int t_gt(struct jrender *r, jv x, struct jargv *a) {
    return cmp_test(r, x, test_arg(r, "gt", a), ">");
}

static int t_ge(struct jrender *r, jv x, struct jargv *a) {
    return cmp_test(r, x, test_arg(r, "ge", a), ">=");
}

static int t_filter(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "filter", a);
    return x.k == JK_STR && jb_filter_find(x.u.s->s, x.u.s->len) >= 0;
}

static int t_test(struct jrender *r, jv x, struct jargv *a) {
    no_args(r, "test", a);
    return x.k == JK_STR && jb_test_find(x.u.s->s, x.u.s->len) >= 0;
}

static const struct {
    const char *name;
    test_fn fn;
} tests[] = {
    {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none},
    {"boolean", t_boolean}, {"false", t_false}, {"true", t_true}, {"integer", t_integer},
    {"float", t_float}, {"number", t_number}, {"string", t_string}, {"mapping", t_mapping},
    {"sequence", t_sequence}, {"iterable", t_iterable}, {"callable", t_callable},
    {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby}, {"lower", t_lower},
    {"upper", t_upper}, {"escaped", t_escaped}, {"sameas", t_sameas}, {"in", t_in},
    {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq}, {"ne", t_ne}, {"!=", t_ne},
    {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le}, {"<=", t_le},
    {"gt", t_gt}, {"greaterthan", t_gt}, {">", t_gt}, {"ge", t_ge}, {">=", t_ge},
    {"filter", t_filter}, {"test", t_test},
};

int jb_test_find(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (strlen(tests[i].name) == len && !memcmp(tests[i].name, name, len))
            return (int)i;
    return -1;
}

int jb_test(struct jrender *r, int id, jv x, struct jargv *a) {
    if (id < 0 || (size_t)id >= sizeof tests / sizeof tests[0])
        jr_fail(r, "no such test");
    return tests[id].fn(r, x, a);
}

/* ---- methods and globals ---- */

typedef jv (*func_fn)(struct jrender *r, jv self, struct jargv *a);

/* str methods */
#define STR_SELF const jstr *s = self.u.s

static jv m_strip(struct jrender *r, jv self, struct jargv *a, int which, const char *name) {
    static const char *const names[] = {"chars"};
    jv v[1];
    bind_args(r, name, a, names, 1, v);
    return str_strip(r, self, strip_chars_arg(r, v[0]), which);
}

static jv m_str_strip(struct jrender *r, jv self, struct jargv *a) {
    return m_strip(r, self, a, 3, "strip");
}

static jv m_str_lstrip(struct jrender *r, jv self, struct jargv *a) {
    return m_strip(r, self, a, 1, "lstrip");
}

static jv m_str_rstrip(struct jrender *r, jv self, struct jargv *a) {
    return m_strip(r, self, a, 2, "rstrip");
}

static jv m_split(struct jrender *r, jv self, struct jargv *a, int right) {
    static const char *const names[] = {"sep", "maxsplit"};
    jv v[2];
    bind_args(r, right ? "rsplit" : "split", a, names, 2, v);
    return str_split(r, self.u.s, v[0], arg_int(r, v[1], -1, "maxsplit"), right);
}

static jv m_str_split(struct jrender *r, jv self, struct jargv *a) {
    return m_split(r, self, a, 0);
}

static jv m_str_rsplit(struct jrender *r, jv self, struct jargv *a) {
    return m_split(r, self, a, 1);
}

static jv m_str_splitlines(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"keepends"};
    jv v[1];
    bind_args(r, "splitlines", a, names, 1, v);
    return str_splitlines(r, self.u.s, jv_truth(arg_or(v[0], JV_FALSE)));
}

static jv m_fixes(struct jrender *r, jv self, struct jargv *a, int ends) {
    static const char *const names[] = {"prefix", "start", "end"};
    jv v[3];
    const char *fname = ends ? "endswith" : "startswith";
    bind_args(r, fname, a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() takes at least 1 argument (0 given)", fname);
    return jv_bool(str_fixes(r, self.u.s, v[0], v[1], v[2], ends, fname));
}

static jv m_str_startswith(struct jrender *r, jv self, struct jargv *a) {
    return m_fixes(r, self, a, 0);
}

static jv m_str_endswith(struct jrender *r, jv self, struct jargv *a) {
    return m_fixes(r, self, a, 1);
}

static jv m_str_replace(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"old", "new", "count"};
    jv v[3];
    bind_args(r, "replace", a, names, 3, v);
    if (v[0].k == JK_ABSENT || v[1].k == JK_ABSENT)
        jr_fail(r, "replace() takes at least 2 arguments");
    const jstr *old = arg_str(r, v[0], "replace() argument 1");
    const jstr *new = arg_str(r, v[1], "replace() argument 2");
    if (self.safe) { /* Markup.replace escapes its arguments */
        old = jb_escape(r, v[0]).u.s;
        new = jb_escape(r, v[1]).u.s;
    }
    jv o = str_replace(r, self.u.s, old, new, arg_int(r, v[2], -1, "count"));
    o.safe = self.safe;
    return o;
}

static jv m_str_upper(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "upper", a);
    return str_case(r, self, CASE_UPPER);
}

static jv m_str_lower(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "lower", a);
    return str_case(r, self, CASE_LOWER);
}

static jv m_str_casefold(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "casefold", a);
    jv v = str_case(r, self, CASE_LOWER);
    v.safe = 0;
    return v;
}

static jv m_str_title(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "title", a);
    return str_case(r, self, CASE_TITLE);
}

static jv m_str_capitalize(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "capitalize", a);
    return str_case(r, self, CASE_CAPITALIZE);
}

static jv m_str_swapcase(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "swapcase", a);
    return str_case(r, self, CASE_SWAP);
}

static jv m_str_format(struct jrender *r, jv self, struct jargv *a) {
    jv v = jv_str(str_format(r, self.u.s, a, 0));
    v.safe = self.safe;
    return v;
}

static jv m_find(struct jrender *r, jv self, struct jargv *a, int right, int raise,
                 const char *fname) {
    static const char *const names[] = {"sub", "start", "end"};
    jv v[3];
    bind_args(r, fname, a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() takes at least 1 argument (0 given)", fname);
    const jstr *sub = arg_str(r, v[0], "must be str");
    int64_t i = str_find(r, self.u.s, sub, v[1], v[2], right);
    if (i < 0 && raise)
        jr_fail(r, "substring not found");
    return jv_int(i);
}

static jv m_str_find(struct jrender *r, jv self, struct jargv *a) {
    return m_find(r, self, a, 0, 0, "find");
}

static jv m_str_rfind(struct jrender *r, jv self, struct jargv *a) {
    return m_find(r, self, a, 1, 0, "rfind");
}

static jv m_str_index(struct jrender *r, jv self, struct jargv *a) {
    return m_find(r, self, a, 0, 1, "index");
}

static jv m_str_rindex(struct jrender *r, jv self, struct jargv *a) {
    return m_find(r, self, a, 1, 1, "rindex");
}

static jv m_str_count(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"sub", "start", "end"};
    jv v[3];
    bind_args(r, "count", a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "count() takes at least 1 argument (0 given)");
    const jstr *sub = arg_str(r, v[0], "must be str");
    STR_SELF;
    size_t x, y;
    str_range(r, s, v[1], v[2], &x, &y);
    if (x > y)
        return jv_int(0);
    if (!sub->len)
        return jv_int((int64_t)u8_count(s->s + x, y - x) + 1);
    int64_t n = 0;
    for (size_t i = x; i + sub->len <= y;) {
        const char *p = find_bytes(s->s + i, y - i, sub->s, sub->len);
        if (!p)
            break;
        n++;
        i = (size_t)(p - s->s) + sub->len;
    }
    return jv_int(n);
}

static jv m_str_join(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"iterable"};
    jv v[1];
    bind_args(r, "join", a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "str.join() takes exactly one argument (0 given)");
    if (v[0].k == JK_NONE || v[0].k == JK_INT || v[0].k == JK_FLOAT || v[0].k == JK_BOOL)
        jr_fail(r, "can only join an iterable");
    jv o = str_join(r, self.u.s, v[0], 1);
    return o;
}

static jv m_pad(struct jrender *r, jv self, struct jargv *a, int how, const char *fname) {
    static const char *const names[] = {"width", "fillchar"};
    jv v[2];
    bind_args(r, fname, a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() takes at least 1 argument (0 given)", fname);
    return str_pad(r, self, arg_int(r, v[0], 0, "width"), v[1], how);
}

static jv m_str_ljust(struct jrender *r, jv self, struct jargv *a) {
    return m_pad(r, self, a, 0, "ljust");
}

static jv m_str_rjust(struct jrender *r, jv self, struct jargv *a) {
    return m_pad(r, self, a, 1, "rjust");
}

static jv m_str_center(struct jrender *r, jv self, struct jargv *a) {
    return m_pad(r, self, a, 2, "center");
}

static jv m_str_zfill(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"width"};
    jv v[1];
    bind_args(r, "zfill", a, names, 1, v);
    STR_SELF;
    int64_t w = arg_int(r, v[0], 0, "width"), n = (int64_t)u8_count(s->s, s->len);
    if (w <= n)
        return self;
    if (w > (int64_t)r->lim.max_output)
        jr_fail(r, "text longer than %zu bytes (the output limit)", r->lim.max_output);
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    size_t sign = s->len && (s->s[0] == '+' || s->s[0] == '-');
    jsb_putjs_range(&b, s, 0, sign);
    for (int64_t i = n; i < w; i++)
        jsb_putc(&b, '0', T);
    jsb_putjs_range(&b, s, sign, s->len - sign);
    return jv_str(jsb_done(&b));
}

static jv m_partition(struct jrender *r, jv self, struct jargv *a, int right) {
    static const char *const names[] = {"sep"};
    jv v[1];
    bind_args(r, right ? "rpartition" : "partition", a, names, 1, v);
    const jstr *sep = arg_str(r, v[0], "must be str");
    if (!sep->len)
        jr_fail(r, "empty separator");
    STR_SELF;
    const char *p = right ? rfind_bytes(s->s, s->len, sep->s, sep->len)
                          : find_bytes(s->s, s->len, sep->s, sep->len);
    struct jlist *l = jl_new(&r->a, 3);
    l->n = 3;
    if (!p) {
        l->v[right ? 2 : 0] = self;
        l->v[1] = jv_str(empty(r));
        l->v[right ? 0 : 2] = jv_str(empty(r));
    } else {
        size_t at = (size_t)(p - s->s);
        l->v[0] = jv_str(js_sub(&r->a, s, 0, at));
        l->v[1] = jv_str(js_sub(&r->a, s, at, sep->len));
        l->v[2] = jv_str(js_sub(&r->a, s, at + sep->len, s->len - at - sep->len));
    }
    return jv_tuple(l);
}

static jv m_str_partition(struct jrender *r, jv self, struct jargv *a) {
    return m_partition(r, self, a, 0);
}

static jv m_str_rpartition(struct jrender *r, jv self, struct jargv *a) {
    return m_partition(r, self, a, 1);
}

static jv m_affix(struct jrender *r, jv self, struct jargv *a, int suffix) {
    static const char *const names[] = {"fix"};
    jv v[1];
    bind_args(r, suffix ? "removesuffix" : "removeprefix", a, names, 1, v);
    const jstr *fx = arg_str(r, v[0], "must be str");
    STR_SELF;
    if (fx->len > s->len || !fx->len ||
        memcmp(s->s + (suffix ? s->len - fx->len : 0), fx->s, fx->len))
        return self;
    return jv_str(js_sub(&r->a, s, suffix ? 0 : fx->len, s->len - fx->len));
}

static jv m_str_removeprefix(struct jrender *r, jv self, struct jargv *a) {
    return m_affix(r, self, a, 0);
}

static jv m_str_removesuffix(struct jrender *r, jv self, struct jargv *a) {
    return m_affix(r, self, a, 1);
}

enum { IS_ALPHA, IS_DIGIT, IS_ALNUM, IS_SPACE, IS_LOWER, IS_UPPER, IS_TITLE };

static jv m_is(struct jrender *r, jv self, struct jargv *a, int what, const char *fname) {
    no_args(r, fname, a);
    STR_SELF;
    if (!s->len)
        return JV_FALSE;
    if (what == IS_LOWER)
        return jv_bool(t_lower(r, self, a));
    if (what == IS_UPPER)
        return jv_bool(t_upper(r, self, a));
    int prev_cased = 0, any = 0;
    for (size_t i = 0; i < s->len;) {
        size_t k;
        uint32_t c = cp_at(s, i, &k);
        i += k;
        switch (what) {
        case IS_ALPHA:
            if (!u_isalpha(r, c))
                return JV_FALSE;
            break;
        case IS_DIGIT:
            if (!u_isdigit(r, c))
                return JV_FALSE;
            break;
        case IS_ALNUM:
            if (!u_isalnum(r, c))
                return JV_FALSE;
            break;
        case IS_SPACE:
            if (!u_isspace(c))
                return JV_FALSE;
            break;
        case IS_TITLE:
            if (u_isupper(r, c)) {
                if (prev_cased)
                    return JV_FALSE;
                prev_cased = any = 1;
            } else if (u_islower(r, c)) {
                if (!prev_cased)
                    return JV_FALSE;
                prev_cased = 1;
            } else
                prev_cased = 0;
            break;
        }
    }
    return what == IS_TITLE ? jv_bool(any) : JV_TRUE;
}

static jv m_str_isalpha(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_ALPHA, "isalpha");
}

static jv m_str_isdigit(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_DIGIT, "isdigit");
}

static jv m_str_isalnum(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_ALNUM, "isalnum");
}

static jv m_str_isspace(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_SPACE, "isspace");
}

static jv m_str_islower(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_LOWER, "islower");
}

static jv m_str_isupper(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_UPPER, "isupper");
}

static jv m_str_istitle(struct jrender *r, jv self, struct jargv *a) {
    return m_is(r, self, a, IS_TITLE, "istitle");
}

/* dict methods */

static jv m_dict_get(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"key", "default"};
    jv v[2];
    bind_args(r, "get", a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "get expected at least 1 argument, got 0");
    if (!jv_hashable(v[0]))
        jr_fail(r, "unhashable type: '%s'", jv_type_name(v[0]));
    jv *x = jd_get(self.u.d, v[0]);
    return x ? *x : arg_or(v[1], JV_NONE);
}

static jv dict_view(struct jrender *r, jv self, struct jargv *a, int what, const char *fname) {
    no_args(r, fname, a);
    const struct jdict *d = self.u.d;
    jv *v = ja_raw(&r->a, ja_mul(&r->a, d->n + 1, sizeof(jv)));
    for (size_t i = 0; i < d->n; i++)
        v[i] = what == IT_ITEMS ? jv_tuple2(&r->a, d->key[i], d->val[i])
               : what == IT_KEYS ? d->key[i] : d->val[i];
    jr_step(r, d->n);
    return jv_iter_new(&r->a, v, d->n, what);
}

static jv m_dict_items(struct jrender *r, jv self, struct jargv *a) {
    return dict_view(r, self, a, IT_ITEMS, "items");
}

static jv m_dict_keys(struct jrender *r, jv self, struct jargv *a) {
    return dict_view(r, self, a, IT_KEYS, "keys");
}

static jv m_dict_values(struct jrender *r, jv self, struct jargv *a) {
    return dict_view(r, self, a, IT_VALUES, "values");
}

static jv m_dict_copy(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "copy", a);
    struct jdict *d = jd_new(&r->a);
    for (size_t i = 0; i < self.u.d->n; i++)
        jd_set(&r->a, d, self.u.d->key[i], self.u.d->val[i]);
    return jv_dict(d);
}

/* list and tuple methods */

static jv m_seq_count(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"value"};
    jv v[1];
    bind_args(r, "count", a, names, 1, v);
    int64_t n = 0;
    for (size_t i = 0; i < self.u.l->n; i++)
        n += jv_eq(r, self.u.l->v[i], v[0], 0);
    return jv_int(n);
}

static jv m_seq_index(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"value"};
    jv v[1];
    bind_args(r, "index", a, names, 1, v);
    for (size_t i = 0; i < self.u.l->n; i++)
        if (jv_eq(r, self.u.l->v[i], v[0], 0))
            return jv_int((int64_t)i);
    jr_fail(r, "%s.index(x): x not in %s", jv_type_name(self), jv_type_name(self));
}

static jv m_list_copy(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "copy", a);
    struct jlist *l = jl_new(&r->a, self.u.l->n);
    memcpy(l->v, self.u.l->v, self.u.l->n * sizeof(jv));
    l->n = self.u.l->n;
    return jv_list(l);
}

static void list_mutable(struct jrender *r, jv self, const char *what) {
    if (self.u.l->frozen || self.u.l->is_range)
        jr_fail(r, "list.%s() on the caller's data is refused (it is read-only here)", what);
}

static jv m_list_pop(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"index"};
    jv v[1];
    bind_args(r, "pop", a, names, 1, v);
    list_mutable(r, self, "pop");
    struct jlist *l = self.u.l;
    if (!l->n)
        jr_fail(r, "pop from empty list");
    int64_t i = arg_int(r, v[0], -1, "index");
    if (i < 0)
        i += (int64_t)l->n;
    if (i < 0 || i >= (int64_t)l->n)
        jr_fail(r, "pop index out of range");
    jv x = l->v[i];
    memmove(l->v + i, l->v + i + 1, (l->n - (size_t)i - 1) * sizeof(jv));
    l->n--;
    return x;
}

static jv m_list_clear(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "clear", a);
    list_mutable(r, self, "clear");
    self.u.l->n = 0;
    return JV_NONE;
}

/* loop, cycler */

static jv m_loop_cycle(struct jrender *r, jv self, struct jargv *a) {
    if (!a->n_pos)
        jr_fail(r, "no items for cycling given");
    return a->pos[self.u.lp->i % a->n_pos];
}

static jv m_loop_changed(struct jrender *r, jv self, struct jargv *a) {
    struct jlist *l = jl_new(&r->a, a->n_pos);
    memcpy(l->v, a->pos, a->n_pos * sizeof(jv));
    l->n = a->n_pos;
    jv v = jv_list(l);
    struct jloop *lp = self.u.lp;
    if (lp->changed_set && jv_eq(r, lp->changed_last, v, 0))
        return JV_FALSE;
    lp->changed_last = v;
    lp->changed_set = 1;
    return JV_TRUE;
}

static jv m_cycler_next(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "next", a);
    struct jcycler *c = self.u.cy;
    jv v = c->v[c->pos];
    c->pos = (c->pos + 1) % c->n;
    return v;
}

static jv m_cycler_reset(struct jrender *r, jv self, struct jargv *a) {
    no_args(r, "reset", a);
    self.u.cy->pos = 0;
    return JV_NONE;
}

/* globals */

static jv g_range(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    if (a->n_kw)
        jr_fail(r, "range() takes no keyword arguments");
    if (a->n_pos < 1 || a->n_pos > 3)
        jr_fail(r, "range expected at least 1 argument, got %zu", a->n_pos);
    int64_t v[3];
    for (size_t i = 0; i < a->n_pos; i++) {
        jv x = a->pos[i];
        if (x.k == JK_UNDEF)
            ev_fail_undef(r, x);
        if (x.k != JK_INT && x.k != JK_BOOL)
            jr_fail(r, "'%s' object cannot be interpreted as an integer", jv_type_name(x));
        v[i] = x.u.i;
    }
    int64_t start = a->n_pos == 1 ? 0 : v[0], stop = a->n_pos == 1 ? v[0] : v[1],
            step = a->n_pos == 3 ? v[2] : 1;
    if (!step)
        jr_fail(r, "range() arg 3 must not be zero");
    double len = step > 0 ? ((double)stop - (double)start) / (double)step
                          : ((double)start - (double)stop) / (double)-step;
    if (ceil(len) > 100000)
        jr_fail(r, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    struct jlist *l = jl_new(&r->a, 0);
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
        jl_push(&r->a, l, jv_int(i));
    jr_step(r, l->n);
    l->is_range = 1;
    l->r0 = start;
    l->r1 = stop;
    l->r2 = step;
    return jv_list(l);
}

/* dict(*args, **kwargs) */
static struct jdict *dict_from_args(struct jrender *r, struct jargv *a, const char *fname) {
    struct jdict *d = jd_new(&r->a);
    if (a->n_pos > 1)
        jr_fail(r, "%s expected at most 1 argument, got %zu", fname, a->n_pos);
    if (a->n_pos) {
        jv x = a->pos[0];
        if (x.k == JK_DICT || x.k == JK_NS) {
            for (size_t i = 0; i < x.u.d->n; i++)
                jd_set(&r->a, d, x.u.d->key[i], x.u.d->val[i]);
        } else {
            jv *items;
            size_t n;
            jv_iterate(r, x, &items, &n);
            for (size_t i = 0; i < n; i++) {
                jv *kv;
                size_t m;
                if (items[i].k != JK_STR && !jv_is_seq(items[i]) && items[i].k != JK_ITER)
                    jr_fail(r, "cannot convert dictionary update sequence element #%zu to a "
                               "sequence", i);
                jv_iterate(r, items[i], &kv, &m);
                if (m != 2)
                    jr_fail(r, "dictionary update sequence element #%zu has length %zu; 2 is "
                               "required", i, m);
                if (!jv_hashable(kv[0]))
                    jr_fail(r, "unhashable type: '%s'", jv_type_name(kv[0]));
                jd_set(&r->a, d, kv[0], kv[1]);
            }
        }
    }
    for (size_t i = 0; i < a->n_kw; i++)
        jd_set(&r->a, d, jv_str(a->kw_name[i]), a->kw[i]);
    return d;
}

static jv g_dict(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    return jv_dict(dict_from_args(r, a, "dict"));
}

static jv g_namespace(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    jv v = {JK_NS, 0, {.d = dict_from_args(r, a, "namespace")}};
    return v;
}

static jv g_cycler(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    if (!a->n_pos)
        jr_fail(r, "at least one item has to be provided");
    struct jcycler *c = ja_alloc(&r->a, sizeof *c);
    c->v = ja_raw(&r->a, ja_mul(&r->a, a->n_pos, sizeof(jv)));
    memcpy(c->v, a->pos, a->n_pos * sizeof(jv));
    c->n = a->n_pos;
    jv v = {JK_CYCLER, 0, {.cy = c}};
    return v;
}

static jv g_joiner(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    static const char *const names[] = {"sep"};
    jv v[1];
    bind_args(r, "joiner", a, names, 1, v);
    struct jjoiner *j = ja_alloc(&r->a, sizeof *j);
    j->sep = v[0].k == JK_ABSENT ? jv_strc(&r->a, ", ") : v[0];
    jv o = {JK_JOINER, 0, {.jo = j}};
    return o;
}

static jv g_raise_exception(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    static const char *const names[] = {"message"};
    jv v[1];
    bind_args(r, "raise_exception", a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "raise_exception() missing 1 required positional argument: 'message'");
    jr_fail(r, "%s", jv_to_str(r, v[0])->s);
}

static jv g_strftime_now(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    static const char *const names[] = {"format"};
    jv v[1];
    bind_args(r, "strftime_now", a, names, 1, v);
    const jstr *fmt = arg_str(r, v[0], "strftime() argument 1");
    return jv_str(do_strftime(r, fmt));
}

enum { K_STR = 1 << JK_STR, K_DICT = 1 << JK_DICT, K_LIST = 1 << JK_LIST,
       K_TUPLE = 1 << JK_TUPLE, K_LOOP = 1 << JK_LOOP, K_CYCLER = 1 << JK_CYCLER,
       K_SEQ = K_LIST | K_TUPLE };

static const struct {
    const char *name;
    int kinds;       /* the receivers of a method; 0: a global function */
    func_fn fn;      /* NULL: an unsafe method (SecurityError when called) */
} funcs[] = {
    {"range", 0, g_range}, {"dict", 0, g_dict}, {"namespace", 0, g_namespace},
    {"cycler", 0, g_cycler}, {"joiner", 0, g_joiner},
    {"raise_exception", 0, g_raise_exception}, {"strftime_now", 0, g_strftime_now},
    {"strip", K_STR, m_str_strip}, {"lstrip", K_STR, m_str_lstrip},
    {"rstrip", K_STR, m_str_rstrip}, {"split", K_STR, m_str_split},
    {"rsplit", K_STR, m_str_rsplit}, {"splitlines", K_STR, m_str_splitlines},
    {"startswith", K_STR, m_str_startswith}, {"endswith", K_STR, m_str_endswith},
    {"replace", K_STR, m_str_replace}, {"upper", K_STR, m_str_upper},
    {"lower", K_STR, m_str_lower}, {"casefold", K_STR, m_str_casefold},
    {"title", K_STR, m_str_title}, {"capitalize", K_STR, m_str_capitalize},
    {"swapcase", K_STR, m_str_swapcase}, {"format", K_STR, m_str_format},
    {"find", K_STR, m_str_find}, {"rfind", K_STR, m_str_rfind}, {"index", K_STR, m_str_index},
    {"rindex", K_STR, m_str_rindex}, {"count", K_STR, m_str_count}, {"join", K_STR, m_str_join},
    {"ljust", K_STR, m_str_ljust}, {"rjust", K_STR, m_str_rjust},
    {"center", K_STR, m_str_center}, {"zfill", K_STR, m_str_zfill},
    {"partition", K_STR, m_str_partition}, {"rpartition", K_STR, m_str_rpartition},
    {"removeprefix", K_STR, m_str_removeprefix}, {"removesuffix", K_STR, m_str_removesuffix},
    {"isalpha", K_STR, m_str_isalpha}, {"isdigit", K_STR, m_str_isdigit},
    {"isnumeric", K_STR, m_str_isdigit}, {"isdecimal", K_STR, m_str_isdigit},
    {"isalnum", K_STR, m_str_isalnum}, {"isspace", K_STR, m_str_isspace},
    {"islower", K_STR, m_str_islower}, {"isupper", K_STR, m_str_isupper},
    {"istitle", K_STR, m_str_istitle},
    {"get", K_DICT, m_dict_get}, {"items", K_DICT, m_dict_items},
    {"keys", K_DICT, m_dict_keys}, {"values", K_DICT, m_dict_values},
    {"copy", K_DICT, m_dict_copy}, {"clear", K_DICT, NULL}, {"pop", K_DICT, NULL},
    {"popitem", K_DICT, NULL}, {"setdefault", K_DICT, NULL}, {"update", K_DICT, NULL},
    {"count", K_SEQ, m_seq_count}, {"index", K_SEQ, m_seq_index},
    {"copy", K_LIST, m_list_copy}, {"pop", K_LIST, m_list_pop},
    {"clear", K_LIST, m_list_clear}, {"append", K_LIST, NULL}, {"reverse", K_LIST, NULL},
    {"insert", K_LIST, NULL}, {"sort", K_LIST, NULL}, {"extend", K_LIST, NULL},
    {"remove", K_LIST, NULL},
    {"cycle", K_LOOP, m_loop_cycle}, {"changed", K_LOOP, m_loop_changed},
    {"next", K_CYCLER, m_cycler_next}, {"reset", K_CYCLER, m_cycler_reset},
};

#define N_FUNCS (sizeof funcs / sizeof funcs[0])

int jb_global_find(const char *name, size_t len) {
    for (size_t i = 0; i < N_FUNCS; i++)
        if (!funcs[i].kinds && strlen(funcs[i].name) == len && !memcmp(funcs[i].name, name, len))
            return (int)i;
    return -1;
}

const char *jb_func_name(int id) {
    return id >= 0 && (size_t)id < N_FUNCS ? funcs[id].name : "?";
}

jv jb_global(struct jarena *a, int id) {
    struct jfunc *f = ja_alloc(a, sizeof *f);
    f->id = id;
    f->self = JV_NONE;
    jv v = {JK_FUNC, 0, {.fn = f}};
    return v;
}

jv jb_method(struct jrender *r, jv obj, const jstr *name) {
    if (obj.k > JK_CYCLER)
        return JV_ABSENT;
    int bit = 1 << obj.k;
    for (size_t i = 0; i < N_FUNCS; i++) {
        if (!(funcs[i].kinds & bit) || !js_eqc(name, funcs[i].name))
            continue;
        if (!funcs[i].fn)
            return jv_undef_attr(&r->a, UNDEF_UNSAFE, (uint8_t)obj.k, jv_str((jstr *)name));
        struct jfunc *f = ja_alloc(&r->a, sizeof *f);
        f->id = (int)i;
        f->self = obj;
        jv v = {JK_FUNC, 0, {.fn = f}};
        return v;
    }
    return JV_ABSENT;
}

jv jb_call(struct jrender *r, struct jfunc *f, struct jargv *a) {
    if (f->id < 0 || (size_t)f->id >= N_FUNCS || !funcs[f->id].fn)
        jr_fail(r, "not callable");
    return funcs[f->id].fn(r, f->self, a);
}

/* sum(): acc + x with Python's + (numbers, lists...) */
static jv py_sum_add(struct jrender *r, jv acc, jv x) {
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if ((acc.k == JK_INT || acc.k == JK_BOOL || acc.k == JK_FLOAT) &&
        (x.k == JK_INT || x.k == JK_BOOL || x.k == JK_FLOAT)) {
        if (acc.k == JK_FLOAT || x.k == JK_FLOAT)
            return jv_float((acc.k == JK_FLOAT ? acc.u.f : (double)acc.u.i) +
                            (x.k == JK_FLOAT ? x.u.f : (double)x.u.i));
        int64_t z;
        if (__builtin_add_overflow(acc.u.i, x.u.i, &z))
            jr_fail(r, "integer result too large");
        return jv_int(z);
    }
    if (acc.k == JK_LIST && x.k == JK_LIST) {
        struct jlist *l = jl_new(&r->a, acc.u.l->n + x.u.l->n);
        memcpy(l->v, acc.u.l->v, acc.u.l->n * sizeof(jv));
        memcpy(l->v + acc.u.l->n, x.u.l->v, x.u.l->n * sizeof(jv));
        l->n = acc.u.l->n + x.u.l->n;
        return jv_list(l);
    }
    jr_fail(r, "unsupported operand type(s) for +: '%s' and '%s'", jv_type_name(acc),
            jv_type_name(x));
}
