/* src/jinja_lex.c — the Jinja lexer (after Lua's llex.c): template text to tokens on demand,
 * with jinja2's rules as transformers configures them: trim_blocks (the newline after a block
 * or comment tag goes), lstrip_blocks (spaces and tabs before a block or comment tag at the
 * start of a line go), {%- -%} {{- -}} {#- -#} strip all whitespace (Python's \s, Unicode),
 * {%+ and +%} keep it; {% raw %} text; comments dropped; newlines normalized to \n and one
 * trailing newline dropped. Errors go to lx->fail with the line and column. Any thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_impl.h"

static void lex_fail(struct jlex *lx, size_t off, const char *msg) {
    uint32_t line, col;
    jlex_where(lx, off, &line, &col);
    lx->fail(lx->ud, line, col, msg);
    abort(); /* fail does not return */
}

void jlex_init(struct jlex *lx, struct jarena *a, const char *src, size_t n) {
    char *s = ja_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '\r') {
            s[o++] = '\n';
            if (i + 1 < n && src[i + 1] == '\n')
                i++;
        } else
            s[o++] = src[i];
    }
    if (o && s[o - 1] == '\n') /* keep_trailing_newline=False */
        o--;
    s[o] = 0;
    lx->a = a;
    lx->src = s;
    lx->n = o;
    lx->pos = 0;
    lx->mode = 0;
    lx->line_starting = 1;
    lx->n_balance = 0;
    lx->has_pending = 0;
    lx->w_off = 0;
    lx->w_line = 1;
    lx->w_col = 1;
}

void jlex_where(struct jlex *lx, size_t off, uint32_t *line, uint32_t *col) {
    if (off > lx->n)
        off = lx->n;
    if (off < lx->w_off) { /* the lexer moves forward: restart only when asked to go back */
        lx->w_off = 0;
        lx->w_line = 1;
        lx->w_col = 1;
    }
    for (size_t i = lx->w_off; i < off;) {
        const char *nl = memchr(lx->src + i, '\n', off - i);
        if (!nl) {
            lx->w_col += (uint32_t)u8_count(lx->src + i, off - i);
            break;
        }
        lx->w_line++;
        lx->w_col = 1;
        i = (size_t)(nl - lx->src) + 1;
    }
    lx->w_off = off;
    *line = lx->w_line;
    *col = lx->w_col;
}

const char *jtok_name(enum jtok t) {
    static const char *const names[] = {
        [T_EOF] = "end of template", [T_DATA] = "template data / text",
        [T_VAR_BEGIN] = "begin of print statement", [T_VAR_END] = "end of print statement",
        [T_BLOCK_BEGIN] = "begin of statement block", [T_BLOCK_END] = "end of statement block",
        [T_NAME] = "name", [T_STRING] = "string", [T_INT] = "integer", [T_FLOAT] = "float",
        [T_ADD] = "+", [T_SUB] = "-", [T_MUL] = "*", [T_DIV] = "/", [T_FLOORDIV] = "//",
        [T_MOD] = "%", [T_POW] = "**", [T_TILDE] = "~", [T_LBRACKET] = "[",
        [T_RBRACKET] = "]", [T_LPAREN] = "(", [T_RPAREN] = ")", [T_LBRACE] = "{",
        [T_RBRACE] = "}", [T_EQ] = "==", [T_NE] = "!=", [T_GT] = ">", [T_GTEQ] = ">=",
        [T_LT] = "<", [T_LTEQ] = "<=", [T_ASSIGN] = "=", [T_DOT] = ".", [T_COLON] = ":",
        [T_PIPE] = "|", [T_COMMA] = ",", [T_SEMICOLON] = ";",
    };
    return (unsigned)t < sizeof names / sizeof names[0] && names[t] ? names[t] : "?";
}

/* The length of the Python-whitespace character at src[i], 0 if it is not one. */
static size_t ws_at(const struct jlex *lx, size_t i) {
    unsigned char c = (unsigned char)lx->src[i];
    if (c < 0x80)
        return u_isspace(c) ? 1 : 0;
    uint32_t cp;
    size_t k = u8_next(lx->src, lx->n, i, &cp);
    return u_isspace(cp) ? k : 0;
}

