/* src/jinja_parse.c — the Jinja parser (after Lua's lparser.c): recursive descent over the
 * lexer's tokens, one function per grammar rule of jinja2's parser.py (same precedence, same
 * quirks, same error words), building the tree of jinja_impl.h in the template's arena. A
 * pass over the finished tree then does what jinja2's compiler checks: unknown filters and
 * tests (errors unless inside an if or a conditional expression, where they fail only when
 * evaluated), 'break' outside a loop, and which of caller/varargs/kwargs a macro uses.
 * Syntax errors longjmp out with "LINE:COL: message". Any thread. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_impl.h"

struct jparser {
    struct jlex lx;
    struct jarena arena;
    struct jarena *a;
    struct jtoken cur, ahead;
    int has_ahead;
    jmp_buf jb;
    char *err;
    size_t err_len;
    int depth;
    const char *tags[JINJA_PARSE_DEPTH_MAX + 8]; /* open block tags, for error messages */
    int n_tags;
    const char *const *ends[JINJA_PARSE_DEPTH_MAX + 8]; /* the end tags looked for */
    int n_ends;
};

static void p_vfail(struct jparser *p, uint32_t line, uint32_t col, const char *fmt,
                    va_list ap) {
    if (p->err_len) {
        int n = snprintf(p->err, p->err_len, "%u:%u: ", line, col);
        if (n >= 0 && (size_t)n < p->err_len)
            vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
    }
    longjmp(p->jb, 1);
}

__attribute__((format(printf, 4, 5), noreturn)) static void
p_fail_at(struct jparser *p, uint32_t line, uint32_t col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    p_vfail(p, line, col, fmt, ap);
    va_end(ap);
    abort();
}

#define P_FAIL(p, tok, ...) p_fail_at(p, (tok)->line, (tok)->col, __VA_ARGS__)

static void lex_fail_cb(void *ud, uint32_t line, uint32_t col, const char *msg) {
    p_fail_at(ud, line, col, "%s", msg);
}

static void arena_fail_cb(void *ud, const char *msg) {
    struct jparser *p = ud;
    p_fail_at(p, p->cur.line, p->cur.col, "%s", msg);
}

/* ---- tokens ---- */

static void p_next(struct jparser *p) {
    if (p->has_ahead) {
        p->cur = p->ahead;
        p->has_ahead = 0;
    } else
        jlex_next(&p->lx, &p->cur);
}

static const struct jtoken *p_look(struct jparser *p) {
    if (!p->has_ahead) {
        jlex_next(&p->lx, &p->ahead);
        p->has_ahead = 1;
    }
    return &p->ahead;
}

static int tok_is_name(const struct jtoken *t, const char *name) {
    return t->t == T_NAME && t->len == strlen(name) && !memcmp(t->p, name, t->len);
}

static int p_is(struct jparser *p, const char *name) {
    return tok_is_name(&p->cur, name);
}

static int p_skip_if(struct jparser *p, enum jtok t) {
    if (p->cur.t != t)
        return 0;
    p_next(p);
    return 1;
}

static int p_skip_name(struct jparser *p, const char *name) {
    if (!p_is(p, name))
        return 0;
    p_next(p);
    return 1;
}

/* describe_token: a name is itself, the rest their description. */
static void tok_describe(const struct jtoken *t, char *buf, size_t cap) {
    if (t->t == T_NAME)
        snprintf(buf, cap, "%.*s", t->len > 60 ? 60 : (int)t->len, t->p);
    else
        snprintf(buf, cap, "%s", jtok_name(t->t));
}

static void p_expect(struct jparser *p, enum jtok t) {
    if (p->cur.t == t) {
        p_next(p);
        return;
    }
    char got[80];
    tok_describe(&p->cur, got, sizeof got);
    if (p->cur.t == T_EOF)
        P_FAIL(p, &p->cur, "unexpected end of template, expected '%s'.", jtok_name(t));
    P_FAIL(p, &p->cur, "expected token '%s', got '%s'", jtok_name(t), got);
}

static void p_expect_name(struct jparser *p, const char *name) {
    if (p_is(p, name)) {
        p_next(p);
        return;
    }
    char got[80];
    tok_describe(&p->cur, got, sizeof got);
    if (p->cur.t == T_EOF)
        P_FAIL(p, &p->cur, "unexpected end of template, expected '%s'.", name);
    P_FAIL(p, &p->cur, "expected token '%s', got '%s'", name, got);
}

static jstr *p_name_str(struct jparser *p, const struct jtoken *t) {
    return js_new(p->a, t->p, t->len, JINJA_ORIGIN_TEMPLATE);
}

/* expect("name"): the name's text */
static jstr *p_expect_ident(struct jparser *p) {
    if (p->cur.t != T_NAME)
        p_expect(p, T_NAME);
    jstr *s = p_name_str(p, &p->cur);
    p_next(p);
    return s;
}

/* ---- nodes ---- */

static struct jnode *node_new(struct jparser *p, int kind, const struct jtoken *at) {
    struct jnode *n = ja_alloc(p->a, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = at->line;
    n->col = at->col;
    n->id = -1;
    return n;
}

/* A growing array of nodes (in the arena). */
struct nvec {
    struct jnode **v;
    size_t n, cap;
};

static void nv_push(struct jparser *p, struct nvec *v, struct jnode *x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 4;
        v->v = ja_grow(p->a, v->v, v->cap * sizeof *v->v, ja_mul(p->a, cap, sizeof *v->v));
        v->cap = cap;
    }
    v->v[v->n++] = x;
}

static void p_enter(struct jparser *p) {
    if (++p->depth > JINJA_PARSE_DEPTH_MAX)
        P_FAIL(p, &p->cur, "template nested too deeply (more than %d levels)",
               JINJA_PARSE_DEPTH_MAX);
}

