/* src/jinja_impl.h — what the Jinja engine's modules share (not for callers: they use
 * jinja.h). An arena allocator whose failures jump to the caller's recovery point (Lua's
 * luaD_throw style: parser and evaluator raise errors with longjmp, and everything allocated
 * since lives in an arena, so nothing leaks); strings carrying per-byte origins; the value
 * kinds; the syntax tree; the render state; the functions each module offers the others.
 *
 * Modules: jinja_lex.c (tokens), jinja_parse.c (tree), jinja_value.c (arena, strings,
 * containers, Python repr/str/equality/ordering, JSON in and out, number formatting),
 * jinja_eval.c (statements, expressions, scopes, macros, jinja_render, contexts),
 * jinja_str.c (Python's str: algorithms, % and str.format, escaping, strftime),
 * jinja_builtin.c (filters, tests, methods, globals).
 * Any thread; one render or parse per state. */
#ifndef NATTER_JINJA_IMPL_H
#define NATTER_JINJA_IMPL_H

#include <locale.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "jinja.h"

/* ---- arena ---- */

struct ja_block;
struct jarena {
    struct ja_block *head;
    size_t total;       /* bytes obtained from malloc so far */
    size_t limit;       /* 0: none */
    /* called when malloc fails or the limit is reached; must not return */
    void (*fail)(void *ud, const char *msg);
    void *ud;
};

void *ja_alloc(struct jarena *a, size_t n);            /* zeroed, 16-byte aligned */
void *ja_raw(struct jarena *a, size_t n);              /* not zeroed */
void *ja_grow(struct jarena *a, void *p, size_t old_n, size_t new_n); /* copy into a new block */
void ja_free(struct jarena *a);                        /* frees every block */
size_t ja_mul(struct jarena *a, size_t x, size_t y);   /* x*y, failing on overflow */

/* ---- strings with origins ---- */

typedef struct jstr {
    size_t len;
    char *s;            /* len bytes + NUL */
    unsigned char *org; /* an origin per byte, or NULL: every byte has org1 */
    unsigned char org1;
} jstr;

jstr *js_new(struct jarena *a, const char *s, size_t len, int origin);
jstr *js_cstr(struct jarena *a, const char *s, int origin); /* a C string */
/* bytes [off, off+n) of s, origins kept */
jstr *js_sub(struct jarena *a, const jstr *s, size_t off, size_t n);
static inline int js_org(const jstr *s, size_t i) { return s->org ? s->org[i] : s->org1; }
int js_eq(const jstr *a, const jstr *b);
int js_eqc(const jstr *a, const char *c);              /* equal to a C string */

/* A growing string with origins. max: its length bound (0: none); passing it fails with
 * "output larger than N bytes". */
