/* engine/tokenizer_regex.c — the pre-tokenizers' regex matcher (see tokenizer_regex.h): a
 * recursive-descent parser to a syntax tree, a compiler to a small instruction list, and a
 * backtracking machine with an explicit stack (so a long run of text cannot overflow the C
 * stack the way a recursive matcher would). Alternatives are tried in order and quantifiers
 * backtrack, which gives ECMAScript's leftmost-first matches. A compiled regex is read-only;
 * the matching memory is the caller's struct tre_scratch. */
#include "tokenizer_regex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "unicode.h"

/* ---- the compiled form ---- */

enum tre_op { I_UNIT, I_CLASS, I_ANY, I_SPLIT, I_JMP, I_MATCH, I_BOL, I_EOL, I_WORDB, I_LOOK };

struct tre_inst {
    uint8_t op;
    uint8_t neg;     /* I_WORDB: \B; I_LOOK: (?! */
    int32_t x, y;    /* I_UNIT: the unit; I_CLASS: the class; I_SPLIT: first, second choice;
                        I_JMP: target; I_LOOK: where to go on (after the sub-program) */
};

enum tre_esc { E_SPACE = 1, E_NSPACE = 2, E_DIGIT = 4, E_NDIGIT = 8, E_WORD = 16, E_NWORD = 32 };

struct tre_range {
    uint32_t lo, hi;
};

struct tre_class {
    uint32_t first, n; /* ranges [first, first + n) of tre.rng */
    uint8_t neg, esc;
};

struct tre {
    struct tre_inst *prog;
    size_t n_prog;
    struct tre_class *cls;
    size_t n_cls;
    struct tre_range *rng;
    size_t n_rng;
    int collapsed;
};

/* ---- units and classes ---- */

enum { U_OTHER = 0xD0, U_NUMBER = 0xD1, U_LETTER = 0xD2, U_PUNCT = 0xD3, U_MARK = 0xD4,
       U_SYMBOL = 0xD5, U_SPACE = 0x0B };

uint32_t tre_unit(uint32_t cp, unsigned fl, int collapsed) {
    if (cp < 128)
        return cp;
    if (fl & UNICODE_WHITESPACE)
        return U_SPACE;
    if (!collapsed)
        return cp;
    if (fl & UNICODE_NUMBER)
        return U_NUMBER;
    if (fl & UNICODE_LETTER)
        return U_LETTER;
    if (fl & UNICODE_PUNCT)
        return U_PUNCT;
    if (fl & UNICODE_MARK)
        return U_MARK;
    if (fl & UNICODE_SYMBOL)
        return U_SYMBOL;
    return U_OTHER;
}

static int tre_is_space(uint32_t u) { return u == ' ' || (u >= '\t' && u <= '\r'); }
static int tre_is_digit(uint32_t u) { return u >= '0' && u <= '9'; }
static int tre_is_word(uint32_t u) {
    return tre_is_digit(u) || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || u == '_';
}

static int tre_class_has(const struct tre *re, int32_t ci, uint32_t u) {
    const struct tre_class *c = &re->cls[ci];
    int in = 0;
    for (uint32_t i = 0; i < c->n && !in; i++)
        in = u >= re->rng[c->first + i].lo && u <= re->rng[c->first + i].hi;
    if (!in && c->esc) {
        int sp = tre_is_space(u), dg = tre_is_digit(u), wd = tre_is_word(u);
        in = ((c->esc & E_SPACE) && sp) || ((c->esc & E_NSPACE) && !sp) ||
             ((c->esc & E_DIGIT) && dg) || ((c->esc & E_NDIGIT) && !dg) ||
             ((c->esc & E_WORD) && wd) || ((c->esc & E_NWORD) && !wd);
    }
    return in != c->neg;
}

/* ---- parsing to a tree ---- */

enum tre_kind { N_EMPTY, N_UNIT, N_CLASS, N_ANY, N_CAT, N_ALT, N_REP, N_LOOK, N_BOL, N_EOL,
                N_WORDB };

struct tre_node {
    uint8_t kind, neg, greedy;
    int32_t a, b;       /* N_UNIT: unit; N_CLASS: class; N_REP: min, max (-1: no limit) */
    int32_t child, sib; /* N_CAT/N_ALT: first child, children linked by sib; N_REP/N_LOOK */
};