static void p_leave(struct jparser *p) {
    p->depth--;
}

/* ---- expressions ---- */

static struct jnode *parse_expression(struct jparser *p, int with_condexpr);
static struct jnode *parse_tuple(struct jparser *p, int simplified, int with_condexpr,
                                 const char *const *extra_end, int explicit_parens);
static struct jnode *parse_primary(struct jparser *p);
static struct jnode *parse_postfix(struct jparser *p, struct jnode *node);
static struct jnode *parse_unary(struct jparser *p, int with_filter);
static struct jnode *parse_filter(struct jparser *p, struct jnode *node, int start_inline);

static int tok_in(const struct jtoken *t, const char *const *names) {
    for (; names && *names; names++)
        if (tok_is_name(t, *names))
            return 1;
    return 0;
}

static int is_tuple_end(struct jparser *p, const char *const *extra_end) {
    enum jtok t = p->cur.t;
    return t == T_VAR_END || t == T_BLOCK_END || t == T_RPAREN || tok_in(&p->cur, extra_end);
}

static struct jnode *parse_list(struct jparser *p) {
    struct jnode *n = node_new(p, N_LIST, &p->cur);
    struct nvec items = {0};
    p_expect(p, T_LBRACKET);
    while (p->cur.t != T_RBRACKET) {
        if (items.n)
            p_expect(p, T_COMMA);
        if (p->cur.t == T_RBRACKET)
            break;
        nv_push(p, &items, parse_expression(p, 1));
    }
    p_expect(p, T_RBRACKET);
    n->v = items.v;
    n->n = items.n;
    return n;
}

static struct jnode *parse_dict(struct jparser *p) {
    struct jnode *n = node_new(p, N_DICT, &p->cur);
    struct nvec items = {0};
    p_expect(p, T_LBRACE);
    while (p->cur.t != T_RBRACE) {
        if (items.n)
            p_expect(p, T_COMMA);
        if (p->cur.t == T_RBRACE)
            break;
        nv_push(p, &items, parse_expression(p, 1));
        p_expect(p, T_COLON);
        nv_push(p, &items, parse_expression(p, 1));
    }
    p_expect(p, T_RBRACE);
    n->v = items.v;
    n->n = items.n;
    return n;
}

static struct jnode *parse_primary(struct jparser *p) {
    struct jtoken t = p->cur;
    struct jnode *n;
    switch (t.t) {
    case T_NAME:
        if (tok_is_name(&t, "true") || tok_is_name(&t, "True") || tok_is_name(&t, "false") ||
            tok_is_name(&t, "False")) {
            n = node_new(p, N_CONST, &t);
            n->val = jv_bool(t.p[0] == 't' || t.p[0] == 'T');
        } else if (tok_is_name(&t, "none") || tok_is_name(&t, "None")) {
            n = node_new(p, N_CONST, &t);
            n->val = JV_NONE;
        } else {
            n = node_new(p, N_NAME, &t);
            n->name = p_name_str(p, &t);
        }
        p_next(p);
        return n;
    case T_STRING: {
        n = node_new(p, N_CONST, &t);
        jstr *s = t.str;
        p_next(p);
        if (p->cur.t == T_STRING) { /* adjacent literals join */
            struct jsb b;
            jsb_init(&b, p->a, 0);
            jsb_putjs(&b, s);
            while (p->cur.t == T_STRING) {
                jsb_putjs(&b, p->cur.str);
                p_next(p);
            }
            s = jsb_done(&b);
        }
        n->val = jv_str(s);
        return n;
    }
    case T_INT:
        n = node_new(p, N_CONST, &t);
        n->val = jv_int(t.i);
        p_next(p);
        return n;
    case T_FLOAT:
        n = node_new(p, N_CONST, &t);
        n->val = jv_float(t.f);
        p_next(p);
        return n;
    case T_LPAREN:
        p_next(p);
        n = parse_tuple(p, 0, 1, NULL, 1);
        p_expect(p, T_RPAREN);
        return n;
    case T_LBRACKET:
        return parse_list(p);
    case T_LBRACE:
        return parse_dict(p);
    default: {
        char got[80];
        tok_describe(&t, got, sizeof got);
        P_FAIL(p, &t, "unexpected '%s'", got);
    }
    }
}

static struct jnode *parse_tuple(struct jparser *p, int simplified, int with_condexpr,
                                 const char *const *extra_end, int explicit_parens) {
    struct jtoken start = p->cur;
    struct nvec args = {0};
    int is_tuple = 0;
    p_enter(p);
    for (;;) {
        if (args.n)
            p_expect(p, T_COMMA);
        if (is_tuple_end(p, extra_end))
            break;
        nv_push(p, &args, simplified ? parse_primary(p) : parse_expression(p, with_condexpr));
        if (p->cur.t == T_COMMA)
            is_tuple = 1;
        else
            break;
    }
    p_leave(p);
    if (!is_tuple) {
        if (args.n)
            return args.v[0];
        if (!explicit_parens) {
            char got[80];
            tok_describe(&p->cur, got, sizeof got);
            P_FAIL(p, &p->cur, "Expected an expression, got '%s'", got);
        }
    }
    struct jnode *n = node_new(p, N_TUPLE, &start);
    n->v = args.v;
    n->n = args.n;
    return n;
}