struct jsb {
    struct jarena *a;
    char *s;
    unsigned char *org;
    size_t len, cap, max;
};
void jsb_init(struct jsb *b, struct jarena *a, size_t max);
void jsb_put(struct jsb *b, const char *s, size_t n, int origin);
void jsb_putc(struct jsb *b, char c, int origin);
void jsb_puts(struct jsb *b, const char *s, int origin);
void jsb_putjs(struct jsb *b, const jstr *s);
void jsb_putjs_range(struct jsb *b, const jstr *s, size_t off, size_t n);
void jsb_printf(struct jsb *b, int origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
jstr *jsb_done(struct jsb *b);                          /* the string (b may be reused) */

/* UTF-8: the length (1..4) of the character at s[i] (< n) with its code point in *cp; a byte
 * that does not start a valid sequence is one character of its own (cp = the byte). */
size_t u8_next(const char *s, size_t n, size_t i, uint32_t *cp);
size_t u8_count(const char *s, size_t n);               /* characters */
size_t u8_put(char *out, uint32_t cp);                  /* encodes, returns 1..4 */
int u_isspace(uint32_t cp);                             /* Python's str.isspace() */
int u_islinebreak(uint32_t cp);                         /* Python's str.splitlines() breaks */

/* ---- values ---- */

enum jk {
    JK_UNDEF, JK_NONE, JK_BOOL, JK_INT, JK_FLOAT, JK_STR, JK_LIST, JK_TUPLE, JK_DICT,
    JK_NS,      /* namespace(): a dict whose members are attributes */
    JK_ITER,    /* a one-shot iterator (a generator, reversed(list), dict.items() views...) */
    JK_MACRO, JK_FUNC, JK_LOOP, JK_CYCLER, JK_JOINER,
    JK_ABSENT   /* internal: an argument not given */
};

struct jlist;
struct jdict;
struct jundef;
struct jiter;
struct jmacro;
struct jfunc;
struct jloop;
struct jcycler;
struct jjoiner;

typedef struct jv {
    uint8_t k;          /* enum jk */
    uint8_t safe;       /* JK_STR: a Markup string (|safe, |escape) */
    union {
        int64_t i;      /* JK_BOOL (0/1), JK_INT */
        double f;
        jstr *s;
        struct jlist *l;  /* JK_LIST, JK_TUPLE */
        struct jdict *d;  /* JK_DICT, JK_NS */
        struct jundef *un;
        struct jiter *it;
        struct jmacro *m;
        struct jfunc *fn;
        struct jloop *lp;
        struct jcycler *cy;
        struct jjoiner *jo;
    } u;
} jv;

struct jlist {
    size_t n, cap;
    jv *v;
    uint8_t frozen;     /* the caller's data: never changed */
    uint8_t is_range;   /* made by range(): repr range(a, b[, c]) */
    int64_t r0, r1, r2;
};

struct jdict {
    size_t n, cap;
    jv *key, *val;
    uint32_t *idx;      /* open-addressing index (entry + 1), NULL while small */
    size_t idx_cap;
};

/* How an undefined value came about, for the error its use raises. */
enum { UNDEF_NAME, UNDEF_ATTR, UNDEF_ITEM, UNDEF_HINT, UNDEF_UNSAFE };
struct jundef {
    uint8_t how;
    uint8_t objk;       /* the kind of the object looked into (UNDEF_ATTR/ITEM/UNSAFE) */
    const char *hint;   /* UNDEF_HINT */
    jv key;             /* the name or key */
};

enum { IT_GENERATOR, IT_REVERSE, IT_ITEMS, IT_KEYS, IT_VALUES };
struct jiter {
    jv *v;              /* the items, materialized */
    size_t n, pos;      /* a generator is consumed from pos */
    uint8_t what;       /* IT_*: views (items, keys, values) can be re-iterated and have len */
};

struct jnode;
struct jscope;
struct jmacro {
    const struct jnode *def;  /* N_MACRO, or N_CALLBLOCK for a caller */
    struct jscope *scope;     /* where it was defined */
    jstr *name;
};

struct jfunc {
    int id;             /* a global function or a method (jinja_builtin.c's table) */
    jv self;            /* the object of a bound method */
};

struct jloop {
    jv *v;
    size_t n, i;
    int depth0;
    const struct jnode *forn; /* for loop(...) of a recursive loop */
    struct jscope *scope;
    jv changed_last;
    int changed_set;
};

struct jcycler {
    jv *v;
    size_t n, pos;
};

struct jjoiner {
    jv sep;
    int used;
};

/* ---- syntax tree ---- */

enum jn {
    /* expressions */
    N_CONST, N_NAME, N_LIST, N_TUPLE, N_DICT, N_GETATTR, N_GETITEM, N_SLICE, N_CALL,
    N_FILTER, N_TEST, N_NOT, N_NEG, N_POS, N_BINOP, N_CONCAT, N_AND, N_OR, N_COMPARE,
    N_OPERAND, N_CONDEXPR, N_NSREF,
    /* statements */
    N_DATA, N_PRINT, N_IF, N_FOR, N_SET, N_SETBLOCK, N_MACRO, N_CALLBLOCK, N_FILTERBLOCK,
    N_BREAK, N_CONTINUE, N_WITH, N_BODY /* generation, block: a body in its own scope */
};

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
       OP_EQ, OP_NE, OP_LT, OP_LTEQ, OP_GT, OP_GTEQ, OP_IN, OP_NOTIN };