#define TRE_MAX_REPEAT 1000
#define TRE_MAX_PROG (1u << 20)

struct tre_parse {
    const uint32_t *s;
    size_t n, i;
    struct tre_node *nodes;
    size_t n_nodes, cap_nodes;
    struct tre_class *cls;
    size_t n_cls, cap_cls;
    struct tre_range *rng;
    size_t n_rng, cap_rng;
    int collapsed, failed;
    char *err;
    size_t err_len;
};

static void tre_fail(struct tre_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tre_fail(struct tre_parse *p, const char *fmt, ...) {
    if (p->failed)
        return;
    p->failed = 1;
    if (p->err && p->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->err_len, fmt, ap);
        va_end(ap);
    }
}

static int32_t tre_node_new(struct tre_parse *p, enum tre_kind kind) {
    if (p->failed)
        return -1;
    if (tok_reserve(&p->nodes, &p->cap_nodes, p->n_nodes + 1, sizeof *p->nodes)) {
        tre_fail(p, "out of memory");
        return -1;
    }
    struct tre_node *nd = &p->nodes[p->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->kind = (uint8_t)kind;
    nd->child = nd->sib = -1;
    return (int32_t)p->n_nodes++;
}

static void tre_range_add(struct tre_parse *p, uint32_t lo, uint32_t hi) {
    if (p->failed)
        return;
    if (tok_reserve(&p->rng, &p->cap_rng, p->n_rng + 1, sizeof *p->rng)) {
        tre_fail(p, "out of memory");
        return;
    }
    p->rng[p->n_rng++] = (struct tre_range){lo, hi};
}

static int32_t tre_class_new(struct tre_parse *p) {
    if (p->failed)
        return -1;
    if (tok_reserve(&p->cls, &p->cap_cls, p->n_cls + 1, sizeof *p->cls)) {
        tre_fail(p, "out of memory");
        return -1;
    }
    p->cls[p->n_cls] = (struct tre_class){(uint32_t)p->n_rng, 0, 0, 0};
    return (int32_t)p->n_cls++;
}

/* The ranges of the class being built are the last ones added: close it. */
static void tre_class_end(struct tre_parse *p, int32_t ci) {
    if (ci >= 0 && !p->failed)
        p->cls[ci].n = (uint32_t)p->n_rng - p->cls[ci].first;
}

static int tre_peek(const struct tre_parse *p, uint32_t c) { return p->i < p->n && p->s[p->i] == c; }

/* llama.cpp's collapsed categories: the category's unit and its ASCII members. */
static void tre_category(struct tre_parse *p) {
    static const struct {
        const char *name;
        uint32_t unit;
        const char *ascii; /* pairs lo, hi */
    } cats[] = {
        {"N", U_NUMBER, "09"},
        {"L", U_LETTER, "AZaz"}, {"Lu", U_LETTER, "AZaz"}, {"Ll", U_LETTER, "AZaz"},
        {"Lt", U_LETTER, "AZaz"}, {"Lm", U_LETTER, "AZaz"}, {"Lo", U_LETTER, "AZaz"},
        {"P", U_PUNCT, "!#%*,/:;?@[]__{{}}"},
        {"M", U_MARK, ""},
        {"S", U_SYMBOL, "$$++<>^^``||~~"},
    };
    char name[8];
    size_t k = 0;
    if (!tre_peek(p, '{')) {
        tre_fail(p, "\\p without {...} at offset %zu", p->i);
        return;
    }
    p->i++;
    while (p->i < p->n && p->s[p->i] != '}' && k < sizeof name - 1)
        name[k++] = (char)p->s[p->i++];
    name[k] = 0;
    if (!tre_peek(p, '}')) {
        tre_fail(p, "unterminated \\p{ at offset %zu", p->i);
        return;
    }
    p->i++;
    for (size_t c = 0; c < sizeof cats / sizeof cats[0]; c++) {
        if (strcmp(cats[c].name, name) != 0)
            continue;
        if (!p->collapsed) {
            tre_fail(p, "\\p{%s} needs collapsed text", name);
            return;
        }
        tre_range_add(p, cats[c].unit, cats[c].unit);
        for (const char *a = cats[c].ascii; a[0] && a[1]; a += 2)
            tre_range_add(p, (unsigned char)a[0], (unsigned char)a[1]);
        return;
    }
    tre_fail(p, "unsupported category \\p{%s}", name);
}

static uint32_t tre_hex(struct tre_parse *p, int digits) {
    uint32_t v = 0;
    for (int d = 0; d < digits; d++) {
        uint32_t c = p->i < p->n ? p->s[p->i] : 0;
        int x = c >= '0' && c <= '9' ? (int)(c - '0') : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
              : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10) : -1;
        if (x < 0) {
            tre_fail(p, "bad hex escape at offset %zu", p->i);
            return 0;
        }
        v = v * 16 + (uint32_t)x;
        p->i++;
    }
    return v;
}