static struct jcall *parse_call_args(struct jparser *p) {
    struct jtoken lp = p->cur;
    struct jcall *c = ja_alloc(p->a, sizeof *c);
    struct nvec pos = {0}, kw = {0};
    jstr **names = NULL;
    size_t names_cap = 0;
    int require_comma = 0;
    p_expect(p, T_LPAREN);
#define ENSURE(x) \
    do { if (!(x)) P_FAIL(p, &lp, "invalid syntax for function call expression"); } while (0)
    while (p->cur.t != T_RPAREN) {
        if (require_comma) {
            p_expect(p, T_COMMA);
            if (p->cur.t == T_RPAREN)
                break;
        }
        if (p->cur.t == T_MUL) {
            ENSURE(!c->dyn_args && !c->dyn_kwargs);
            p_next(p);
            c->dyn_args = parse_expression(p, 1);
        } else if (p->cur.t == T_POW) {
            ENSURE(!c->dyn_kwargs);
            p_next(p);
            c->dyn_kwargs = parse_expression(p, 1);
        } else if (p->cur.t == T_NAME && p_look(p)->t == T_ASSIGN) {
            ENSURE(!c->dyn_kwargs);
            jstr *key = p_name_str(p, &p->cur);
            p_next(p);
            p_next(p);
            if (kw.n == names_cap) {
                size_t cap = names_cap ? 2 * names_cap : 4;
                names = ja_grow(p->a, names, names_cap * sizeof *names,
                                ja_mul(p->a, cap, sizeof *names));
                names_cap = cap;
            }
            names[kw.n] = key;
            nv_push(p, &kw, parse_expression(p, 1));
        } else {
            ENSURE(!c->dyn_args && !c->dyn_kwargs && !kw.n);
            nv_push(p, &pos, parse_expression(p, 1));
        }
        require_comma = 1;
    }
#undef ENSURE
    p_expect(p, T_RPAREN);
    c->pos = pos.v;
    c->n_pos = pos.n;
    c->kw = kw.v;
    c->kw_name = names;
    c->n_kw = kw.n;
    return c;
}

static struct jnode *parse_call(struct jparser *p, struct jnode *callee) {
    struct jnode *n = node_new(p, N_CALL, &p->cur);
    n->line = callee->line; /* errors of a call point at what is called */
    n->col = callee->col;
    n->a = callee;
    n->call = parse_call_args(p);
    return n;
}

static struct jnode *parse_subscribed(struct jparser *p) {
    struct jtoken start = p->cur;
    struct jnode *args[3] = {NULL, NULL, NULL};
    if (p->cur.t == T_COLON) {
        p_next(p);
    } else {
        struct jnode *node = parse_expression(p, 1);
        if (p->cur.t != T_COLON)
            return node;
        p_next(p);
        args[0] = node;
    }
    if (p->cur.t != T_COLON && p->cur.t != T_RBRACKET && p->cur.t != T_COMMA)
        args[1] = parse_expression(p, 1);
    if (p->cur.t == T_COLON) {
        p_next(p);
        if (p->cur.t != T_RBRACKET && p->cur.t != T_COMMA)
            args[2] = parse_expression(p, 1);
    }
    struct jnode *n = node_new(p, N_SLICE, &start);
    n->a = args[0];
    n->b = args[1];
    n->c = args[2];
    return n;
}

static struct jnode *parse_subscript(struct jparser *p, struct jnode *node) {
    struct jtoken t = p->cur;
    p_next(p);
    if (t.t == T_DOT) {
        struct jtoken attr = p->cur;
        p_next(p);
        if (attr.t == T_NAME) {
            struct jnode *n = node_new(p, N_GETATTR, &t);
            n->a = node;
            n->name = p_name_str(p, &attr);
            return n;
        }
        if (attr.t != T_INT)
            P_FAIL(p, &attr, "expected name or number");
        struct jnode *k = node_new(p, N_CONST, &attr);
        k->val = jv_int(attr.i);
        struct jnode *n = node_new(p, N_GETITEM, &t);
        n->a = node;
        n->b = k;
        return n;
    }
    /* '[' */
    struct nvec args = {0};
    while (p->cur.t != T_RBRACKET) {
        if (args.n)
            p_expect(p, T_COMMA);
        nv_push(p, &args, parse_subscribed(p));
    }
    p_expect(p, T_RBRACKET);
    struct jnode *n = node_new(p, N_GETITEM, &t);
    n->a = node;
    if (args.n == 1)
        n->b = args.v[0];
    else {
        n->b = node_new(p, N_TUPLE, &t);
        n->b->v = args.v;
        n->b->n = args.n;
    }
    return n;
}

/* Chains (a.b.c, a + b + c, x|f|g ...) make left-deep trees: each link counts as a level
 * of nesting, so the tree's height stays bounded (check_node and the evaluator recurse). */
static struct jnode *parse_postfix(struct jparser *p, struct jnode *node) {
    int k = 0;
    for (;; k++) {
        if (p->cur.t == T_DOT || p->cur.t == T_LBRACKET) {
            p_enter(p);
            node = parse_subscript(p, node);
        } else if (p->cur.t == T_LPAREN) {
            p_enter(p);
            node = parse_call(p, node);
        } else
            break;
    }
    p->depth -= k;
    return node;
}

/* A filter or test name, dotted parts joined. */
static jstr *parse_dotted_name(struct jparser *p) {
    jstr *name = p_expect_ident(p);
    while (p->cur.t == T_DOT) {
        p_next(p);
        jstr *part = p_expect_ident(p);
        struct jsb b;
        jsb_init(&b, p->a, 0);
        jsb_putjs(&b, name);
        jsb_putc(&b, '.', JINJA_ORIGIN_TEMPLATE);
        jsb_putjs(&b, part);
        name = jsb_done(&b);
    }
    return name;
}

static struct jnode *parse_filter(struct jparser *p, struct jnode *node, int start_inline) {
    int k = 0;
    for (; p->cur.t == T_PIPE || start_inline; k++) {
        p_enter(p);
        if (!start_inline)
            p_next(p);
        struct jtoken t = p->cur;
        struct jnode *n = node_new(p, N_FILTER, &t);
        n->name = parse_dotted_name(p);
        n->id = jb_filter_find(n->name->s, n->name->len);
        n->call = p->cur.t == T_LPAREN ? parse_call_args(p) : ja_alloc(p->a, sizeof *n->call);
        n->a = node;
        node = n;
        start_inline = 0;
    }
    p->depth -= k;
    return node;
}