/* Arguments of a call, filter or test. */
struct jcall {
    struct jnode **pos;
    size_t n_pos;
    jstr **kw_name;
    struct jnode **kw;
    size_t n_kw;
    struct jnode *dyn_args, *dyn_kwargs;  /* *args, **kwargs */
};

/* A macro's (or a call block's caller's) parameters. */
struct jsig {
    jstr **name;
    struct jnode **def;   /* defaults of the last n_def parameters */
    size_t n, n_def;
};

enum { MAC_CALLER = 1, MAC_VARARGS = 2, MAC_KWARGS = 4 }; /* names a macro body uses */

struct jnode {
    uint8_t kind;       /* enum jn */
    uint8_t op;         /* OP_* of N_BINOP, N_OPERAND */
    uint8_t flags;      /* N_FOR: recursive; N_MACRO/N_CALLBLOCK: MAC_*; N_FILTER/N_TEST: 1 =
                         * an unknown name, an error only when evaluated */
    uint32_t line, col;
    struct jnode *a, *b, *c;
    struct jnode **v;   /* items, body; N_DICT: key, value, key, value... */
    size_t n;
    struct jnode **w;   /* else body; N_WITH: target, value, ... */
    size_t nw;
    jstr *name;         /* N_NAME, N_GETATTR, N_FILTER, N_TEST, N_MACRO, N_NSREF (attr), N_DATA */
    jv val;             /* N_CONST */
    struct jcall *call; /* N_CALL, N_FILTER, N_TEST */
    struct jsig *sig;   /* N_MACRO, N_CALLBLOCK */
    int id;             /* N_FILTER / N_TEST: the builtin's index */
};

struct jinja_tmpl {
    struct jarena a;
    struct jnode **body;
    size_t n;
};

/* ---- lexer (jinja_lex.c) ---- */

enum jtok {
    T_EOF, T_DATA, T_VAR_BEGIN, T_VAR_END, T_BLOCK_BEGIN, T_BLOCK_END, T_NAME, T_STRING,
    T_INT, T_FLOAT, T_ADD, T_SUB, T_MUL, T_DIV, T_FLOORDIV, T_MOD, T_POW, T_TILDE,
    T_LBRACKET, T_RBRACKET, T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_EQ, T_NE, T_GT,
    T_GTEQ, T_LT, T_LTEQ, T_ASSIGN, T_DOT, T_COLON, T_PIPE, T_COMMA, T_SEMICOLON
};

struct jtoken {
    enum jtok t;
    uint32_t line, col;
    const char *p;      /* T_NAME, T_DATA: the text (in the lexer's normalized source) */
    size_t len;
    jstr *str;          /* T_STRING: the decoded value */
    int64_t i;
    double f;
};

struct jlex {
    struct jarena *a;
    const char *src;    /* normalized: \r\n and \r made \n, one trailing \n dropped */
    size_t n, pos;
    int mode;           /* 0 data, T_BLOCK_BEGIN or T_VAR_BEGIN inside a tag */
    int line_starting;
    char balance[JINJA_PARSE_DEPTH_MAX];
    int n_balance;
    struct jtoken pending; /* a tag start found with the data before it */
    int has_pending;
    size_t w_off;       /* jlex_where's cache: the line and column of offset w_off */
    uint32_t w_line, w_col;
    /* errors: fail("LINE:COL: ...") never returns */
    void (*fail)(void *ud, uint32_t line, uint32_t col, const char *msg);
    void *ud;
};