/* One escape after '\' (already eaten). Returns the unit it stands for, or -1 if it was a
 * class escape (added to class ci: \d \s \w, their negations, \p{..}) or an error. */
static int64_t tre_escape(struct tre_parse *p, int32_t ci, int in_class) {
    if (p->i >= p->n) {
        tre_fail(p, "trailing backslash");
        return -1;
    }
    uint32_t c = p->s[p->i++];
    static const char cls_esc[] = "sSdDwW";
    const char *e = c < 128 ? strchr(cls_esc, (int)c) : NULL;
    if (e && c) {
        if (ci >= 0)
            p->cls[ci].esc |= (uint8_t)(1u << (e - cls_esc));
        return -1;
    }
    switch (c) {
    case 'p': tre_category(p); return -1;
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case '0': return 0;
    case 'b': return in_class ? 8 : -1; /* outside a class: the caller's \b */
    case 'x': return tre_hex(p, 2);
    case 'u': return tre_hex(p, 4);
    default:
        if (c >= '1' && c <= '9') {
            tre_fail(p, "back-references are not supported (offset %zu)", p->i - 1);
            return -1;
        }
        return c; /* identity escape */
    }
}

static int32_t tre_parse_alt(struct tre_parse *p);

/* [...] after '[' */
static int32_t tre_parse_class(struct tre_parse *p) {
    int32_t ci = tre_class_new(p);
    if (ci < 0)
        return -1;
    if (tre_peek(p, '^')) {
        p->cls[ci].neg = 1;
        p->i++;
    }
    while (!p->failed && p->i < p->n && p->s[p->i] != ']') {
        int64_t lo;
        if (p->s[p->i] == '\\') {
            p->i++;
            lo = tre_escape(p, ci, 1);
        } else {
            lo = p->s[p->i++];
        }
        if (lo < 0)
            continue; /* a class escape, already added */
        int64_t hi = lo;
        if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
            p->i++;
            if (p->s[p->i] == '\\') {
                p->i++;
                hi = tre_escape(p, ci, 1);
                if (hi < 0) {
                    tre_fail(p, "class escape as a range end at offset %zu", p->i);
                    break;
                }
            } else {
                hi = p->s[p->i++];
            }
            if (hi < lo) {
                tre_fail(p, "range out of order at offset %zu", p->i);
                break;
            }
        }
        tre_range_add(p, (uint32_t)lo, (uint32_t)hi);
    }
    if (!p->failed && !tre_peek(p, ']'))
        tre_fail(p, "unterminated [ class");
    p->i++;
    tre_class_end(p, ci);
    int32_t nd = tre_node_new(p, N_CLASS);
    if (nd >= 0)
        p->nodes[nd].a = ci;
    return nd;
}

static int tre_parse_int(struct tre_parse *p, int32_t *v) {
    size_t start = p->i;
    int64_t x = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9' && x <= TRE_MAX_REPEAT)
        x = x * 10 + (p->s[p->i++] - '0');
    *v = (int32_t)x;
    return p->i > start && x <= TRE_MAX_REPEAT;
}