static struct jnode *parse_test(struct jparser *p, struct jnode *node) {
    struct jtoken is = p->cur;
    p_next(p);
    int negated = p_skip_name(p, "not");
    struct jnode *n = node_new(p, N_TEST, &is);
    n->name = parse_dotted_name(p);
    n->id = jb_test_find(n->name->s, n->name->len);
    n->a = node;
    enum jtok t = p->cur.t;
    if (t == T_LPAREN)
        n->call = parse_call_args(p);
    else {
        n->call = ja_alloc(p->a, sizeof *n->call);
        if ((t == T_NAME || t == T_STRING || t == T_INT || t == T_FLOAT || t == T_LBRACKET ||
             t == T_LBRACE) &&
            !p_is(p, "else") && !p_is(p, "or") && !p_is(p, "and")) {
            if (p_is(p, "is"))
                P_FAIL(p, &p->cur, "You cannot chain multiple tests with is");
            struct jnode *arg = parse_postfix(p, parse_primary(p));
            n->call->pos = ja_alloc(p->a, sizeof *n->call->pos);
            n->call->pos[0] = arg;
            n->call->n_pos = 1;
        }
    }
    if (!negated)
        return n;
    struct jnode *no = node_new(p, N_NOT, &is);
    no->a = n;
    return no;
}

static struct jnode *parse_filter_expr(struct jparser *p, struct jnode *node) {
    int k = 0;
    for (;; k++) {
        if (p->cur.t == T_PIPE || p_is(p, "is") || p->cur.t == T_LPAREN)
            p_enter(p);
        if (p->cur.t == T_PIPE)
            node = parse_filter(p, node, 0);
        else if (p_is(p, "is"))
            node = parse_test(p, node);
        else if (p->cur.t == T_LPAREN)
            node = parse_call(p, node);
        else
            break;
    }
    p->depth -= k;
    return node;
}

static struct jnode *parse_unary(struct jparser *p, int with_filter) {
    struct jtoken t = p->cur;
    struct jnode *node;
    p_enter(p);
    if (t.t == T_SUB || t.t == T_ADD) {
        p_next(p);
        node = node_new(p, t.t == T_SUB ? N_NEG : N_POS, &t);
        node->a = parse_unary(p, 0);
    } else
        node = parse_primary(p);
    node = parse_postfix(p, node);
    if (with_filter)
        node = parse_filter_expr(p, node);
    p_leave(p);
    return node;
}

static struct jnode *binop(struct jparser *p, const struct jtoken *t, int op, struct jnode *l,
                           struct jnode *r) {
    struct jnode *n = node_new(p, N_BINOP, t);
    n->op = (uint8_t)op;
    n->a = l;
    n->b = r;
    return n;
}

static struct jnode *parse_pow(struct jparser *p) {
    struct jnode *left = parse_unary(p, 1);
    int k = 0;
    for (; p->cur.t == T_POW; k++) {
        struct jtoken t = p->cur;
        p_enter(p);
        p_next(p);
        left = binop(p, &t, OP_POW, left, parse_unary(p, 1));
    }
    p->depth -= k;
    return left;
}

static struct jnode *parse_math2(struct jparser *p) {
    struct jnode *left = parse_pow(p);
    int n = 0;
    for (;; n++) {
        enum jtok k = p->cur.t;
        int op = k == T_MUL ? OP_MUL : k == T_DIV ? OP_DIV : k == T_FLOORDIV ? OP_FLOORDIV
                 : k == T_MOD ? OP_MOD : -1;
        if (op < 0)
            break;
        struct jtoken t = p->cur;
        p_enter(p);
        p_next(p);
        left = binop(p, &t, op, left, parse_pow(p));
    }
    p->depth -= n;
    return left;
}

static struct jnode *parse_concat(struct jparser *p) {
    struct jtoken start = p->cur;
    struct jnode *first = parse_math2(p);
    if (p->cur.t != T_TILDE)
        return first;
    struct nvec args = {0};
    nv_push(p, &args, first);
    while (p->cur.t == T_TILDE) {
        p_next(p);
        nv_push(p, &args, parse_math2(p));
    }
    struct jnode *n = node_new(p, N_CONCAT, &start);
    n->v = args.v;
    n->n = args.n;
    return n;
}

static struct jnode *parse_math1(struct jparser *p) {
    struct jnode *left = parse_concat(p);
    int k = 0;
    for (; p->cur.t == T_ADD || p->cur.t == T_SUB; k++) {
        struct jtoken t = p->cur;
        p_enter(p);
        p_next(p);
        left = binop(p, &t, t.t == T_ADD ? OP_ADD : OP_SUB, left, parse_concat(p));
    }
    p->depth -= k;
    return left;
}

static struct jnode *parse_compare(struct jparser *p) {
    struct jtoken start = p->cur;
    struct jnode *expr = parse_math1(p);
    struct nvec ops = {0};
    for (;;) {
        enum jtok k = p->cur.t;
        struct jtoken t = p->cur;
        int op = k == T_EQ ? OP_EQ : k == T_NE ? OP_NE : k == T_LT ? OP_LT
                 : k == T_LTEQ ? OP_LTEQ : k == T_GT ? OP_GT : k == T_GTEQ ? OP_GTEQ : -1;
        if (op >= 0)
            p_next(p);
        else if (p_is(p, "in")) {
            p_next(p);
            op = OP_IN;
        } else if (p_is(p, "not") && tok_is_name(p_look(p), "in")) {
            p_next(p);
            p_next(p);
            op = OP_NOTIN;
        } else
            break;
        struct jnode *o = node_new(p, N_OPERAND, &t);
        o->op = (uint8_t)op;
        o->a = parse_math1(p);
        nv_push(p, &ops, o);
    }
    if (!ops.n)
        return expr;
    struct jnode *n = node_new(p, N_COMPARE, &start);
    n->a = expr;
    n->v = ops.v;
    n->n = ops.n;
    return n;
}