/* src[0..n) is copied (normalized) into a's memory. */
void jlex_init(struct jlex *lx, struct jarena *a, const char *src, size_t n);
void jlex_next(struct jlex *lx, struct jtoken *t);
const char *jtok_name(enum jtok t);  /* "end of print statement", "+", ... */
/* The line and column of byte offset off of the normalized source. */
void jlex_where(struct jlex *lx, size_t off, uint32_t *line, uint32_t *col);

/* ---- render state ---- */

struct jscope {
    struct jscope *parent;
    struct jdict vars;
};

struct jinja_ctx {
    struct jarena a;
    jmp_buf *jb;
    char *err;
    size_t err_len;
    struct jdict vars;
    struct tm now;
    struct jinja_limits lim;
};

struct jrender {
    struct jarena a;
    jmp_buf jb;
    char *err;
    size_t err_len;
    const struct jinja_ctx *ctx;
    const struct jnode *at;   /* the node being evaluated: where errors are reported */
    struct jsb *out;          /* the current output (captures nest) */
    struct jscope *scope;
    struct jscope *globals;   /* the context's variables, then the built-in globals */
    uint64_t steps;
    int depth;
    struct jinja_limits lim;
    struct tm now;
    locale_t uloc;            /* C.UTF-8 for case mapping, 0 when unavailable */
};