/* An atom and its quantifier; -1 at the end of the alternative (or on error). */
static int32_t tre_parse_term(struct tre_parse *p) {
    if (p->i >= p->n || p->s[p->i] == '|' || p->s[p->i] == ')')
        return -1;
    uint32_t c = p->s[p->i++];
    int32_t nd = -1;
    int quantifiable = 1;
    switch (c) {
    case '^': nd = tre_node_new(p, N_BOL); quantifiable = 0; break;
    case '$': nd = tre_node_new(p, N_EOL); quantifiable = 0; break;
    case '.': nd = tre_node_new(p, N_ANY); break;
    case '[': nd = tre_parse_class(p); break;
    case '(': {
        int look = 0, neg = 0;
        if (tre_peek(p, '?')) {
            uint32_t k = p->i + 1 < p->n ? p->s[p->i + 1] : 0;
            if (k == ':' || k == '=' || k == '!') {
                look = k != ':';
                neg = k == '!';
                p->i += 2;
            } else {
                tre_fail(p, "unsupported group (?%c at offset %zu", (char)k, p->i);
                return -1;
            }
        }
        int32_t inner = tre_parse_alt(p);
        if (!tre_peek(p, ')')) {
            tre_fail(p, "missing ) at offset %zu", p->i);
            return -1;
        }
        p->i++;
        if (look) {
            nd = tre_node_new(p, N_LOOK);
            if (nd >= 0) {
                p->nodes[nd].neg = (uint8_t)neg;
                p->nodes[nd].child = inner;
            }
            quantifiable = 0;
        } else {
            nd = inner;
        }
        break;
    }
    case '\\': {
        if (tre_peek(p, 'b') || tre_peek(p, 'B')) {
            nd = tre_node_new(p, N_WORDB);
            if (nd >= 0)
                p->nodes[nd].neg = p->s[p->i] == 'B';
            p->i++;
            quantifiable = 0;
            break;
        }
        int32_t ci = tre_class_new(p);
        int64_t u = tre_escape(p, ci, 0);
        tre_class_end(p, ci);
        if (p->failed)
            return -1;
        if (u >= 0) {
            p->n_cls--; /* a plain unit: the class was not needed */
            nd = tre_node_new(p, N_UNIT);
            if (nd >= 0)
                p->nodes[nd].a = (int32_t)u;
        } else {
            nd = tre_node_new(p, N_CLASS);
            if (nd >= 0)
                p->nodes[nd].a = ci;
        }
        break;
    }
    case '*': case '+': case '?':
        tre_fail(p, "nothing to repeat at offset %zu", p->i - 1);
        return -1;
    case '{': case '}': case ']':
        tre_fail(p, "unescaped '%c' at offset %zu", (char)c, p->i - 1);
        return -1;
    default:
        nd = tre_node_new(p, N_UNIT);
        if (nd >= 0)
            p->nodes[nd].a = (int32_t)c;
        break;
    }
    if (p->failed || nd < 0)
        return -1;
    if (p->i >= p->n)
        return nd;
    int32_t mn = -2, mx = -2;
    switch (p->s[p->i]) {
    case '*': mn = 0; mx = -1; p->i++; break;
    case '+': mn = 1; mx = -1; p->i++; break;
    case '?': mn = 0; mx = 1; p->i++; break;
    case '{':
        p->i++;
        if (!tre_parse_int(p, &mn)) {
            tre_fail(p, "bad {n,m} at offset %zu", p->i);
            return -1;
        }
        mx = mn;
        if (tre_peek(p, ',')) {
            p->i++;
            mx = -1;
            if (!tre_peek(p, '}') && (!tre_parse_int(p, &mx) || mx < mn)) {
                tre_fail(p, "bad {n,m} at offset %zu", p->i);
                return -1;
            }
        }
        if (!tre_peek(p, '}')) {
            tre_fail(p, "bad {n,m} at offset %zu", p->i);
            return -1;
        }
        p->i++;
        break;
    default: return nd;
    }
    if (!quantifiable) {
        tre_fail(p, "an assertion cannot be repeated (offset %zu)", p->i - 1);
        return -1;
    }
    int greedy = 1;
    if (tre_peek(p, '?')) {
        greedy = 0;
        p->i++;
    }
    int32_t r = tre_node_new(p, N_REP);
    if (r < 0)
        return -1;
    p->nodes[r].a = mn;
    p->nodes[r].b = mx;
    p->nodes[r].greedy = (uint8_t)greedy;
    p->nodes[r].child = nd;
    return r;
}

/* A sequence of terms. */
static int32_t tre_parse_cat(struct tre_parse *p) {
    int32_t cat = tre_node_new(p, N_CAT), last = -1;
    for (;;) {
        int32_t t = tre_parse_term(p);
        if (t < 0 || p->failed)
            break;
        if (last < 0)
            p->nodes[cat].child = t;
        else
            p->nodes[last].sib = t;
        last = t;
    }
    return p->failed ? -1 : cat;
}