static struct jnode *parse_not(struct jparser *p) {
    if (p_is(p, "not")) {
        struct jtoken t = p->cur;
        p_next(p);
        p_enter(p);
        struct jnode *n = node_new(p, N_NOT, &t);
        n->a = parse_not(p);
        p_leave(p);
        return n;
    }
    return parse_compare(p);
}

static struct jnode *parse_and(struct jparser *p) {
    struct jnode *left = parse_not(p);
    int k = 0;
    for (; p_is(p, "and"); k++) {
        struct jtoken t = p->cur;
        p_enter(p);
        p_next(p);
        struct jnode *n = node_new(p, N_AND, &t);
        n->a = left;
        n->b = parse_not(p);
        left = n;
    }
    p->depth -= k;
    return left;
}

static struct jnode *parse_or(struct jparser *p) {
    struct jnode *left = parse_and(p);
    int k = 0;
    for (; p_is(p, "or"); k++) {
        struct jtoken t = p->cur;
        p_enter(p);
        p_next(p);
        struct jnode *n = node_new(p, N_OR, &t);
        n->a = left;
        n->b = parse_and(p);
        left = n;
    }
    p->depth -= k;
    return left;
}

static struct jnode *parse_condexpr(struct jparser *p) {
    struct jnode *expr1 = parse_or(p);
    int k = 0;
    for (; p_is(p, "if"); k++) {
        struct jtoken t = p->cur;
        p_enter(p);
        p_next(p);
        struct jnode *n = node_new(p, N_CONDEXPR, &t);
        n->a = parse_or(p);
        n->b = expr1;
        if (p_skip_name(p, "else")) {
            p_enter(p);
            n->c = parse_condexpr(p);
            p_leave(p);
        }
        expr1 = n;
    }
    p->depth -= k;
    return expr1;
}

static struct jnode *parse_expression(struct jparser *p, int with_condexpr) {
    p_enter(p);
    struct jnode *n = with_condexpr ? parse_condexpr(p) : parse_or(p);
    p_leave(p);
    return n;
}

/* ---- assignment targets ---- */

static int can_assign(const struct jnode *n, const char **what) {
    switch (n->kind) {
    case N_NAME:
        return 1;
    case N_NSREF:
        return 1;
    case N_TUPLE:
        for (size_t i = 0; i < n->n; i++)
            if (!can_assign(n->v[i], what)) {
                *what = "tuple";
                return 0;
            }
        return 1;
    case N_CONST:
        *what = "const";
        return 0;
    case N_LIST:
        *what = "list";
        return 0;
    case N_DICT:
        *what = "dict";
        return 0;
    default:
        *what = "expression";
        return 0;
    }
}

static struct jnode *parse_assign_target(struct jparser *p, int with_tuple, int name_only,
                                         const char *const *extra_end, int with_namespace) {
    struct jtoken t = p->cur;
    struct jnode *target;
    if (with_namespace && p_look(p)->t == T_DOT) {
        jstr *ns = p_expect_ident(p);
        p_next(p); /* the dot */
        target = node_new(p, N_NSREF, &t);
        target->name = p_expect_ident(p);
        target->a = node_new(p, N_NAME, &t);
        target->a->name = ns;
        return target;
    }
    if (name_only) {
        target = node_new(p, N_NAME, &t);
        target->name = p_expect_ident(p);
    } else
        target = with_tuple ? parse_tuple(p, 1, 1, extra_end, 0) : parse_primary(p);
    const char *what = "expression";
    if (!can_assign(target, &what))
        P_FAIL(p, &t, "can't assign to '%s'", what);
    return target;
}

/* ---- statements ---- */

static struct nvec subparse(struct jparser *p, const char *const *end_tokens);

static void p_fail_unknown(struct jparser *p, const struct jtoken *at, const char *name) {
    char msg[512];
    size_t o = 0;
    if (name)
        o += (size_t)snprintf(msg, sizeof msg, "Encountered unknown tag '%s'.", name);
    else
        o += (size_t)snprintf(msg, sizeof msg, "Unexpected end of template.");
    if (p->n_ends) {
        const char *const *cur = p->ends[p->n_ends - 1];
        char looking[160] = "";
        size_t l = 0;
        for (const char *const *e = cur; *e && l < sizeof looking; e++)
            l += (size_t)snprintf(looking + l, sizeof looking - l, "%s'%s'", e == cur ? "" : " or ",
                                  *e);
        int expected = 0;
        for (int i = 0; name && i < p->n_ends; i++)
            for (const char *const *e = p->ends[i]; *e; e++)
                expected |= !strcmp(*e, name);
        if (o < sizeof msg) {
            if (expected)
                o += (size_t)snprintf(msg + o, sizeof msg - o,
                                      " You probably made a nesting mistake. Jinja is expecting "
                                      "this tag, but currently looking for %s.", looking);
            else
                o += (size_t)snprintf(msg + o, sizeof msg - o,
                                      " Jinja was looking for the following tags: %s.", looking);
        }
    }
    if (p->n_tags && o < sizeof msg)
        snprintf(msg + o, sizeof msg - o, " The innermost block that needs to be closed is '%s'.",
                 p->tags[p->n_tags - 1]);
    P_FAIL(p, at, "%s", msg);
}