static size_t skip_ws(const struct jlex *lx, size_t i) {
    size_t k;
    while (i < lx->n && (k = ws_at(lx, i)))
        i += k;
    return i;
}

/* Where text [s, e) ends once its trailing whitespace is stripped (Python's rstrip). */
static size_t rstrip_ws(const struct jlex *lx, size_t s, size_t e) {
    size_t end = s, i = s;
    while (i < e) { /* forward, so multibyte whitespace is recognized */
        size_t k = ws_at(lx, i);
        if (!k) {
            uint32_t cp;
            i += u8_next(lx->src, lx->n, i, &cp);
            end = i;
        } else
            i += k;
    }
    return end;
}

static int all_ws(const struct jlex *lx, size_t s, size_t e) {
    if (s >= e)
        return 0; /* \s+ needs one */
    for (size_t i = s; i < e;) {
        size_t k = ws_at(lx, i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static int at(const struct jlex *lx, size_t i, const char *s) {
    size_t n = strlen(s);
    return i <= lx->n && lx->n - i >= n && memcmp(lx->src + i, s, n) == 0;
}

static void tok_set(struct jlex *lx, struct jtoken *t, enum jtok type, size_t off) {
    memset(t, 0, sizeof *t);
    t->t = type;
    jlex_where(lx, off, &t->line, &t->col);
    t->p = lx->src + off;
}

/* The data text [s, e) before a tag opening with sign ('-', '+' or 0), stripped as jinja2
 * does; lstrip: the tag is a block, comment or raw tag (lstrip_blocks applies). */
static size_t data_end(struct jlex *lx, size_t s, size_t e, int sign, int lstrip) {
    if (sign == '-')
        return rstrip_ws(lx, s, e);
    if (sign == '+' || !lstrip)
        return e;
    size_t l = s;
    int nl = 0;
    for (size_t i = e; i > s; i--)
        if (lx->src[i - 1] == '\n') {
            l = i;
            nl = 1;
            break;
        }
    if ((nl || lx->line_starting) && all_ws(lx, l, e))
        return l;
    return e;
}

/* {% raw %} at q (sign already known): the offset just past its end, or 0 if it is not one. */
static size_t raw_begin(const struct jlex *lx, size_t q, int sign) {
    size_t j = skip_ws(lx, q + 2 + (sign ? 1 : 0));
    if (!at(lx, j, "raw"))
        return 0;
    j = skip_ws(lx, j + 3);
    if (at(lx, j, "-%}"))
        return skip_ws(lx, j + 3);
    if (at(lx, j, "%}"))
        return j + 2;
    return 0;
}

/* The end tag of a raw block at e ({% endraw %}): its sign in *sign and the offset past it
 * (with trim_blocks), or 0. */
static size_t raw_end_at(const struct jlex *lx, size_t e, int *sign) {
    if (!at(lx, e, "{%"))
        return 0;
    size_t j = e + 2;
    *sign = 0;
    if (j < lx->n && (lx->src[j] == '-' || lx->src[j] == '+'))
        *sign = lx->src[j++];
    j = skip_ws(lx, j);
    if (!at(lx, j, "endraw"))
        return 0;
    j = skip_ws(lx, j + 6);
    if (at(lx, j, "+%}"))
        return j + 3;
    if (at(lx, j, "-%}"))
        return skip_ws(lx, j + 3);
    if (at(lx, j, "%}"))
        return j + 2 + (j + 2 < lx->n && lx->src[j + 2] == '\n');
    return 0;
}

/* Data mode: text up to the next tag. Returns 1 with a token, 0 to go on (a comment). */
static int lex_data(struct jlex *lx, struct jtoken *t) {
    size_t pos = lx->pos, q = pos;
    if (pos >= lx->n) {
        tok_set(lx, t, T_EOF, lx->n);
        return 1;
    }
    for (;;) {
        const char *p = memchr(lx->src + q, '{', lx->n - q);
        if (!p) {
            q = lx->n;
            break;
        }
        q = (size_t)(p - lx->src);
        if (q + 1 < lx->n && strchr("{%#", lx->src[q + 1]) && lx->src[q + 1])
            break;
        q++;
    }
    if (q >= lx->n) { /* the rest is text */
        tok_set(lx, t, T_DATA, pos);
        t->len = lx->n - pos;
        lx->pos = lx->n;
        return 1;
    }
    char kind = lx->src[q + 1];
    int sign = q + 2 < lx->n && (lx->src[q + 2] == '-' || lx->src[q + 2] == '+')
                   ? lx->src[q + 2] : 0;
    size_t raw = kind == '%' ? raw_begin(lx, q, sign) : 0;
    size_t e = data_end(lx, pos, q, sign, kind != '{');
    int have_data = e > pos;
    if (have_data) {
        tok_set(lx, t, T_DATA, pos);
        t->len = e - pos;
    }
    if (kind == '#') {
        size_t s = q + 2 + (sign ? 1 : 0), f = s;
        for (;;) {
            const char *p = f < lx->n ? memchr(lx->src + f, '#', lx->n - f) : NULL;
            if (!p)
                lex_fail(lx, q, "Missing end of comment tag");
            f = (size_t)(p - lx->src);
            if (f + 1 < lx->n && lx->src[f + 1] == '}')
                break;
            f++;
        }
        int esign = f > s && (lx->src[f - 1] == '-' || lx->src[f - 1] == '+') ? lx->src[f - 1]
                                                                              : 0;
        size_t after = f + 2;
        if (esign == '-')
            after = skip_ws(lx, after);
        else if (!esign && after < lx->n && lx->src[after] == '\n')
            after++;
        lx->line_starting = lx->src[after - 1] == '\n';
        lx->pos = after;
        return have_data;
    }
    if (raw) {
        size_t f = raw;
        int esign = 0;
        size_t after = 0;
        for (;;) {
            const char *p = f < lx->n ? memchr(lx->src + f, '{', lx->n - f) : NULL;
            if (!p)
                lex_fail(lx, q, "Missing end of raw directive");
            f = (size_t)(p - lx->src);
            if ((after = raw_end_at(lx, f, &esign)))
                break;
            f++;
        }
        lx->line_starting = lx->src[raw - 1] == '\n';
        size_t re = data_end(lx, raw, f, esign, 1);
        lx->line_starting = lx->src[after - 1] == '\n';
        lx->pos = after;
        if (re > raw) {
            struct jtoken *rt = have_data ? &lx->pending : t;
            tok_set(lx, rt, T_DATA, raw);
            rt->len = re - raw;
            if (have_data)
                lx->has_pending = 1;
            return 1;
        }
        return have_data;
    }
    struct jtoken *bt = have_data ? &lx->pending : t;
    tok_set(lx, bt, kind == '%' ? T_BLOCK_BEGIN : T_VAR_BEGIN, q);
    bt->len = 2 + (sign ? 1 : 0);
    lx->has_pending = have_data;
    lx->mode = kind == '%' ? T_BLOCK_BEGIN : T_VAR_BEGIN;
    lx->pos = q + 2 + (sign ? 1 : 0);
    lx->line_starting = 0;
    return 1;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* (\d+_)*\d+ at i: the end, or 0 when there is no digit at i. */
static size_t scan_digits(const struct jlex *lx, size_t i) {
    if (i >= lx->n || !is_digit(lx->src[i]))
        return 0;
    for (;;) {
        while (i < lx->n && is_digit(lx->src[i]))
            i++;
        if (i + 1 < lx->n && lx->src[i] == '_' && is_digit(lx->src[i + 1]))
            i++;
        else
            return i;
    }
}

/* e[+-]?(\d+_)*\d+ at i: the end, or 0. */
static size_t scan_exponent(const struct jlex *lx, size_t i) {
    if (i >= lx->n || (lx->src[i] | 0x20) != 'e')
        return 0;
    i++;
    if (i < lx->n && (lx->src[i] == '+' || lx->src[i] == '-'))
        i++;
    return scan_digits(lx, i);
}

/* Copies [s, e) without underscores into buf (cap bytes); 0 if it does not fit. */
static int strip_underscores(const struct jlex *lx, size_t s, size_t e, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = s; i < e; i++) {
        if (lx->src[i] == '_')
            continue;
        if (o + 1 >= cap)
            return 0;
        buf[o++] = lx->src[i];
    }
    buf[o] = 0;
    return 1;
}

static int lex_number(struct jlex *lx, struct jtoken *t) {
    size_t pos = lx->pos, m;
    char buf[400];
    if ((pos == 0 || lx->src[pos - 1] != '.') && (m = scan_digits(lx, pos))) {
        size_t end = 0;
        if (m + 1 < lx->n && lx->src[m] == '.' && is_digit(lx->src[m + 1])) {
            size_t f = scan_digits(lx, m + 1), x = scan_exponent(lx, f);
            end = x ? x : f;
        } else
            end = scan_exponent(lx, m);
        if (end) {
            tok_set(lx, t, T_FLOAT, pos);
            if (!strip_underscores(lx, pos, end, buf, sizeof buf))
                lex_fail(lx, pos, "float literal too long");
            t->f = strtod(buf, NULL);
            t->len = end - pos;
            lx->pos = end;
            return 1;
        }
    }
    if (!is_digit(lx->src[pos]))
        return 0;
    int base = 10;
    size_t s = pos, end;
    char p1 = pos + 1 < lx->n ? (char)(lx->src[pos + 1] | 0x20) : 0;
    const char *digits = NULL;
    if (lx->src[pos] == '0' && (p1 == 'b' || p1 == 'o' || p1 == 'x')) {
        base = p1 == 'b' ? 2 : p1 == 'o' ? 8 : 16;
        digits = base == 2 ? "01" : base == 8 ? "01234567" : "0123456789abcdefABCDEF";
    }
    if (digits) { /* 0x(_?[\da-f])+ */
        size_t i = pos + 2, k = 0;
        for (;;) {
            size_t j = i < lx->n && lx->src[i] == '_' ? i + 1 : i;
            if (j < lx->n && lx->src[j] && strchr(digits, lx->src[j])) {
                i = j + 1;
                k++;
            } else
                break;
        }
        if (k) {
            end = i;
            s = pos + 2;
            goto value;
        }
        base = 10;
    }
    if (lx->src[pos] == '0') { /* 0(_?0)* */
        size_t i = pos + 1;
        for (;;) {
            size_t j = i < lx->n && lx->src[i] == '_' ? i + 1 : i;
            if (j < lx->n && lx->src[j] == '0')
                i = j + 1;
            else
                break;
        }
        end = i;
    } else { /* [1-9](_?\d)* */
        size_t i = pos + 1;
        for (;;) {
            size_t j = i < lx->n && lx->src[i] == '_' ? i + 1 : i;
            if (j < lx->n && is_digit(lx->src[j]))
                i = j + 1;
            else
                break;
        }
        end = i;
    }
value:
    tok_set(lx, t, T_INT, pos);
    if (!strip_underscores(lx, s, end, buf, sizeof buf))
        lex_fail(lx, pos, "integer literal too large");
    errno = 0;
    unsigned long long v = strtoull(buf, NULL, base);
    if (errno == ERANGE || v > INT64_MAX)
        lex_fail(lx, pos, "integer literal too large");
    t->i = (int64_t)v;
    t->len = end - pos;
    lx->pos = end;
    return 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string literal: Python's unicode-escape decoding of its text. */
static void lex_string(struct jlex *lx, struct jtoken *t) {
    size_t pos = lx->pos, i = pos + 1;
    char q = lx->src[pos];
    for (;;) {
        if (i >= lx->n) {
            char msg[48];
            snprintf(msg, sizeof msg, "unexpected char %s", q == '\'' ? "\"'\"" : "'\"'");
            lex_fail(lx, pos, msg);
        }
        if (lx->src[i] == '\\') {
            i += 2;
            continue;
        }
        if (lx->src[i] == q)
            break;
        i++;
    }
    size_t s = pos + 1, e = i;
    tok_set(lx, t, T_STRING, pos);
    t->len = e + 1 - pos;
    lx->pos = e + 1;
    /* decoded text is at most 4/3 longer (a backslash before a 3-byte character) */
    char *out = ja_alloc(lx->a, ja_mul(lx->a, e - s + 1, 4) / 3 + 8);
    size_t o = 0;
    for (size_t k = s; k < e;) {
        char c = lx->src[k];
        if (c != '\\') {
            out[o++] = c;
            k++;
            continue;
        }
        if (k + 1 >= e) { /* cannot happen: the scan above pairs backslashes */
            out[o++] = '\\';
            k++;
            continue;
        }
        char d = lx->src[k + 1];
        k += 2;
        uint32_t cp;
        int nhex = 0;
        switch (d) {
        case '\n':
            break; /* line continuation */
        case '\\':
        case '\'':
        case '"':
            out[o++] = d;
            break;
        case 'a':
            out[o++] = 7;
            break;
        case 'b':
            out[o++] = 8;
            break;
        case 'f':
            out[o++] = 12;
            break;
        case 'n':
            out[o++] = 10;
            break;
        case 'r':
            out[o++] = 13;
            break;
        case 't':
            out[o++] = 9;
            break;
        case 'v':
            out[o++] = 11;
            break;
        case 'x':
            nhex = 2;
            break;
        case 'u':
            nhex = 4;
            break;
        case 'U':
            nhex = 8;
            break;
        case 'N':
            lex_fail(lx, k - 2, "\\N{...} escapes are not supported");
            break;
        default:
            if (d >= '0' && d <= '7') { /* up to three octal digits */
                cp = (uint32_t)(d - '0');
                for (int n = 0; n < 2 && k < e && lx->src[k] >= '0' && lx->src[k] <= '7'; n++)
                    cp = cp * 8 + (uint32_t)(lx->src[k++] - '0');
                o += u8_put(out + o, cp);
            } else if ((unsigned char)d >= 0x80) {
                /* backslashreplace then unicode-escape: a backslash, then \xNN of the char
                 * seen as text */
                uint32_t ch;
                size_t len = u8_next(lx->src, lx->n, k - 1, &ch);
                k += len - 1;
                o += (size_t)sprintf(out + o, ch <= 0xff ? "\\x%02x" : ch <= 0xffff ? "\\u%04x"
                                                                                   : "\\U%08x",
                                     ch);
            } else {
                out[o++] = '\\';
                out[o++] = d;
            }
        }
        if (nhex) {
            cp = 0;
            for (int n = 0; n < nhex; n++) {
                int h = k < e ? hexval(lx->src[k]) : -1;
                if (h < 0) {
                    char msg[64];
                    snprintf(msg, sizeof msg, "truncated \\%cXXXX escape", d);
                    lex_fail(lx, pos, msg);
                }
                cp = cp * 16 + (uint32_t)h;
                k++;
            }
            if (cp > 0x10ffff)
                lex_fail(lx, pos, "illegal Unicode character");
            o += u8_put(out + o, cp);
        }
    }
    t->str = js_new(lx->a, out, o, JINJA_ORIGIN_TEMPLATE);
}

static void lex_op(struct jlex *lx, struct jtoken *t) {
    static const struct {
        const char *s;
        enum jtok t;
    } ops[] = {
        {"//", T_FLOORDIV}, {"**", T_POW}, {"==", T_EQ}, {"!=", T_NE}, {">=", T_GTEQ},
        {"<=", T_LTEQ}, {"+", T_ADD}, {"-", T_SUB}, {"/", T_DIV}, {"*", T_MUL}, {"%", T_MOD},
        {"~", T_TILDE}, {"[", T_LBRACKET}, {"]", T_RBRACKET}, {"(", T_LPAREN},
        {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE}, {">", T_GT}, {"<", T_LT},
        {"=", T_ASSIGN}, {".", T_DOT}, {":", T_COLON}, {"|", T_PIPE}, {",", T_COMMA},
        {";", T_SEMICOLON},
    };
    size_t pos = lx->pos;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!at(lx, pos, ops[i].s))
            continue;
        char c = ops[i].s[0];
        char msg[64];
        if (c == '{' || c == '(' || c == '[') {
            if (lx->n_balance >= JINJA_PARSE_DEPTH_MAX)
                lex_fail(lx, pos, "brackets nested too deeply");
            lx->balance[lx->n_balance++] = c == '{' ? '}' : c == '(' ? ')' : ']';
        } else if (c == '}' || c == ')' || c == ']') {
            if (!lx->n_balance) {
                snprintf(msg, sizeof msg, "unexpected '%c'", c);
                lex_fail(lx, pos, msg);
            }
            char want = lx->balance[--lx->n_balance];
            if (want != c) {
                snprintf(msg, sizeof msg, "unexpected '%c', expected '%c'", c, want);
                lex_fail(lx, pos, msg);
            }
        }
        tok_set(lx, t, ops[i].t, pos);
        t->len = strlen(ops[i].s);
        lx->pos += t->len;
        return;
    }
    char msg[64];
    unsigned char c = (unsigned char)lx->src[pos];
    if (c >= 0x20 && c < 0x7f)
        snprintf(msg, sizeof msg, "unexpected char '%c'", c);
    else if (c >= 0x80) {
        uint32_t cp;
        size_t k = u8_next(lx->src, lx->n, pos, &cp);
        snprintf(msg, sizeof msg, "unexpected char '%.*s'", (int)k, lx->src + pos);
    } else
        snprintf(msg, sizeof msg, "unexpected char '\\x%02x'", c);
    lex_fail(lx, pos, msg);
}

/* Tag mode: one token inside {% %} or {{ }}. */
static void lex_tag(struct jlex *lx, struct jtoken *t) {
    for (;;) {
        size_t pos = lx->pos;
        if (pos >= lx->n) {
            tok_set(lx, t, T_EOF, lx->n);
            return;
        }
        if (!lx->n_balance) {
            size_t end = 0;
            if (lx->mode == T_BLOCK_BEGIN) {
                if (at(lx, pos, "+%}"))
                    end = pos + 3;
                else if (at(lx, pos, "-%}"))
                    end = skip_ws(lx, pos + 3);
                else if (at(lx, pos, "%}"))
                    end = pos + 2 + (pos + 2 < lx->n && lx->src[pos + 2] == '\n');
            } else {
                if (at(lx, pos, "-}}"))
                    end = skip_ws(lx, pos + 3);
                else if (at(lx, pos, "}}"))
                    end = pos + 2;
            }
            if (end) {
                tok_set(lx, t, lx->mode == T_BLOCK_BEGIN ? T_BLOCK_END : T_VAR_END, pos);
                t->len = end - pos;
                lx->line_starting = lx->src[end - 1] == '\n';
                lx->mode = 0;
                lx->pos = end;
                return;
            }
        }
        size_t k = ws_at(lx, pos);
        if (k) {
            lx->pos = skip_ws(lx, pos);
            continue;
        }
        char c = lx->src[pos];
        if (is_digit(c) && lex_number(lx, t))
            return;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
            size_t e = pos + 1;
            while (e < lx->n && ((lx->src[e] >= 'a' && lx->src[e] <= 'z') ||
                                 (lx->src[e] >= 'A' && lx->src[e] <= 'Z') ||
                                 is_digit(lx->src[e]) || lx->src[e] == '_'))
                e++;
            tok_set(lx, t, T_NAME, pos);
            t->len = e - pos;
            lx->pos = e;
            return;
        }
        if (c == '\'' || c == '"') {
            lex_string(lx, t);
            return;
        }
        lex_op(lx, t);
        return;
    }
}

void jlex_next(struct jlex *lx, struct jtoken *t) {
    if (lx->has_pending) {
        *t = lx->pending;
        lx->has_pending = 0;
        return;
    }
    if (lx->mode) {
        lex_tag(lx, t);
        return;
    }
    while (!lex_data(lx, t))
        ;
}