static int32_t tre_parse_alt(struct tre_parse *p) {
    int32_t first = tre_parse_cat(p);
    if (first < 0 || !tre_peek(p, '|'))
        return first;
    int32_t alt = tre_node_new(p, N_ALT), last = first;
    if (alt < 0)
        return -1;
    p->nodes[alt].child = first;
    while (!p->failed && tre_peek(p, '|')) {
        p->i++;
        int32_t b = tre_parse_cat(p);
        if (b < 0)
            return -1;
        p->nodes[last].sib = b;
        last = b;
    }
    return p->failed ? -1 : alt;
}

/* ---- compiling the tree ---- */

struct tre_emit {
    struct tre_parse *p;
    struct tre_inst *prog;
    size_t n, cap;
};

static int tre_nullable(const struct tre_parse *p, int32_t nd) {
    const struct tre_node *x = &p->nodes[nd];
    switch (x->kind) {
    case N_UNIT: case N_CLASS: case N_ANY: return 0;
    case N_CAT:
        for (int32_t c = x->child; c >= 0; c = p->nodes[c].sib)
            if (!tre_nullable(p, c))
                return 0;
        return 1;
    case N_ALT:
        for (int32_t c = x->child; c >= 0; c = p->nodes[c].sib)
            if (tre_nullable(p, c))
                return 1;
        return 0;
    case N_REP: return x->a == 0 || tre_nullable(p, x->child);
    default: return 1;
    }
}

static size_t tre_put(struct tre_emit *e, enum tre_op op, int32_t x, int32_t y) {
    if (e->p->failed)
        return 0;
    if (e->n >= TRE_MAX_PROG) {
        tre_fail(e->p, "regex too large");
        return 0;
    }
    if (tok_reserve(&e->prog, &e->cap, e->n + 1, sizeof *e->prog)) {
        tre_fail(e->p, "out of memory");
        return 0;
    }
    e->prog[e->n] = (struct tre_inst){(uint8_t)op, 0, x, y};
    return e->n++;
}

static void tre_emit_node(struct tre_emit *e, int32_t nd) {
    struct tre_parse *p = e->p;
    if (p->failed || nd < 0)
        return;
    const struct tre_node x = p->nodes[nd];
    switch (x.kind) {
    case N_EMPTY: break;
    case N_UNIT: tre_put(e, I_UNIT, x.a, 0); break;
    case N_CLASS: tre_put(e, I_CLASS, x.a, 0); break;
    case N_ANY: tre_put(e, I_ANY, 0, 0); break;
    case N_BOL: tre_put(e, I_BOL, 0, 0); break;
    case N_EOL: tre_put(e, I_EOL, 0, 0); break;
    case N_WORDB: {
        size_t at = tre_put(e, I_WORDB, 0, 0);
        if (!p->failed)
            e->prog[at].neg = x.neg;
        break;
    }
    case N_CAT:
        for (int32_t c = x.child; c >= 0; c = p->nodes[c].sib)
            tre_emit_node(e, c);
        break;
    case N_ALT: {
        /* SPLIT next, L2; a; JMP end; L2: SPLIT next, L3; b; JMP end; ... L_k: last */
        size_t jumps_head = (size_t)-1; /* JMPs to patch, chained through their x */
        for (int32_t c = x.child; c >= 0 && !p->failed; c = p->nodes[c].sib) {
            if (p->nodes[c].sib < 0) {
                tre_emit_node(e, c);
                break;
            }
            size_t sp = tre_put(e, I_SPLIT, 0, 0);
            if (p->failed)
                return;
            e->prog[sp].x = (int32_t)e->n;
            tre_emit_node(e, c);
            size_t j = tre_put(e, I_JMP, (int32_t)jumps_head, 0);
            if (p->failed)
                return;
            jumps_head = j;
            e->prog[sp].y = (int32_t)e->n;
        }
        while (!p->failed && jumps_head != (size_t)-1) {
            size_t next = (size_t)(int64_t)e->prog[jumps_head].x;
            e->prog[jumps_head].x = (int32_t)e->n;
            jumps_head = next;
        }
        break;
    }
    case N_REP: {
        if ((x.b < 0 || x.b > 1) && tre_nullable(p, x.child)) {
            tre_fail(p, "a repeated group can match the empty string");
            return;
        }
        for (int32_t i = 0; i < x.a; i++)
            tre_emit_node(e, x.child);
        if (x.b < 0) {
            size_t sp = tre_put(e, I_SPLIT, 0, 0);
            tre_emit_node(e, x.child);
            tre_put(e, I_JMP, (int32_t)sp, 0);
            if (p->failed)
                return;
            int32_t body = (int32_t)sp + 1, out = (int32_t)e->n;
            e->prog[sp].x = x.greedy ? body : out;
            e->prog[sp].y = x.greedy ? out : body;
        } else {
            /* x{0,k}: k copies, each "SPLIT body, out; body: x" (every copy has the same
             * length), where out is the end of the whole chain */
            size_t first_split = e->n, copy_len = 0;
            int32_t n_opt = x.b - x.a;
            for (int32_t i = 0; i < n_opt && !p->failed; i++) {
                tre_put(e, I_SPLIT, 0, 0);
                tre_emit_node(e, x.child);
                if (i == 0)
                    copy_len = e->n - first_split;
            }
            if (p->failed)
                return;
            int32_t out = (int32_t)e->n;
            for (int32_t i = 0; i < n_opt; i++) {
                size_t k = first_split + (size_t)i * copy_len;
                int32_t body = (int32_t)k + 1;
                e->prog[k].x = x.greedy ? body : out;
                e->prog[k].y = x.greedy ? out : body;
            }
        }
        break;
    }
    case N_LOOK: {
        size_t lk = tre_put(e, I_LOOK, 0, 0);
        tre_emit_node(e, x.child);
        tre_put(e, I_MATCH, 0, 0);
        if (p->failed)
            return;
        e->prog[lk].neg = x.neg;
        e->prog[lk].x = (int32_t)e->n;
        break;
    }
    }
}