/* Block end, body up to one of end_tokens (left as the current token, or dropped). */
static struct nvec parse_statements(struct jparser *p, const char *const *end_tokens,
                                    int drop_needle) {
    p_skip_if(p, T_COLON);
    p_expect(p, T_BLOCK_END);
    struct nvec body = subparse(p, end_tokens);
    if (p->cur.t == T_EOF) {
        p->ends[p->n_ends++] = end_tokens;
        p_fail_unknown(p, &p->cur, NULL);
    }
    if (drop_needle)
        p_next(p);
    return body;
}

static void set_body(struct jnode *n, struct nvec b) {
    n->v = b.v;
    n->n = b.n;
}

static struct jnode *parse_set(struct jparser *p, const struct jtoken *t) {
    static const char *const end_set[] = {"endset", NULL};
    struct jnode *target = parse_assign_target(p, 1, 0, NULL, 1);
    if (p_skip_if(p, T_ASSIGN)) {
        struct jnode *n = node_new(p, N_SET, t);
        n->a = target;
        n->b = parse_tuple(p, 0, 1, NULL, 0);
        return n;
    }
    struct jnode *n = node_new(p, N_SETBLOCK, t);
    n->a = target;
    n->b = parse_filter(p, NULL, 0);
    set_body(n, parse_statements(p, end_set, 1));
    return n;
}

static struct jnode *parse_for(struct jparser *p, const struct jtoken *t) {
    static const char *const end_in[] = {"in", NULL}, *const end_rec[] = {"recursive", NULL},
                             *const end_body[] = {"endfor", "else", NULL},
                             *const end_for[] = {"endfor", NULL};
    struct jnode *n = node_new(p, N_FOR, t);
    n->a = parse_assign_target(p, 1, 0, end_in, 0);
    p_expect_name(p, "in");
    n->b = parse_tuple(p, 0, 0, end_rec, 0);
    if (p_skip_name(p, "if"))
        n->c = parse_expression(p, 1);
    n->flags = (uint8_t)p_skip_name(p, "recursive");
    set_body(n, parse_statements(p, end_body, 0));
    int is_end = p_is(p, "endfor");
    p_next(p);
    if (!is_end) {
        struct nvec e = parse_statements(p, end_for, 1);
        n->w = e.v;
        n->nw = e.n;
    }
    return n;
}

static struct jnode *parse_if(struct jparser *p, const struct jtoken *t) {
    static const char *const end_body[] = {"elif", "else", "endif", NULL},
                             *const end_if[] = {"endif", NULL};
    struct jnode *result = node_new(p, N_IF, t), *node = result;
    int k = 0; /* an elif nests in the else branch: a level each */
    for (;; k++) {
        node->a = parse_tuple(p, 0, 0, NULL, 0);
        set_body(node, parse_statements(p, end_body, 0));
        struct jtoken tok = p->cur;
        p_next(p);
        if (tok_is_name(&tok, "elif")) {
            p_enter(p);
            struct jnode *next = node_new(p, N_IF, &tok);
            node->w = ja_alloc(p->a, sizeof *node->w);
            node->w[0] = next;
            node->nw = 1;
            node = next;
            continue;
        }
        if (tok_is_name(&tok, "else")) {
            struct nvec e = parse_statements(p, end_if, 1);
            node->w = e.v;
            node->nw = e.n;
        }
        p->depth -= k;
        return result;
    }
}

static struct jnode *parse_with(struct jparser *p, const struct jtoken *t) {
    static const char *const end_with[] = {"endwith", NULL};
    struct jnode *n = node_new(p, N_WITH, t);
    struct nvec pairs = {0};
    while (p->cur.t != T_BLOCK_END) {
        if (pairs.n)
            p_expect(p, T_COMMA);
        nv_push(p, &pairs, parse_assign_target(p, 1, 0, NULL, 0));
        p_expect(p, T_ASSIGN);
        nv_push(p, &pairs, parse_expression(p, 1));
    }
    n->w = pairs.v;
    n->nw = pairs.n;
    set_body(n, parse_statements(p, end_with, 1));
    return n;
}

static struct jsig *parse_signature(struct jparser *p) {
    struct jsig *s = ja_alloc(p->a, sizeof *s);
    struct nvec defs = {0};
    size_t cap = 0;
    p_expect(p, T_LPAREN);
    while (p->cur.t != T_RPAREN) {
        if (s->n)
            p_expect(p, T_COMMA);
        struct jtoken at = p->cur;
        jstr *name = p_expect_ident(p);
        if (p_skip_if(p, T_ASSIGN))
            nv_push(p, &defs, parse_expression(p, 1));
        else if (defs.n)
            P_FAIL(p, &at, "non-default argument follows default argument");
        if (s->n == cap) {
            size_t c = cap ? 2 * cap : 4;
            s->name = ja_grow(p->a, s->name, cap * sizeof *s->name, ja_mul(p->a, c, sizeof(jstr *)));
            cap = c;
        }
        s->name[s->n++] = name;
    }
    p_expect(p, T_RPAREN);
    s->def = defs.v;
    s->n_def = defs.n;
    return s;
}

static struct jnode *parse_macro(struct jparser *p, const struct jtoken *t) {
    static const char *const end_macro[] = {"endmacro", NULL};
    struct jnode *n = node_new(p, N_MACRO, t);
    n->name = p_expect_ident(p);
    n->sig = parse_signature(p);
    set_body(n, parse_statements(p, end_macro, 1));
    return n;
}

static struct jnode *parse_call_block(struct jparser *p, const struct jtoken *t) {
    static const char *const end_call[] = {"endcall", NULL};
    struct jnode *n = node_new(p, N_CALLBLOCK, t);
    if (p->cur.t == T_LPAREN)
        n->sig = parse_signature(p);
    else
        n->sig = ja_alloc(p->a, sizeof *n->sig);
    n->a = parse_expression(p, 1);
    if (n->a->kind != N_CALL)
        P_FAIL(p, t, "expected call");
    set_body(n, parse_statements(p, end_call, 1));
    return n;
}