/* Raise an error at r->at (never returns). */
void jr_fail(struct jrender *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void jr_step(struct jrender *r, uint64_t n);   /* count work; fails past the limit */

/* ---- values (jinja_value.c) ---- */

extern const jv JV_NONE, JV_UNDEF, JV_ABSENT, JV_TRUE, JV_FALSE;
static inline jv jv_int(int64_t i) { jv v = {JK_INT, 0, {.i = i}}; return v; }
static inline jv jv_float(double f) { jv v = {JK_FLOAT, 0, {.f = f}}; return v; }
static inline jv jv_bool(int b) { jv v = {JK_BOOL, 0, {.i = b != 0}}; return v; }
static inline jv jv_str(jstr *s) { jv v = {JK_STR, 0, {.s = s}}; return v; }
jv jv_strc(struct jarena *a, const char *s);   /* template-origin C string */

/* memcpy of n values (n may be 0 with NULL pointers) */
static inline void jv_copy(jv *dst, const jv *src, size_t n) {
    if (n)
        memcpy(dst, src, n * sizeof *dst);
}
struct jlist *jl_new(struct jarena *a, size_t cap);
void jl_push(struct jarena *a, struct jlist *l, jv v);
jv jv_list(struct jlist *l);
jv jv_tuple(struct jlist *l);
jv jv_tuple2(struct jarena *a, jv x, jv y);

struct jdict *jd_new(struct jarena *a);
void jd_init(struct jdict *d);
void jd_clear(struct jdict *d);     /* empty, keeping the memory */
/* The value of key (NULL: absent). An unhashable key fails through fail_unhashable. */
jv *jd_get(const struct jdict *d, jv key);
jv *jd_gets(const struct jdict *d, const char *key, size_t len);
void jd_set(struct jarena *a, struct jdict *d, jv key, jv val);
jv jv_dict(struct jdict *d);

jv jv_undef_name(struct jarena *a, jstr *name);
jv jv_undef_hint(struct jarena *a, const char *hint);
jv jv_undef_attr(struct jarena *a, int how, uint8_t objk, jv key);

const char *jv_type_name(jv v);            /* Python's type name: 'str', 'NoneType', ... */
int jv_hashable(jv v);
int jv_truth(jv v);
int jv_is_seq(jv v);                       /* list or tuple */

/* str(v) and repr(v) with origins (strings keep theirs; the rest is template text).
 * The recursive ones fail past JV_DEPTH_MAX levels. */
enum { JV_DEPTH_MAX = 1100 };
void jv_put_str(struct jrender *r, struct jsb *b, jv v);
void jv_put_repr(struct jrender *r, struct jsb *b, jv v, int depth);
jstr *jv_to_str(struct jrender *r, jv v);  /* str(v) */
jstr *jv_to_repr(struct jrender *r, jv v);
void jv_fmt_float(char *buf, size_t cap, double f);  /* Python repr(float) */

/* Python ==, and <-style ordering: *cmp <0/0/>0; fails with Python's TypeError words. */
int jv_eq(struct jrender *r, jv a, jv b, int depth);
int jv_cmp(struct jrender *r, jv a, jv b, const char *op);

/* json.dumps(v, ensure_ascii, indent (NULL: none), separators, sort_keys) */
struct jjson_opts {
    int ensure_ascii;
    const jstr *indent;     /* NULL: compact */
    const jstr *item_sep, *key_sep;
    int sort_keys;
};
jstr *jv_to_json(struct jrender *r, jv v, const struct jjson_opts *o);
/* Stable sort of v[0..n) by cmp (< 0: a before b), which may fail. */
void jv_sort(struct jrender *r, jv *v, size_t n, int (*cmp)(void *ud, jv a, jv b), void *ud);
/* JSON text (already through json_syntax_check) to a value; strings get origin, role
 * members get roles_org (when >= 0). Frozen lists. */
jv jv_from_json(struct jarena *a, const char *p, size_t n, int origin, int roles_org);

/* Items of an iterable (for loops, list(), join...): a fresh array *out of *n values.
 * Undefined: none. Consumes generators. Fails ("'int' object is not iterable"). */
void jv_iterate(struct jrender *r, jv v, jv **out, size_t *n);
/* The same, read-only: possibly the container's own array (which nothing can change). */
void jv_iterate_view(struct jrender *r, jv v, jv **out, size_t *n);
/* The characters of a string as one-character strings (origins kept). */
void js_chars(struct jrender *r, const jstr *s, jv **out, size_t *n);
jv jv_iter_new(struct jarena *a, jv *v, size_t n, int what);

/* ---- evaluator (jinja_eval.c) ---- */

jv ev_expr(struct jrender *r, const struct jnode *n);
/* Calls a callable (macro, function, method, loop, joiner) with evaluated arguments. */
struct jargv {
    jv *pos;
    size_t n_pos;
    jstr **kw_name;
    jv *kw;
    size_t n_kw;
};
jv ev_call_value(struct jrender *r, jv f, struct jargv *a);
void ev_fail_undef(struct jrender *r, jv u) __attribute__((noreturn));
/* getattr(obj, name) and getitem(obj, key) with jinja2's sandboxed fallbacks. */
jv ev_getattr(struct jrender *r, jv obj, jstr *name);
jv ev_getitem(struct jrender *r, jv obj, jv key);
jv ev_test_call(struct jrender *r, int id, jv x, struct jargv *a);

/* Binding a builtin's arguments (jinja_eval.c): out[i] = the argument for names[i] or
 * JK_ABSENT; Python's errors for too many, unknown or repeated ones. */
void ev_bind_args(struct jrender *r, const char *fname, struct jargv *a,
                  const char *const *names, size_t n, jv *out);
void ev_no_args(struct jrender *r, const char *fname, struct jargv *a);
static inline jv ev_arg_or(jv v, jv def) { return v.k == JK_ABSENT ? def : v; }
int64_t ev_arg_int(struct jrender *r, jv v, int64_t def, const char *what); /* int or None */
const jstr *ev_arg_str(struct jrender *r, jv v, const char *what);
jstr *jstr_empty(struct jrender *r);
jstr *ev_soft_str(struct jrender *r, jv x);                 /* str(x): strings as they are */

/* ---- Python's str (jinja_str.c); all keep the origins of the bytes they copy ---- */

size_t *jstr_offsets(struct jrender *r, const jstr *s, size_t *n); /* char i at [i], len at [n] */
uint32_t jstr_cp(const jstr *s, size_t off, size_t *len);          /* the code point at off */
enum { CASE_LOWER, CASE_UPPER, CASE_TITLE, CASE_CAPITALIZE, CASE_SWAP, CASE_TITLE_FILTER };
jv jstr_case(struct jrender *r, jv x, int how);   /* str.lower() ...; jinja2's |title */
enum { IS_ALPHA, IS_DIGIT, IS_ALNUM, IS_SPACE, IS_LOWER, IS_UPPER, IS_TITLE };
int jstr_is(struct jrender *r, const jstr *s, int what);        /* str.isalpha() ... */
int64_t jstr_wordcount(struct jrender *r, const jstr *s);       /* \w+ runs */
jstr *jstr_escape_html(struct jrender *r, const jstr *s);
/* strip (which: 1 left, 2 right, 3 both) chars (NULL: whitespace); the arg: None or str */
jv jstr_strip(struct jrender *r, jv x, const jstr *chars, int which);
const jstr *jstr_strip_arg(struct jrender *r, jv v);
const char *jstr_find_bytes(const char *h, size_t hn, const char *n, size_t nn);
const char *jstr_rfind_bytes(const char *h, size_t hn, const char *n, size_t nn);
jv jstr_replace(struct jrender *r, const jstr *s, const jstr *old, const jstr *new,
                int64_t count);
jv jstr_split(struct jrender *r, const jstr *s, jv sep, int64_t maxsplit, int right);
jv jstr_splitlines(struct jrender *r, const jstr *s, int keepends);
/* the byte range of characters [start, end) (slice rules); *a > *b when empty */
void jstr_range(struct jrender *r, const jstr *s, jv start, jv end, size_t *a, size_t *b);
int jstr_fixes(struct jrender *r, const jstr *s, jv prefix, jv start, jv end, int ends,
               const char *fname);                          /* startswith / endswith */
int64_t jstr_find(struct jrender *r, const jstr *s, const jstr *sub, jv start, jv end,
                  int right);                               /* -1: absent */
jv jstr_pad(struct jrender *r, jv x, int64_t width, jv fill, int how); /* 0 l, 1 r, 2 c */
jv jstr_join(struct jrender *r, const jstr *sep, jv iterable, int require_str);
int jstr_to_int(const jstr *s, int base, int64_t *out);     /* int(s, base): 0 or -1 */
int jstr_to_float(const jstr *s, double *out);              /* float(s): 0 or -1 */
double ev_num_float(struct jrender *r, jv v, const char *what);
jv ev_int_from_float(struct jrender *r, double f);          /* int(f) */
jstr *jstr_format(struct jrender *r, const jstr *fmt, struct jargv *a, int depth);
jstr *jstr_strftime(struct jrender *r, const jstr *fmt);    /* of r->now */

/* ---- builtins (jinja_builtin.c) ---- */

int jb_filter_find(const char *name, size_t len);   /* -1: unknown */
int jb_test_find(const char *name, size_t len);
int jb_global_find(const char *name, size_t len);
jv jb_filter(struct jrender *r, int id, jv x, struct jargv *a);
int jb_test(struct jrender *r, int id, jv x, struct jargv *a);
/* A bound method of obj named name, or JK_ABSENT when obj has no such method (unsafe
 * methods: JK_UNDEF from jv_undef_attr(UNDEF_UNSAFE)). */
jv jb_method(struct jrender *r, jv obj, const jstr *name);
jv jb_call(struct jrender *r, struct jfunc *f, struct jargv *a);  /* a global or a method */
jv jb_global(struct jarena *a, int id);
const char *jb_func_name(int id);
/* Python's str % args (escape: fmt is Markup, which escapes what %s and %r insert) */
jstr *jb_percent(struct jrender *r, const jstr *fmt, jv args, int escape);  /* jinja_str.c */
jstr *jb_lower(struct jrender *r, const jstr *s);                         /* jinja_str.c */
jv jb_escape(struct jrender *r, jv v); /* markupsafe.escape: a Markup string (jinja_str.c) */

#endif