static int tre_names_category(const char *src) {
    static const char *const keys[] = {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}",
                                       "\\p{Lu}", "\\p{Ll}", "\\p{Lt}", "\\p{Lm}", "\\p{Lo}"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strstr(src, keys[i]))
            return 1;
    return 0;
}

int tre_compile(const char *src, struct tre **out, char *err, size_t err_len) {
    *out = NULL;
    size_t len = strlen(src), n = 0;
    uint32_t *cps = malloc(sizeof *cps * (len + 1));
    struct tre_parse p = {0};
    struct tre_emit e = {0};
    struct tre *re = NULL;
    p.err = err;
    p.err_len = err_len;
    if (!cps) {
        tre_fail(&p, "out of memory");
        goto done;
    }
    for (size_t pos = 0; pos < len;)
        cps[n++] = unicode_decode(src, len, &pos);
    p.s = cps;
    p.n = n;
    p.collapsed = tre_names_category(src);
    for (size_t i = 0; i < n && p.collapsed; i++)
        if (cps[i] >= 128) {
            tre_fail(&p, "a regex with unicode categories may not hold non-ASCII characters");
            goto done;
        }
    int32_t root = tre_parse_alt(&p);
    if (!p.failed && p.i < p.n)
        tre_fail(&p, "unmatched ) at offset %zu", p.i);
    if (p.failed)
        goto done;
    e.p = &p;
    tre_emit_node(&e, root);
    tre_put(&e, I_MATCH, 0, 0);
    if (p.failed)
        goto done;
    re = calloc(1, sizeof *re);
    if (!re) {
        tre_fail(&p, "out of memory");
        goto done;
    }
    re->prog = e.prog;
    re->n_prog = e.n;
    re->cls = p.cls;
    re->n_cls = p.n_cls;
    re->rng = p.rng;
    re->n_rng = p.n_rng;
    re->collapsed = p.collapsed;
    e.prog = NULL;
    p.cls = NULL;
    p.rng = NULL;
    *out = re;
done:
    free(cps);
    free(p.nodes);
    free(p.cls);
    free(p.rng);
    free(e.prog);
    return re ? 0 : -1;
}

void tre_free(struct tre *re) {
    if (!re)
        return;
    free(re->prog);
    free(re->cls);
    free(re->rng);
    free(re);
}

void tre_scratch_free(struct tre_scratch *s) {
    free(s->stack);
    free(s->memo);
    memset(s, 0, sizeof *s);
}