static struct jnode *parse_statement(struct jparser *p) {
    struct jtoken t = p->cur;
    if (t.t != T_NAME)
        P_FAIL(p, &t, "tag name expected");
    static const char *const known[] = {
        "for", "if", "set", "macro", "call", "filter", "with", "block", "print", "generation",
        "break", "continue", "extends", "include", "import", "from", "autoescape", NULL};
    const char *tag = NULL;
    for (const char *const *k = known; *k; k++)
        if (tok_is_name(&t, *k))
            tag = *k;
    if (!tag) {
        char name[80];
        tok_describe(&t, name, sizeof name);
        p_fail_unknown(p, &t, name);
    }
    p->tags[p->n_tags++] = tag;
    p_next(p);
    struct jnode *n;
    if (!strcmp(tag, "for"))
        n = parse_for(p, &t);
    else if (!strcmp(tag, "if"))
        n = parse_if(p, &t);
    else if (!strcmp(tag, "set"))
        n = parse_set(p, &t);
    else if (!strcmp(tag, "macro"))
        n = parse_macro(p, &t);
    else if (!strcmp(tag, "call"))
        n = parse_call_block(p, &t);
    else if (!strcmp(tag, "filter")) {
        static const char *const end_filter[] = {"endfilter", NULL};
        n = node_new(p, N_FILTERBLOCK, &t);
        n->b = parse_filter(p, NULL, 1);
        set_body(n, parse_statements(p, end_filter, 1));
    } else if (!strcmp(tag, "with"))
        n = parse_with(p, &t);
    else if (!strcmp(tag, "block")) {
        static const char *const end_block[] = {"endblock", NULL};
        n = node_new(p, N_BODY, &t);
        jstr *name = p_expect_ident(p);
        p_skip_name(p, "scoped");
        p_skip_name(p, "required");
        if (p->cur.t == T_SUB)
            P_FAIL(p, &p->cur, "Block names in Jinja have to be valid Python identifiers and "
                               "may not contain hyphens, use an underscore instead.");
        set_body(n, parse_statements(p, end_block, 1));
        if (p->cur.t == T_NAME && p->cur.len == name->len && !memcmp(p->cur.p, name->s, name->len))
            p_next(p);
    } else if (!strcmp(tag, "print")) {
        struct nvec prints = {0};
        n = node_new(p, N_BODY, &t);
        while (p->cur.t != T_BLOCK_END) {
            if (prints.n)
                p_expect(p, T_COMMA);
            struct jnode *pr = node_new(p, N_PRINT, &p->cur);
            pr->a = parse_expression(p, 1);
            nv_push(p, &prints, pr);
        }
        set_body(n, prints);
    } else if (!strcmp(tag, "generation")) {
        static const char *const end_gen[] = {"endgeneration", NULL};
        n = node_new(p, N_BODY, &t);
        set_body(n, parse_statements(p, end_gen, 1));
    } else if (!strcmp(tag, "break"))
        n = node_new(p, N_BREAK, &t);
    else if (!strcmp(tag, "continue"))
        n = node_new(p, N_CONTINUE, &t);
    else
        P_FAIL(p, &t, "'%s' is not supported (there is no template loader)", tag);
    p->n_tags--;
    return n;
}

static struct nvec subparse(struct jparser *p, const char *const *end_tokens) {
    struct nvec body = {0};
    p_enter(p);
    if (end_tokens)
        p->ends[p->n_ends++] = end_tokens;
    for (;;) {
        struct jtoken t = p->cur;
        if (t.t == T_EOF)
            break;
        if (t.t == T_DATA) {
            struct jnode *n = node_new(p, N_DATA, &t);
            n->name = js_new(p->a, t.p, t.len, JINJA_ORIGIN_TEMPLATE);
            nv_push(p, &body, n);
            p_next(p);
        } else if (t.t == T_VAR_BEGIN) {
            p_next(p);
            struct jnode *n = node_new(p, N_PRINT, &p->cur);
            n->a = parse_tuple(p, 0, 1, NULL, 0);
            nv_push(p, &body, n);
            p_expect(p, T_VAR_END);
        } else if (t.t == T_BLOCK_BEGIN) {
            p_next(p);
            if (end_tokens && tok_in(&p->cur, end_tokens))
                break;
            nv_push(p, &body, parse_statement(p));
            p_expect(p, T_BLOCK_END);
        } else {
            char got[80];
            tok_describe(&t, got, sizeof got);
            P_FAIL(p, &t, "unexpected '%s'", got);
        }
    }
    if (end_tokens)
        p->n_ends--;
    p_leave(p);
    return body;
}

/* ---- the compiler's checks ---- */

static void check_node(struct jparser *p, const struct jnode *n, int soft, int in_loop);

static void check_list(struct jparser *p, struct jnode *const *v, size_t n, int soft,
                       int in_loop) {
    for (size_t i = 0; i < n; i++)
        check_node(p, v[i], soft, in_loop);
}

static void check_call(struct jparser *p, const struct jcall *c, int soft) {
    if (!c)
        return;
    check_list(p, c->pos, c->n_pos, soft, 0);
    check_list(p, c->kw, c->n_kw, soft, 0);
    if (c->dyn_args)
        check_node(p, c->dyn_args, soft, 0);
    if (c->dyn_kwargs)
        check_node(p, c->dyn_kwargs, soft, 0);
}