int tre_is_collapsed(const struct tre *re) { return re->collapsed; }

/* ---- matching ----
 * Failure memo: a choice point (SPLIT at pc, position pos) from which no path reaches MATCH
 * fails the same way whichever attempt reaches it again, since nothing here depends on where
 * an attempt started (no back-references; ^, $, \b and lookaheads look only at the piece) —
 * except the not_null rule, so runs with not_null neither read nor write the memo. A choice is
 * known to have failed when the marker frame pushed on entering it is popped. tre_split turns
 * the memo on once a piece has cost more than TRE_MEMO_AFTER steps per unit, so that e.g.
 * \s+$ over a long run of spaces is linear instead of quadratic; below that it costs nothing. */

#define TRE_MARK ((size_t)1 << (sizeof(size_t) * 8 - 1))
#ifndef TRE_MEMO_AFTER
#define TRE_MEMO_AFTER 64
#endif
#ifndef TRE_MEMO_MIN
#define TRE_MEMO_MIN 4096
#endif

struct tre_frame {
    size_t pc, pos; /* pc | TRE_MARK: the marker of a choice at (pc, pos) */
};

static size_t tre_memo_slot(uint64_t key, size_t mask) {
    key ^= key >> 33;
    key *= 0xFF51AFD7ED558CCDull;
    key ^= key >> 33;
    return (size_t)key & mask;
}

static int tre_memo_has(const struct tre_scratch *s, size_t pc, size_t pos) {
    if (!s->memo_n)
        return 0;
    uint64_t key = (uint64_t)pc * s->memo_span + (pos - s->memo_lo) + 1;
    for (size_t i = tre_memo_slot(key, s->memo_cap - 1);; i = (i + 1) & (s->memo_cap - 1)) {
        if (s->memo[i] == key)
            return 1;
        if (!s->memo[i])
            return 0;
    }
}

/* Records a failed choice; 0, or -1 if out of memory. */
static int tre_memo_add(struct tre_scratch *s, size_t pc, size_t pos) {
    if (2 * (s->memo_n + 1) > s->memo_cap) {
        size_t nc = s->memo_cap ? s->memo_cap * 2 : 1024;
        uint64_t *nm = calloc(nc, sizeof *nm);
        if (!nm)
            return -1;
        for (size_t i = 0; i < s->memo_cap; i++) {
            if (!s->memo[i])
                continue;
            size_t j = tre_memo_slot(s->memo[i], nc - 1);
            while (nm[j])
                j = (j + 1) & (nc - 1);
            nm[j] = s->memo[i];
        }
        free(s->memo);
        s->memo = nm;
        s->memo_cap = nc;
    }
    uint64_t key = (uint64_t)pc * s->memo_span + (pos - s->memo_lo) + 1;
    size_t i = tre_memo_slot(key, s->memo_cap - 1);
    while (s->memo[i] && s->memo[i] != key)
        i = (i + 1) & (s->memo_cap - 1);
    if (!s->memo[i]) {
        s->memo[i] = key;
        s->memo_n++;
    }
    return 0;
}

static void tre_memo_reset(struct tre_scratch *s, size_t lo, size_t hi) {
    if (s->memo_n)
        memset(s->memo, 0, sizeof *s->memo * s->memo_cap);
    s->memo_n = 0;
    s->memo_on = 0;
    s->memo_lo = lo;
    s->memo_span = hi - lo + 1;
    s->steps = 0;
}

static int tre_push(struct tre_scratch *s, size_t *top, size_t pc, size_t pos) {
    if (tok_reserve(&s->stack, &s->cap, *top + 1, sizeof(struct tre_frame)))
        return -1;
    ((struct tre_frame *)s->stack)[(*top)++] = (struct tre_frame){pc, pos};
    return 0;
}