/* The MAC_* names the subtree at n loads. */
static int uses_names(const struct jnode *n) {
    if (!n)
        return 0;
    int f = 0;
    if (n->kind == N_NAME)
        f |= js_eqc(n->name, "caller") ? MAC_CALLER : js_eqc(n->name, "varargs") ? MAC_VARARGS
             : js_eqc(n->name, "kwargs") ? MAC_KWARGS : 0;
    f |= uses_names(n->a) | uses_names(n->b) | uses_names(n->c);
    for (size_t i = 0; i < n->n; i++)
        f |= uses_names(n->v[i]);
    for (size_t i = 0; i < n->nw; i++)
        f |= uses_names(n->w[i]);
    if (n->call) {
        for (size_t i = 0; i < n->call->n_pos; i++)
            f |= uses_names(n->call->pos[i]);
        for (size_t i = 0; i < n->call->n_kw; i++)
            f |= uses_names(n->call->kw[i]);
        f |= uses_names(n->call->dyn_args) | uses_names(n->call->dyn_kwargs);
    }
    if (n->sig)
        for (size_t i = 0; i < n->sig->n_def; i++)
            f |= uses_names(n->sig->def[i]);
    return f;
}

static void check_node(struct jparser *p, const struct jnode *cn, int soft, int in_loop) {
    struct jnode *n = (struct jnode *)cn;
    if (!n)
        return;
    switch (n->kind) {
    case N_FILTER:
    case N_TEST:
        if (n->id < 0) {
            if (!soft)
                p_fail_at(p, n->line, n->col, "No %s named '%s'.",
                          n->kind == N_FILTER ? "filter" : "test", n->name->s);
            n->flags = 1;
        }
        check_node(p, n->a, soft, 0);
        check_call(p, n->call, soft);
        return;
    case N_IF:
        check_node(p, n->a, 1, 0);
        check_list(p, n->v, n->n, 1, in_loop);
        check_list(p, n->w, n->nw, 1, in_loop);
        return;
    case N_CONDEXPR:
        check_node(p, n->a, 1, 0);
        check_node(p, n->b, 1, 0);
        check_node(p, n->c, 1, 0);
        return;
    case N_FOR:
        check_node(p, n->b, soft, 0);
        check_node(p, n->c, 0, 0);
        check_list(p, n->v, n->n, 0, 1);
        check_list(p, n->w, n->nw, 0, in_loop);
        return;
    case N_MACRO:
    case N_CALLBLOCK:
        n->flags = 0;
        for (size_t i = 0; i < n->n; i++)
            n->flags |= (uint8_t)uses_names(n->v[i]);
        for (size_t i = 0; i < n->sig->n; i++) /* a parameter named so is not the special one */
            n->flags &= (uint8_t) ~(js_eqc(n->sig->name[i], "caller") ? MAC_CALLER
                                    : js_eqc(n->sig->name[i], "varargs") ? MAC_VARARGS
                                    : js_eqc(n->sig->name[i], "kwargs") ? MAC_KWARGS : 0);
        check_list(p, n->sig->def, n->sig->n_def, 0, 0);
        check_node(p, n->a, soft, 0);
        check_list(p, n->v, n->n, 0, 0);
        return;
    case N_SETBLOCK:
        check_node(p, n->b, 0, 0);
        check_list(p, n->v, n->n, 0, in_loop);
        return;
    case N_FILTERBLOCK:
        check_node(p, n->b, 0, 0);
        check_list(p, n->v, n->n, 0, in_loop);
        return;
    case N_WITH:
        for (size_t i = 1; i < n->nw; i += 2)
            check_node(p, n->w[i], soft, 0);
        check_list(p, n->v, n->n, 0, in_loop);
        return;
    case N_BODY:
        check_list(p, n->v, n->n, 0, in_loop);
        return;
    case N_BREAK:
    case N_CONTINUE:
        if (!in_loop)
            p_fail_at(p, n->line, n->col, "'%s' outside loop",
                      n->kind == N_BREAK ? "break" : "continue");
        return;
    default:
        check_node(p, n->a, soft, 0);
        check_node(p, n->b, soft, 0);
        check_node(p, n->c, soft, 0);
        check_list(p, n->v, n->n, soft, in_loop);
        check_list(p, n->w, n->nw, soft, in_loop);
        check_call(p, n->call, soft);
    }
}

/* ---- entry ---- */

void jinja_free(jinja_tmpl *t) {
    if (!t)
        return;
    struct jarena a = t->a; /* t lives in its own arena */
    ja_free(&a);
}

int jinja_parse(const char *src, size_t len, jinja_tmpl **out, char *err, size_t err_len) {
    *out = NULL;
    if (err_len)
        err[0] = 0;
    locale_t c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c_loc ? uselocale(c_loc) : (locale_t)0;
    struct jparser *volatile pv = calloc(1, sizeof *pv);
    int rc = -1;
    if (!pv) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    struct jparser *p = pv;
    p->a = &p->arena;
    p->err = err;
    p->err_len = err_len;
    p->arena.fail = arena_fail_cb;
    p->arena.ud = p;
    p->arena.limit = JINJA_PARSE_MEMORY_MAX;
    if (setjmp(p->jb)) {
        ja_free(&pv->arena);
        goto out;
    }
    jinja_tmpl *t = ja_alloc(p->a, sizeof *t);
    p->lx.fail = lex_fail_cb;
    p->lx.ud = p;
    jlex_init(&p->lx, p->a, src ? src : "", src ? len : 0);
    p_next(p);
    struct nvec body = subparse(p, NULL);
    check_list(p, body.v, body.n, 0, 0);
    t->body = body.v;
    t->n = body.n;
    t->a = p->arena; /* the template owns the arena from here on */
    *out = t;
    rc = 0;
out:
    free(pv);
    if (c_loc) {
        uselocale(old);
        freelocale(c_loc);
    }
    return rc;
}