/* Runs the program from pc at pos; the backtrack stack is s->stack[base..). */
static long tre_run(const struct tre *re, size_t pc, const uint32_t *u, size_t lo, size_t hi,
                    size_t pos, int not_null, struct tre_scratch *s, size_t base) {
    size_t top = base, start = pos;
    int memo = s->memo_on && !not_null;
    for (;;) {
        const struct tre_inst *in = &re->prog[pc];
        s->steps++;
        switch (in->op) {
        case I_UNIT:
            if (pos < hi && u[pos] == (uint32_t)in->x) {
                pos++;
                pc++;
                continue;
            }
            break;
        case I_CLASS:
            if (pos < hi && tre_class_has(re, in->x, u[pos])) {
                pos++;
                pc++;
                continue;
            }
            break;
        case I_ANY:
            if (pos < hi && u[pos] != '\n' && u[pos] != '\r') {
                pos++;
                pc++;
                continue;
            }
            break;
        case I_SPLIT:
            if (memo) {
                if (tre_memo_has(s, pc, pos))
                    break;
                if (tre_push(s, &top, pc | TRE_MARK, pos))
                    return -2;
            }
            if (tre_push(s, &top, (size_t)in->y, pos))
                return -2;
            pc = (size_t)in->x;
            continue;
        case I_JMP:
            pc = (size_t)in->x;
            continue;
        case I_MATCH:
            if (not_null && pos == start)
                break;
            return (long)pos;
        case I_BOL:
            if (pos == lo) {
                pc++;
                continue;
            }
            break;
        case I_EOL:
            if (pos == hi) {
                pc++;
                continue;
            }
            break;
        case I_WORDB: {
            int l = pos > lo && tre_is_word(u[pos - 1]), r = pos < hi && tre_is_word(u[pos]);
            if ((l != r) != in->neg) {
                pc++;
                continue;
            }
            break;
        }
        case I_LOOK: {
            long r = tre_run(re, pc + 1, u, lo, hi, pos, not_null, s, top);
            if (r == -2)
                return -2;
            if ((r >= 0) != in->neg) {
                pc = (size_t)in->x;
                continue;
            }
            break;
        }
        }
        /* this path failed: back to the latest choice (a marker popped: that choice failed) */
        for (;;) {
            if (top == base)
                return -1;
            top--;
            pc = ((struct tre_frame *)s->stack)[top].pc;
            pos = ((struct tre_frame *)s->stack)[top].pos;
            if (!(pc & TRE_MARK))
                break;
            if (tre_memo_add(s, pc & ~TRE_MARK, pos))
                return -2;
        }
    }
}

static long tre_match_piece(const struct tre *re, const uint32_t *u, size_t lo, size_t hi,
                            size_t pos, int not_null, struct tre_scratch *s) {
    return tre_run(re, 0, u, lo, hi, pos, not_null, s, 0);
}

long tre_match(const struct tre *re, const uint32_t *u, size_t lo, size_t hi, size_t pos,
               int not_null, struct tre_scratch *s) {
    s->memo_on = 0; /* the memo belongs to one piece of tre_split */
    return tre_match_piece(re, u, lo, hi, pos, not_null, s);
}

int tre_split(const struct tre *re, const uint32_t *u, size_t lo, size_t hi,
              struct tre_scratch *s, int (*emit)(void *ud, size_t len), void *ud) {
    size_t p = lo, last = lo;
    int after_empty = 0;
    tre_memo_reset(s, lo, hi);
    size_t budget = TRE_MEMO_AFTER * (hi - lo) + TRE_MEMO_MIN;
    for (;;) {
        size_t ms = 0;
        long me = -1;
        if (!s->memo_on && s->steps > budget)
            s->memo_on = 1;
        if (after_empty) {
            /* after an empty match: a non-empty one at the same place, else search on */
            me = tre_match_piece(re, u, lo, hi, p, 1, s);
            if (me == -2)
                return -1;
            if (me >= 0)
                ms = p;
            else
                p++;
        }
        if (me < 0) {
            for (ms = p; ms <= hi; ms++) {
                if (!s->memo_on && s->steps > budget)
                    s->memo_on = 1;
                me = tre_match_piece(re, u, lo, hi, ms, 0, s);
                if (me == -2)
                    return -1;
                if (me >= 0)
                    break;
            }
            if (me < 0)
                break;
        }
        size_t e = (size_t)me;
        if (ms > last && emit(ud, ms - last))
            return -1;
        if (e > ms && emit(ud, e - ms))
            return -1;
        last = e;
        if (e == ms) {
            if (e == hi)
                break;
            after_empty = 1;
            p = ms;
        } else {
            after_empty = 0;
            p = e;
        }
    }
    if (hi > last && emit(ud, hi - last))
        return -1;
    return 0;
}
