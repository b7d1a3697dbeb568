/* src/jinja_eval.c — the Jinja evaluator: runs a parsed template over a context's variables
 * with jinja2's semantics (Python operators and truth, undefined values that print empty but
 * fail when used, scopes per loop iteration and macro call, namespace(), macros with defaults,
 * varargs, kwargs and caller, recursive loops, loop controls), and the context API of jinja.h.
 * Errors and limits longjmp to jinja_render, which frees the render's arena: nothing leaks.
 * Any thread; one render per struct jrender. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_impl.h"
#include "json_syntax.h"

enum { FLOW_NORMAL, FLOW_BREAK, FLOW_CONTINUE };

struct jinja_limits jinja_default_limits(void) {
    struct jinja_limits l = {16u << 20, 512u << 20, 100000000, 1000};
    return l;
}

/* ---- errors ---- */

void jr_fail(struct jrender *r, const char *fmt, ...) {
    if (r->err_len) {
        int n = 0;
        if (r->at)
            n = snprintf(r->err, r->err_len, "%u:%u: ", r->at->line, r->at->col);
        if (n >= 0 && (size_t)n < r->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    longjmp(r->jb, 1);
}

void jr_step(struct jrender *r, uint64_t n) {
    r->steps += n;
    if (r->steps > r->lim.max_steps)
        jr_fail(r, "template takes too long (more than %llu steps)",
                (unsigned long long)r->lim.max_steps);
}

static void render_arena_fail(void *ud, const char *msg) {
    jr_fail(ud, "%s", msg);
}

static const char *obj_type_repr(int k) {
    switch (k) {
    case JK_NONE:
        return "None";
    case JK_NS:
        return "jinja2.utils.Namespace object";
    case JK_LOOP:
        return "jinja2.runtime.LoopContext object";
    case JK_MACRO:
        return "jinja2.runtime.Macro object";
    case JK_CYCLER:
        return "jinja2.utils.Cycler object";
    case JK_JOINER:
        return "jinja2.utils.Joiner object";
    case JK_BOOL:
        return "bool object";
    case JK_INT:
        return "int object";
    case JK_FLOAT:
        return "float object";
    case JK_STR:
        return "str object";
    case JK_LIST:
        return "list object";
    case JK_TUPLE:
        return "tuple object";
    case JK_DICT:
        return "dict object";
    case JK_ITER:
        return "generator object";
    case JK_FUNC:
        return "builtin_function_or_method object";
    default:
        return "object";
    }
}

void ev_fail_undef(struct jrender *r, jv v) {
    const struct jundef *u = v.u.un;
    if (!u)
        jr_fail(r, "undefined value");
    switch (u->how) {
    case UNDEF_NAME:
        jr_fail(r, "'%s' is undefined", u->key.u.s->s);
    case UNDEF_HINT:
        jr_fail(r, "%s", u->hint);
    case UNDEF_UNSAFE:
        jr_fail(r, "access to attribute '%s' of '%s' object is unsafe.", u->key.u.s->s,
                u->objk == JK_DICT ? "dict" : u->objk == JK_LIST ? "list" : "object");
    case UNDEF_ATTR: {
        jstr *k = jv_to_repr(r, u->key);
        jr_fail(r, "'%s' has no attribute %s", obj_type_repr(u->objk), k->s);
    }
    default: {
        jstr *k = jv_to_repr(r, u->key);
        jr_fail(r, "%s has no element %s", obj_type_repr(u->objk), k->s);
    }
    }
}

/* ---- scopes ---- */

static struct jscope *scope_new(struct jrender *r, struct jscope *parent) {
    struct jscope *s = ja_alloc(&r->a, sizeof *s);
    s->parent = parent;
    return s;
}

static jv *scope_lookup(const struct jscope *s, const jstr *name) {
    for (; s; s = s->parent) {
        jv *v = s->vars.n ? jd_gets(&s->vars, name->s, name->len) : NULL;
        if (v)
            return v;
    }
    return NULL;
}

static void scope_set(struct jrender *r, struct jscope *s, jstr *name, jv v) {
    jd_set(&r->a, &s->vars, jv_str(name), v);
}

/* ---- assignment ---- */

static void bind(struct jrender *r, const struct jnode *target, jv v, struct jscope *s) {
    if (target->kind == N_NAME) {
        scope_set(r, s, target->name, v);
        return;
    }
    if (target->kind == N_NSREF) {
        const struct jnode *saved = r->at;
        r->at = target;
        jv *ns = scope_lookup(r->scope, target->a->name);
        if (!ns || ns->k != JK_NS)
            jr_fail(r, "cannot assign attribute on non-namespace object");
        jd_set(&r->a, ns->u.d, jv_str(target->name), v);
        r->at = saved;
        return;
    }
    /* a tuple of targets: unpack */
    const struct jnode *saved = r->at;
    r->at = target;
    jv *items;
    size_t n;
    if (v.k == JK_UNDEF || v.k == JK_NONE || v.k == JK_BOOL || v.k == JK_INT ||
        v.k == JK_FLOAT)
        jr_fail(r, "cannot unpack non-iterable %s object", jv_type_name(v));
    jv_iterate(r, v, &items, &n);
    if (n > target->n)
        jr_fail(r, "too many values to unpack (expected %zu)", target->n);
    if (n < target->n)
        jr_fail(r, "not enough values to unpack (expected %zu, got %zu)", target->n, n);
    for (size_t i = 0; i < n; i++)
        bind(r, target->v[i], items[i], s);
    r->at = saved;
}

/* ---- arithmetic ---- */

static int is_num(jv v) {
    return v.k == JK_BOOL || v.k == JK_INT || v.k == JK_FLOAT;
}

static double num_f(jv v) {
    return v.k == JK_FLOAT ? v.u.f : (double)v.u.i;
}

static const char *op_sym(int op) {
    static const char *const s[] = {"+", "-", "*", "/", "//", "%", "** or pow()"};
    return op >= 0 && op <= OP_POW ? s[op] : "?";
}

__attribute__((noreturn)) static void fail_operands(struct jrender *r, int op, jv a, jv b) {
    if (op == OP_ADD && (a.k == JK_STR || a.k == JK_LIST || a.k == JK_TUPLE))
        jr_fail(r, "can only concatenate %s (not \"%s\") to %s", jv_type_name(a) /* str */,
                jv_type_name(b), jv_type_name(a));
    jr_fail(r, "unsupported operand type(s) for %s: '%s' and '%s'", op_sym(op), jv_type_name(a),
            jv_type_name(b));
}

static jv repeat(struct jrender *r, jv seq, int64_t n) {
    if (seq.k == JK_STR) {
        struct jsb b;
        jsb_init(&b, &r->a, r->lim.max_output);
        if (n > 0 && seq.u.s->len && (uint64_t)n > r->lim.max_output / seq.u.s->len)
            jr_fail(r, "text longer than %zu bytes (the output limit)", r->lim.max_output);
        for (int64_t i = 0; i < n; i++)
            jsb_putjs(&b, seq.u.s);
        jv v = jv_str(jsb_done(&b));
        v.safe = seq.safe;
        return v;
    }
    const struct jlist *l = seq.u.l;
    size_t cnt = n > 0 ? (size_t)n : 0;
    if (cnt && l->n && cnt > (r->lim.max_output / sizeof(jv)) / l->n)
        jr_fail(r, "list too long");
    struct jlist *o = jl_new(&r->a, cnt * l->n);
    for (size_t i = 0; i < cnt; i++) {
        jr_step(r, l->n);
        for (size_t k = 0; k < l->n; k++)
            o->v[o->n++] = l->v[k];
    }
    return seq.k == JK_TUPLE ? jv_tuple(o) : jv_list(o);
}

static jv ev_binop(struct jrender *r, int op, jv a, jv b) {
    if (a.k == JK_UNDEF)
        ev_fail_undef(r, a);
    if (b.k == JK_UNDEF)
        ev_fail_undef(r, b);
    if (is_num(a) && is_num(b)) {
        int fl = a.k == JK_FLOAT || b.k == JK_FLOAT;
        int64_t x = a.u.i, y = b.u.i, z;
        double fx = num_f(a), fy = num_f(b);
        switch (op) {
        case OP_ADD:
            if (fl)
                return jv_float(fx + fy);
            if (__builtin_add_overflow(x, y, &z))
                jr_fail(r, "integer result too large");
            return jv_int(z);
        case OP_SUB:
            if (fl)
                return jv_float(fx - fy);
            if (__builtin_sub_overflow(x, y, &z))
                jr_fail(r, "integer result too large");
            return jv_int(z);
        case OP_MUL:
            if (fl)
                return jv_float(fx * fy);
            if (__builtin_mul_overflow(x, y, &z))
                jr_fail(r, "integer result too large");
            return jv_int(z);
        case OP_DIV:
            if (fy == 0)
                jr_fail(r, "division by zero");
            return jv_float(fx / fy);
        case OP_FLOORDIV:
            if (fl) {
                if (fy == 0)
                    jr_fail(r, "float floor division by zero");
                return jv_float(floor(fx / fy));
            }
            if (y == 0)
                jr_fail(r, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1)
                jr_fail(r, "integer result too large");
            z = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0)))
                z--;
            return jv_int(z);
        case OP_MOD:
            if (fl) {
                if (fy == 0)
                    jr_fail(r, "float modulo");
                double m = fmod(fx, fy);
                if (m != 0 && ((fy < 0) != (m < 0)))
                    m += fy;
                else if (m == 0)
                    m = copysign(0.0, fy);
                return jv_float(m);
            }
            if (y == 0)
                jr_fail(r, "integer division or modulo by zero");
            if (y == -1)
                return jv_int(0);
            z = x % y;
            if (z != 0 && ((z < 0) != (y < 0)))
                z += y;
            return jv_int(z);
        case OP_POW:
            if (!fl && y >= 0) {
                int64_t res = 1, base = x;
                for (int64_t e = y; e > 0; e >>= 1) {
                    if ((e & 1) && __builtin_mul_overflow(res, base, &res))
                        jr_fail(r, "integer result too large");
                    if (e > 1 && __builtin_mul_overflow(base, base, &base))
                        jr_fail(r, "integer result too large");
                }
                return jv_int(res);
            }
            if (fx == 0 && fy < 0)
                jr_fail(r, "0.0 cannot be raised to a negative power");
            return jv_float(pow(fx, fy));
        }
    }
    switch (op) {
    case OP_ADD:
        if (a.k == JK_STR && b.k == JK_STR) {
            struct jsb s;
            jsb_init(&s, &r->a, r->lim.max_output);
            int safe = a.safe || b.safe; /* Markup + str escapes the str */
            jsb_putjs(&s, safe && !a.safe ? jb_escape(r, a).u.s : a.u.s);
            jsb_putjs(&s, safe && !b.safe ? jb_escape(r, b).u.s : b.u.s);
            jv v = jv_str(jsb_done(&s));
            v.safe = (uint8_t)safe;
            return v;
        }
        if ((a.k == JK_LIST && b.k == JK_LIST) || (a.k == JK_TUPLE && b.k == JK_TUPLE)) {
            struct jlist *l = jl_new(&r->a, a.u.l->n + b.u.l->n);
            jv_copy(l->v, a.u.l->v, a.u.l->n);
            jv_copy(l->v + a.u.l->n, b.u.l->v, b.u.l->n);
            l->n = a.u.l->n + b.u.l->n;
            jr_step(r, l->n);
            return a.k == JK_LIST ? jv_list(l) : jv_tuple(l);
        }
        break;
    case OP_MUL:
        if ((a.k == JK_STR || jv_is_seq(a)) && (b.k == JK_INT || b.k == JK_BOOL))
            return repeat(r, a, b.u.i);
        if ((b.k == JK_STR || jv_is_seq(b)) && (a.k == JK_INT || a.k == JK_BOOL))
            return repeat(r, b, a.u.i);
        break;
    case OP_MOD:
        if (a.k == JK_STR) {
            jv v = jv_str(jb_percent(r, a.u.s, b, a.safe));
            v.safe = a.safe;
            return v;
        }
        break;
    }
    fail_operands(r, op, a, b);
}

/* `item in container` */
static int ev_contains(struct jrender *r, jv container, jv item) {
    switch (container.k) {
    case JK_STR:
        if (item.k != JK_STR)
            jr_fail(r, "'in <string>' requires string as left operand, not %s",
                    jv_type_name(item));
        if (!item.u.s->len)
            return 1;
        for (size_t i = 0; i + item.u.s->len <= container.u.s->len; i++)
            if (!memcmp(container.u.s->s + i, item.u.s->s, item.u.s->len))
                return 1;
        jr_step(r, container.u.s->len / 64);
        return 0;
    case JK_LIST:
    case JK_TUPLE:
        for (size_t i = 0; i < container.u.l->n; i++) {
            jr_step(r, 1);
            if (jv_eq(r, container.u.l->v[i], item, 0))
                return 1;
        }
        return 0;
    case JK_DICT:
    case JK_NS:
        if (container.k == JK_NS)
            break;
        if (!jv_hashable(item))
            jr_fail(r, "unhashable type: '%s'", jv_type_name(item));
        return jd_get(container.u.d, item) != NULL;
    case JK_UNDEF:
        return 0;
    case JK_ITER: {
        struct jiter *it = container.u.it;
        size_t start = it->what >= IT_ITEMS ? 0 : it->pos;
        for (size_t i = start; i < it->n; i++) {
            jr_step(r, 1);
            if (jv_eq(r, it->v[i], item, 0)) {
                if (it->what < IT_ITEMS)
                    it->pos = i + 1;
                return 1;
            }
        }
        if (it->what < IT_ITEMS)
            it->pos = it->n;
        return 0;
    }
    default:
        break;
    }
    jr_fail(r, "argument of type '%s' is not iterable", jv_type_name(container));
}

static int ev_compare_op(struct jrender *r, int op, jv a, jv b) {
    static const char *const sym[] = {[OP_LT] = "<", [OP_LTEQ] = "<=", [OP_GT] = ">",
                                      [OP_GTEQ] = ">="};
    switch (op) {
    case OP_EQ:
        return jv_eq(r, a, b, 0);
    case OP_NE:
        return !jv_eq(r, a, b, 0);
    case OP_IN:
        return ev_contains(r, b, a);
    case OP_NOTIN:
        return !ev_contains(r, b, a);
    default: {
        int c = jv_cmp(r, a, b, sym[op]);
        if ((a.k == JK_FLOAT && isnan(a.u.f)) || (b.k == JK_FLOAT && isnan(b.u.f)))
            return 0;
        return op == OP_LT ? c < 0 : op == OP_LTEQ ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
    }
    }
}

/* ---- attribute and item access ---- */

static jv loop_attr(struct jrender *r, struct jloop *lp, const jstr *name) {
    size_t i = lp->i, n = lp->n;
    if (js_eqc(name, "index"))
        return jv_int((int64_t)i + 1);
    if (js_eqc(name, "index0"))
        return jv_int((int64_t)i);
    if (js_eqc(name, "revindex"))
        return jv_int((int64_t)(n - i));
    if (js_eqc(name, "revindex0"))
        return jv_int((int64_t)(n - i - 1));
    if (js_eqc(name, "first"))
        return jv_bool(i == 0);
    if (js_eqc(name, "last"))
        return jv_bool(i + 1 == n);
    if (js_eqc(name, "length"))
        return jv_int((int64_t)n);
    if (js_eqc(name, "depth"))
        return jv_int(lp->depth0 + 1);
    if (js_eqc(name, "depth0"))
        return jv_int(lp->depth0);
    if (js_eqc(name, "previtem"))
        return i > 0 ? lp->v[i - 1] : jv_undef_hint(&r->a, "there is no previous item");
    if (js_eqc(name, "nextitem"))
        return i + 1 < n ? lp->v[i + 1] : jv_undef_hint(&r->a, "there is no next item");
    return JV_ABSENT;
}

/* getattr(obj, name) without the item fallback: methods and the attributes of jinja2's own
 * objects. JK_ABSENT when there is none. */
static jv attr_only(struct jrender *r, jv obj, const jstr *name) {
    if (name->len >= 2 && name->s[0] == '_' && name->s[1] == '_')
        return jv_undef_attr(&r->a, UNDEF_UNSAFE, (uint8_t)obj.k, jv_str((jstr *)name));
    switch (obj.k) {
    case JK_NS: {
        jv *v = jd_get(obj.u.d, jv_str((jstr *)name));
        return v ? *v : JV_ABSENT;
    }
    case JK_LOOP: {
        jv v = loop_attr(r, obj.u.lp, name);
        if (v.k != JK_ABSENT)
            return v;
        break;
    }
    case JK_CYCLER:
        if (js_eqc(name, "current"))
            return obj.u.cy->v[obj.u.cy->pos];
        break;
    case JK_MACRO: {
        const struct jnode *def = obj.u.m->def;
        if (js_eqc(name, "name"))
            return jv_str(obj.u.m->name);
        if (js_eqc(name, "arguments")) {
            struct jlist *l = jl_new(&r->a, def->sig->n);
            for (size_t i = 0; i < def->sig->n; i++)
                l->v[l->n++] = jv_str(def->sig->name[i]);
            return jv_tuple(l);
        }
        if (js_eqc(name, "catch_kwargs"))
            return jv_bool(def->flags & MAC_KWARGS);
        if (js_eqc(name, "catch_varargs"))
            return jv_bool(def->flags & MAC_VARARGS);
        if (js_eqc(name, "caller"))
            return jv_bool(def->flags & MAC_CALLER);
        break;
    }
    case JK_INT:
    case JK_BOOL:
        if (js_eqc(name, "real") || js_eqc(name, "numerator"))
            return jv_int(obj.u.i);
        if (js_eqc(name, "imag"))
            return jv_int(0);
        if (js_eqc(name, "denominator"))
            return jv_int(1);
        break;
    case JK_FLOAT:
        if (js_eqc(name, "real"))
            return obj;
        if (js_eqc(name, "imag"))
            return jv_float(0.0);
        break;
    default:
        break;
    }
    return jb_method(r, obj, name);
}

/* obj[key] without the attribute fallback: JK_ABSENT when it fails (KeyError, IndexError,
 * TypeError). */
static jv item_only(struct jrender *r, jv obj, jv key) {
    switch (obj.k) {
    case JK_DICT: {
        jv *v = jv_hashable(key) ? jd_get(obj.u.d, key) : NULL;
        return v ? *v : JV_ABSENT;
    }
    case JK_LIST:
    case JK_TUPLE:
        if (key.k == JK_INT || key.k == JK_BOOL) {
            int64_t i = key.u.i, n = (int64_t)obj.u.l->n;
            if (i < 0)
                i += n;
            return i >= 0 && i < n ? obj.u.l->v[i] : JV_ABSENT;
        }
        return JV_ABSENT;
    case JK_STR:
        if (key.k == JK_INT || key.k == JK_BOOL) {
            const jstr *s = obj.u.s;
            int64_t i = key.u.i, n = (int64_t)u8_count(s->s, s->len);
            if (i < 0)
                i += n;
            if (i < 0 || i >= n)
                return JV_ABSENT;
            size_t off = 0;
            uint32_t cp;
            for (int64_t k = 0; k < i; k++)
                off += u8_next(s->s, s->len, off, &cp);
            jr_step(r, (uint64_t)i / 64);
            jv v = jv_str(js_sub(&r->a, s, off, u8_next(s->s, s->len, off, &cp)));
            v.safe = obj.safe;
            return v;
        }
        return JV_ABSENT;
    default:
        return JV_ABSENT;
    }
}

jv ev_getattr(struct jrender *r, jv obj, jstr *name) {
    if (obj.k == JK_UNDEF)
        ev_fail_undef(r, obj);
    jv v = attr_only(r, obj, name);
    if (v.k != JK_ABSENT)
        return v;
    if (obj.k == JK_DICT) {
        v = item_only(r, obj, jv_str(name));
        if (v.k != JK_ABSENT)
            return v;
    }
    return jv_undef_attr(&r->a, UNDEF_ATTR, (uint8_t)obj.k, jv_str(name));
}

jv ev_getitem(struct jrender *r, jv obj, jv key) {
    if (obj.k == JK_UNDEF)
        ev_fail_undef(r, obj);
    jv v = item_only(r, obj, key);
    if (v.k != JK_ABSENT)
        return v;
    if (key.k == JK_STR) {
        v = attr_only(r, obj, key.u.s);
        if (v.k != JK_ABSENT)
            return v;
        return jv_undef_attr(&r->a, UNDEF_ATTR, (uint8_t)obj.k, key);
    }
    return jv_undef_attr(&r->a, UNDEF_ITEM, (uint8_t)obj.k, key);
}

/* Python's slice.indices(). 0 when an index is not an integer (a TypeError: undefined). */
static int slice_bound(jv v, int64_t *out) {
    if (v.k == JK_NONE)
        return 1;
    if (v.k != JK_INT && v.k != JK_BOOL)
        return 0;
    *out = v.u.i;
    return 1;
}

static jv ev_slice(struct jrender *r, jv obj, jv start, jv stop, jv step) {
    if (obj.k == JK_UNDEF)
        ev_fail_undef(r, obj);
    if (obj.k != JK_STR && obj.k != JK_LIST && obj.k != JK_TUPLE)
        return jv_undef_attr(&r->a, UNDEF_ITEM, (uint8_t)obj.k, JV_NONE);
    int64_t st = 1;
    if (!slice_bound(step, &st))
        return jv_undef_attr(&r->a, UNDEF_ITEM, (uint8_t)obj.k, JV_NONE);
    if (st == 0)
        jr_fail(r, "slice step cannot be zero");
    /* string: character offsets */
    size_t *offs = NULL;
    int64_t len;
    if (obj.k == JK_STR) {
        const jstr *s = obj.u.s;
        size_t cnt = u8_count(s->s, s->len), k = 0;
        offs = ja_raw(&r->a, ja_mul(&r->a, cnt + 1, sizeof *offs));
        uint32_t cp;
        for (size_t i = 0; i < s->len; k++) {
            offs[k] = i;
            i += u8_next(s->s, s->len, i, &cp);
        }
        offs[cnt] = s->len;
        len = (int64_t)cnt;
        jr_step(r, cnt / 64);
    } else
        len = (int64_t)obj.u.l->n;
    int64_t lower = st > 0 ? 0 : -1, upper = st > 0 ? len : len - 1;
    int64_t a = st < 0 ? upper : lower, b = st < 0 ? lower : upper;
    if (start.k != JK_NONE) {
        if (!slice_bound(start, &a))
            return jv_undef_attr(&r->a, UNDEF_ITEM, (uint8_t)obj.k, JV_NONE);
        if (a < 0)
            a = a < -len ? lower : a + len;
        if (a < lower)
            a = lower;
        else if (a > upper)
            a = upper;
    }
    if (stop.k != JK_NONE) {
        if (!slice_bound(stop, &b))
            return jv_undef_attr(&r->a, UNDEF_ITEM, (uint8_t)obj.k, JV_NONE);
        if (b < 0)
            b = b < -len ? lower : b + len;
        if (b < lower)
            b = lower;
        else if (b > upper)
            b = upper;
    }
    if (obj.k == JK_STR) {
        struct jsb sb;
        jsb_init(&sb, &r->a, r->lim.max_output);
        if (st == 1) {
            if (a < b)
                jsb_putjs_range(&sb, obj.u.s, offs[a], offs[b] - offs[a]);
        } else
            for (int64_t i = a; st > 0 ? i < b : i > b; i += st)
                jsb_putjs_range(&sb, obj.u.s, offs[i], offs[i + 1] - offs[i]);
        jv v = jv_str(jsb_done(&sb));
        v.safe = obj.safe;
        return v;
    }
    struct jlist *l = jl_new(&r->a, 0);
    for (int64_t i = a; st > 0 ? i < b : i > b; i += st) {
        jr_step(r, 1);
        jl_push(&r->a, l, obj.u.l->v[i]);
    }
    return obj.k == JK_TUPLE ? jv_tuple(l) : jv_list(l);
}

/* ---- calls ---- */

static int ex_body(struct jrender *r, struct jnode *const *v, size_t n);

/* The output of body run in scope s, as a string. */
static jstr *capture(struct jrender *r, struct jnode *const *v, size_t n, struct jscope *s,
                     int *flow) {
    struct jsb buf, *saved = r->out;
    struct jscope *saved_scope = r->scope;
    jsb_init(&buf, &r->a, r->lim.max_output);
    r->out = &buf;
    r->scope = s;
    int f = ex_body(r, v, n);
    r->out = saved;
    r->scope = saved_scope;
    if (flow)
        *flow = f;
    return jsb_done(&buf);
}

static void depth_enter(struct jrender *r) {
    if (++r->depth > r->lim.max_depth)
        jr_fail(r, "maximum recursion depth exceeded (%d levels)", r->lim.max_depth);
}

static jv macro_call(struct jrender *r, const struct jmacro *m, struct jargv *a) {
    const struct jnode *def = m->def;
    const struct jsig *sig = def->sig;
    int flags = def->flags;
    size_t np = sig->n;
    const char *mname = m->name->s;
    jv *args = ja_alloc(&r->a, (np + 1) * sizeof(jv));
    uint8_t *kw_used = ja_alloc(&r->a, a->n_kw + 1);
    size_t off = a->n_pos < np ? a->n_pos : np;
    for (size_t i = 0; i < np; i++)
        args[i] = i < off ? a->pos[i] : JV_ABSENT;
    int found_caller = 0;
    if (off != np) {
        for (size_t i = off; i < np; i++) {
            for (size_t k = 0; k < a->n_kw; k++)
                if (!kw_used[k] && js_eq(a->kw_name[k], sig->name[i])) {
                    args[i] = a->kw[k];
                    kw_used[k] = 1;
                }
            if (js_eqc(sig->name[i], "caller"))
                found_caller = 1;
        }
    } else
        for (size_t i = 0; i < np; i++)
            found_caller |= js_eqc(sig->name[i], "caller");
    jv caller = JV_ABSENT;
    if ((flags & MAC_CALLER) && !found_caller) {
        for (size_t k = 0; k < a->n_kw; k++)
            if (!kw_used[k] && js_eqc(a->kw_name[k], "caller")) {
                caller = a->kw[k];
                kw_used[k] = 1;
            }
        if (caller.k == JK_ABSENT || caller.k == JK_NONE)
            caller = jv_undef_hint(&r->a, "No caller defined");
    }
    struct jscope *s = scope_new(r, m->scope);
    if (flags & MAC_KWARGS) {
        struct jdict *d = jd_new(&r->a);
        for (size_t k = 0; k < a->n_kw; k++)
            if (!kw_used[k])
                jd_set(&r->a, d, jv_str(a->kw_name[k]), a->kw[k]);
        scope_set(r, s, js_cstr(&r->a, "kwargs", 0), jv_dict(d));
    } else
        for (size_t k = 0; k < a->n_kw; k++)
            if (!kw_used[k]) {
                if (js_eqc(a->kw_name[k], "caller"))
                    jr_fail(r, "macro '%s' was invoked with two values for the special caller "
                               "argument. This is most likely a bug.", mname);
                jr_fail(r, "macro '%s' takes no keyword argument '%s'", mname,
                        a->kw_name[k]->s);
            }
    if (flags & MAC_VARARGS) {
        struct jlist *l = jl_new(&r->a, 0);
        for (size_t i = np; i < a->n_pos; i++)
            jl_push(&r->a, l, a->pos[i]);
        scope_set(r, s, js_cstr(&r->a, "varargs", 0), jv_tuple(l));
    } else if (a->n_pos > np)
        jr_fail(r, "macro '%s' takes not more than %zu argument(s)", mname, np);
    if (caller.k != JK_ABSENT)
        scope_set(r, s, js_cstr(&r->a, "caller", 0), caller);
    /* parameters, then the defaults of those not given (evaluated in the macro's scope) */
    struct jscope *saved = r->scope;
    r->scope = s;
    for (size_t i = 0; i < np; i++) {
        jv v = args[i];
        if (v.k == JK_ABSENT) {
            size_t first_def = np - sig->n_def;
            if (i >= first_def)
                v = ev_expr(r, sig->def[i - first_def]);
            else {
                char *hint = ja_alloc(&r->a, sig->name[i]->len + 40);
                sprintf(hint, "parameter '%s' was not provided", sig->name[i]->s);
                v = jv_undef_hint(&r->a, hint);
            }
        }
        scope_set(r, s, sig->name[i], v);
    }
    r->scope = saved;
    depth_enter(r);
    jstr *out = capture(r, def->v, def->n, s, NULL);
    r->depth--;
    return jv_str(out);
}

/* for-loop machinery, shared by {% for %} and recursive loop(...) calls */
static void loop_run(struct jrender *r, const struct jnode *n, jv *items, size_t cnt,
                     int depth0, struct jscope *outer);

static jv loop_call(struct jrender *r, struct jloop *lp, struct jargv *a) {
    if (!(lp->forn->flags & 1))
        jr_fail(r, "The loop must have the 'recursive' marker to be called recursively.");
    if (a->n_pos != 1 || a->n_kw)
        jr_fail(r, "loop() takes exactly one argument (%zu given)", a->n_pos + a->n_kw);
    jv *items;
    size_t cnt;
    jv_iterate_view(r, a->pos[0], &items, &cnt);
    struct jsb buf, *saved = r->out;
    jsb_init(&buf, &r->a, r->lim.max_output);
    r->out = &buf;
    depth_enter(r);
    loop_run(r, lp->forn, items, cnt, lp->depth0 + 1, lp->scope);
    r->depth--;
    r->out = saved;
    return jv_str(jsb_done(&buf));
}

jv ev_call_value(struct jrender *r, jv f, struct jargv *a) {
    switch (f.k) {
    case JK_UNDEF:
        ev_fail_undef(r, f);
    case JK_MACRO:
        return macro_call(r, f.u.m, a);
    case JK_FUNC:
        return jb_call(r, f.u.fn, a);
    case JK_LOOP:
        return loop_call(r, f.u.lp, a);
    case JK_JOINER: {
        if (a->n_pos || a->n_kw)
            jr_fail(r, "Joiner.__call__() takes 1 positional argument but %zu were given",
                    a->n_pos + 1);
        if (!f.u.jo->used) {
            f.u.jo->used = 1;
            return jv_str(js_new(&r->a, "", 0, 0));
        }
        return f.u.jo->sep;
    }
    default:
        jr_fail(r, "'%s' object is not callable", jv_type_name(f));
    }
}

/* Evaluates a call's arguments (and *args, **kwargs) into a. */
static void ev_args(struct jrender *r, const struct jcall *c, struct jargv *a, size_t extra_kw) {
    size_t n_pos = c->n_pos, n_kw = c->n_kw + extra_kw;
    jv dyn = JV_ABSENT, dynk = JV_ABSENT;
    jv *dyn_items = NULL;
    size_t n_dyn = 0;
    if (c->dyn_args) {
        dyn = ev_expr(r, c->dyn_args);
        jv_iterate(r, dyn, &dyn_items, &n_dyn);
    }
    if (c->dyn_kwargs) {
        dynk = ev_expr(r, c->dyn_kwargs);
        if (dynk.k != JK_DICT)
            jr_fail(r, "argument after ** must be a mapping, not %s", jv_type_name(dynk));
        n_kw += dynk.u.d->n;
    }
    a->pos = ja_alloc(&r->a, (n_pos + n_dyn + 1) * sizeof(jv));
    a->kw = ja_alloc(&r->a, (n_kw + 1) * sizeof(jv));
    a->kw_name = ja_alloc(&r->a, (n_kw + 1) * sizeof(jstr *));
    a->n_pos = 0;
    a->n_kw = 0;
    for (size_t i = 0; i < c->n_pos; i++)
        a->pos[a->n_pos++] = ev_expr(r, c->pos[i]);
    for (size_t i = 0; i < n_dyn; i++)
        a->pos[a->n_pos++] = dyn_items[i];
    for (size_t i = 0; i < c->n_kw; i++) {
        a->kw_name[a->n_kw] = c->kw_name[i];
        a->kw[a->n_kw++] = ev_expr(r, c->kw[i]);
    }
    if (dynk.k == JK_DICT)
        for (size_t i = 0; i < dynk.u.d->n; i++) {
            if (dynk.u.d->key[i].k != JK_STR)
                jr_fail(r, "keywords must be strings");
            a->kw_name[a->n_kw] = dynk.u.d->key[i].u.s;
            a->kw[a->n_kw++] = dynk.u.d->val[i];
        }
}

static jv ev_call(struct jrender *r, const struct jnode *n, jstr *extra_name, jv extra) {
    jv f = ev_expr(r, n->a);
    struct jargv a;
    ev_args(r, n->call, &a, extra_name ? 1 : 0);
    if (extra_name) {
        a.kw_name[a.n_kw] = extra_name;
        a.kw[a.n_kw++] = extra;
    }
    r->at = n;
    return ev_call_value(r, f, &a);
}

/* A filter chain of a set or filter block: the innermost filter gets input. */
static jv apply_filters(struct jrender *r, const struct jnode *f, jv input) {
    if (f->a)
        input = apply_filters(r, f->a, input);
    struct jargv a;
    ev_args(r, f->call, &a, 0);
    r->at = f;
    if (f->flags & 1)
        jr_fail(r, "No filter named '%s' found.", f->name->s);
    return jb_filter(r, f->id, input, &a);
}

/* ---- expressions ---- */

static jv ev_expr_inner(struct jrender *r, const struct jnode *n) {
    switch (n->kind) {
    case N_CONST:
        return n->val;
    case N_NAME: {
        jv *v = scope_lookup(r->scope, n->name);
        return v ? *v : jv_undef_name(&r->a, n->name);
    }
    case N_LIST:
    case N_TUPLE: {
        struct jlist *l = jl_new(&r->a, n->n);
        for (size_t i = 0; i < n->n; i++)
            l->v[l->n++] = ev_expr(r, n->v[i]);
        return n->kind == N_LIST ? jv_list(l) : jv_tuple(l);
    }
    case N_DICT: {
        struct jdict *d = jd_new(&r->a);
        for (size_t i = 0; i + 1 < n->n; i += 2) {
            jv k = ev_expr(r, n->v[i]);
            jv v = ev_expr(r, n->v[i + 1]);
            if (!jv_hashable(k)) {
                r->at = n->v[i];
                jr_fail(r, "unhashable type: '%s'", jv_type_name(k));
            }
            jd_set(&r->a, d, k, v);
        }
        return jv_dict(d);
    }
    case N_GETATTR: {
        jv obj = ev_expr(r, n->a);
        r->at = n;
        return ev_getattr(r, obj, n->name);
    }
    case N_GETITEM: {
        jv obj = ev_expr(r, n->a);
        if (n->b->kind == N_SLICE) {
            const struct jnode *s = n->b;
            jv a = s->a ? ev_expr(r, s->a) : JV_NONE;
            jv b = s->b ? ev_expr(r, s->b) : JV_NONE;
            jv c = s->c ? ev_expr(r, s->c) : JV_NONE;
            r->at = n;
            return ev_slice(r, obj, a, b, c);
        }
        jv key = ev_expr(r, n->b);
        r->at = n;
        return ev_getitem(r, obj, key);
    }
    case N_SLICE: /* only inside [] */
        jr_fail(r, "a slice outside a subscript");
    case N_CALL:
        return ev_call(r, n, NULL, JV_NONE);
    case N_FILTER: {
        jv x = n->a ? ev_expr(r, n->a) : JV_UNDEF;
        struct jargv a;
        ev_args(r, n->call, &a, 0);
        r->at = n;
        if (n->flags & 1)
            jr_fail(r, "No filter named '%s' found.", n->name->s);
        return jb_filter(r, n->id, x, &a);
    }
    case N_TEST: {
        jv x = ev_expr(r, n->a);
        struct jargv a;
        ev_args(r, n->call, &a, 0);
        r->at = n;
        if (n->flags & 1)
            jr_fail(r, "No test named '%s' found.", n->name->s);
        return jv_bool(jb_test(r, n->id, x, &a));
    }
    case N_NOT:
        return jv_bool(!jv_truth(ev_expr(r, n->a)));
    case N_NEG:
    case N_POS: {
        jv x = ev_expr(r, n->a);
        r->at = n;
        if (x.k == JK_UNDEF)
            ev_fail_undef(r, x);
        if (x.k == JK_FLOAT)
            return jv_float(n->kind == N_NEG ? -x.u.f : x.u.f);
        if (x.k == JK_INT || x.k == JK_BOOL) {
            if (n->kind == N_POS)
                return jv_int(x.u.i);
            if (x.u.i == INT64_MIN)
                jr_fail(r, "integer result too large");
            return jv_int(-x.u.i);
        }
        jr_fail(r, "bad operand type for unary %c: '%s'", n->kind == N_NEG ? '-' : '+',
                jv_type_name(x));
    }
    case N_BINOP: {
        jv a = ev_expr(r, n->a);
        jv b = ev_expr(r, n->b);
        r->at = n;
        return ev_binop(r, n->op, a, b);
    }
    case N_CONCAT: {
        struct jsb b;
        jsb_init(&b, &r->a, r->lim.max_output);
        for (size_t i = 0; i < n->n; i++) {
            jv x = ev_expr(r, n->v[i]);
            jv_put_str(r, &b, x);
        }
        return jv_str(jsb_done(&b));
    }
    case N_AND: {
        jv a = ev_expr(r, n->a);
        return jv_truth(a) ? ev_expr(r, n->b) : a;
    }
    case N_OR: {
        jv a = ev_expr(r, n->a);
        return jv_truth(a) ? a : ev_expr(r, n->b);
    }
    case N_COMPARE: {
        jv left = ev_expr(r, n->a);
        for (size_t i = 0; i < n->n; i++) {
            jv right = ev_expr(r, n->v[i]->a);
            r->at = n->v[i];
            if (!ev_compare_op(r, n->v[i]->op, left, right))
                return JV_FALSE;
            left = right;
        }
        return JV_TRUE;
    }
    case N_CONDEXPR:
        if (jv_truth(ev_expr(r, n->a)))
            return ev_expr(r, n->b);
        if (n->c)
            return ev_expr(r, n->c);
        {
            char *hint = ja_alloc(&r->a, 120);
            snprintf(hint, 120, "the inline if-expression on line %u evaluated to false and "
                                "no else section was defined.", n->line);
            return jv_undef_hint(&r->a, hint);
        }
    default:
        jr_fail(r, "not an expression");
    }
}

jv ev_expr(struct jrender *r, const struct jnode *n) {
    const struct jnode *saved = r->at;
    r->at = n;
    jr_step(r, 1);
    depth_enter(r);
    jv v = ev_expr_inner(r, n);
    r->depth--;
    r->at = saved;
    return v;
}

jv ev_test_call(struct jrender *r, int id, jv x, struct jargv *a) {
    return jv_bool(jb_test(r, id, x, a));
}

/* ---- statements ---- */

/* Runs the loop n over items[0..cnt) (borrowed, not changed). One scope serves every
 * iteration, emptied at the start of each: a set in one iteration is gone in the next, as in
 * jinja2, and a macro defined in the body sees the variables' latest values, as Python's
 * closures do. */
static void loop_run(struct jrender *r, const struct jnode *n, jv *items, size_t cnt,
                     int depth0, struct jscope *outer) {
    struct jscope *s = scope_new(r, outer), *saved = r->scope;
    if (n->c) { /* for x in y if cond: the items that pass */
        jv *kept = ja_raw(&r->a, ja_mul(&r->a, cnt ? cnt : 1, sizeof(jv)));
        size_t k = 0;
        for (size_t i = 0; i < cnt; i++) {
            jd_clear(&s->vars);
            bind(r, n->a, items[i], s);
            r->scope = s;
            int keep = jv_truth(ev_expr(r, n->c));
            r->scope = saved;
            if (keep)
                kept[k++] = items[i];
        }
        items = kept;
        cnt = k;
    }
    if (!cnt) {
        if (n->nw) {
            jd_clear(&s->vars);
            r->scope = s;
            ex_body(r, n->w, n->nw);
            r->scope = saved;
        }
        return;
    }
    struct jloop *lp = ja_alloc(&r->a, sizeof *lp);
    lp->v = items;
    lp->n = cnt;
    lp->depth0 = depth0;
    lp->forn = n;
    lp->scope = outer;
    jv loopv = {JK_LOOP, 0, {.lp = lp}};
    jstr *loop_name = js_cstr(&r->a, "loop", 0);
    for (size_t i = 0; i < cnt; i++) {
        jr_step(r, 1);
        jd_clear(&s->vars);
        lp->i = i;
        scope_set(r, s, loop_name, loopv);
        bind(r, n->a, items[i], s);
        r->scope = s;
        int flow = ex_body(r, n->v, n->n);
        r->scope = saved;
        if (flow == FLOW_BREAK)
            break;
    }
}

static int ex_stmt(struct jrender *r, const struct jnode *n) {
    r->at = n;
    jr_step(r, 1);
    switch (n->kind) {
    case N_DATA:
        jsb_putjs(r->out, n->name);
        return FLOW_NORMAL;
    case N_PRINT: {
        jv v = ev_expr(r, n->a);
        r->at = n;
        jv_put_str(r, r->out, v);
        return FLOW_NORMAL;
    }
    case N_IF:
        if (jv_truth(ev_expr(r, n->a)))
            return ex_body(r, n->v, n->n);
        return ex_body(r, n->w, n->nw);
    case N_FOR: {
        jv it = ev_expr(r, n->b);
        r->at = n;
        jv *items;
        size_t cnt;
        jv_iterate_view(r, it, &items, &cnt);
        depth_enter(r);
        loop_run(r, n, items, cnt, 0, r->scope);
        r->depth--;
        return FLOW_NORMAL;
    }
    case N_SET: {
        jv v = ev_expr(r, n->b);
        bind(r, n->a, v, r->scope);
        return FLOW_NORMAL;
    }
    case N_SETBLOCK: {
        int flow;
        depth_enter(r);
        jstr *s = capture(r, n->v, n->n, scope_new(r, r->scope), &flow);
        r->depth--;
        if (flow != FLOW_NORMAL)
            return flow;
        jv v = jv_str(s);
        if (n->b)
            v = apply_filters(r, n->b, v);
        bind(r, n->a, v, r->scope);
        return FLOW_NORMAL;
    }
    case N_MACRO: {
        struct jmacro *m = ja_alloc(&r->a, sizeof *m);
        m->def = n;
        m->scope = r->scope;
        m->name = n->name;
        jv v = {JK_MACRO, 0, {.m = m}};
        scope_set(r, r->scope, n->name, v);
        return FLOW_NORMAL;
    }
    case N_CALLBLOCK: {
        struct jmacro *m = ja_alloc(&r->a, sizeof *m);
        m->def = n;
        m->scope = r->scope;
        m->name = js_cstr(&r->a, "caller", 0);
        jv caller = {JK_MACRO, 0, {.m = m}};
        jv v = ev_call(r, n->a, m->name, caller);
        r->at = n;
        jv_put_str(r, r->out, v);
        return FLOW_NORMAL;
    }
    case N_FILTERBLOCK: {
        int flow;
        depth_enter(r);
        jstr *s = capture(r, n->v, n->n, scope_new(r, r->scope), &flow);
        r->depth--;
        jv v = apply_filters(r, n->b, jv_str(s));
        r->at = n;
        jv_put_str(r, r->out, v);
        return flow;
    }
    case N_BREAK:
        return FLOW_BREAK;
    case N_CONTINUE:
        return FLOW_CONTINUE;
    case N_WITH: {
        struct jscope *s = scope_new(r, r->scope);
        for (size_t i = 0; i + 1 < n->nw; i += 2)
            bind(r, n->w[i], ev_expr(r, n->w[i + 1]), s);
        struct jscope *saved = r->scope;
        r->scope = s;
        depth_enter(r);
        int flow = ex_body(r, n->v, n->n);
        r->depth--;
        r->scope = saved;
        return flow;
    }
    case N_BODY: {
        struct jscope *saved = r->scope;
        r->scope = scope_new(r, saved);
        depth_enter(r);
        int flow = ex_body(r, n->v, n->n);
        r->depth--;
        r->scope = saved;
        return flow;
    }
    default:
        jr_fail(r, "not a statement");
    }
}

static int ex_body(struct jrender *r, struct jnode *const *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int flow = ex_stmt(r, v[i]);
        if (flow != FLOW_NORMAL)
            return flow;
    }
    return FLOW_NORMAL;
}

/* ---- binding arguments (for the builtins) ---- */

/* Binds a's arguments to names[0..n) (the parameters after the value): out[i] is the argument
 * or JV_ABSENT. Fails like Python on too many, unknown or repeated arguments. */
void ev_bind_args(struct jrender *r, const char *fname, struct jargv *a,
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

void ev_no_args(struct jrender *r, const char *fname, struct jargv *a) {
    if (a->n_pos || a->n_kw)
        jr_fail(r, "%s() takes no arguments (%zu given)", fname, a->n_pos + a->n_kw);
}

int64_t ev_arg_int(struct jrender *r, jv v, int64_t def, const char *what) {
    if (v.k == JK_ABSENT || v.k == JK_NONE)
        return def;
    if (v.k == JK_INT || v.k == JK_BOOL)
        return v.u.i;
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "'%s' object cannot be interpreted as an integer (%s)", jv_type_name(v), what);
}

const jstr *ev_arg_str(struct jrender *r, jv v, const char *what) {
    if (v.k == JK_STR)
        return v.u.s;
    if (v.k == JK_UNDEF)
        ev_fail_undef(r, v);
    jr_fail(r, "%s must be str, not %s", what, jv_type_name(v));
}

jstr *jstr_empty(struct jrender *r) {
    return js_new(&r->a, "", 0, JINJA_ORIGIN_TEMPLATE);
}

/* str(x), the way filters take their value (ev_soft_str) */
jstr *ev_soft_str(struct jrender *r, jv x) {
    return jv_to_str(r, x);
}

/* ---- rendering ---- */

int jinja_render(const jinja_tmpl *t, const jinja_ctx *c, struct jinja_out *out, char *err,
                 size_t err_len) {
    memset(out, 0, sizeof *out);
    if (err_len)
        err[0] = 0;
    struct jrender *volatile rv = calloc(1, sizeof *rv);
    if (!rv) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    struct jrender *r = rv;
    int rc = -1;
    locale_t c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c_loc ? uselocale(c_loc) : (locale_t)0;
    r->uloc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    r->err = err;
    r->err_len = err_len;
    r->ctx = c;
    r->lim = c ? c->lim : jinja_default_limits();
    if (c)
        r->now = c->now;
    else {
        time_t now = time(NULL);
        localtime_r(&now, &r->now);
    }
    r->a.limit = r->lim.max_memory;
    r->a.fail = render_arena_fail;
    r->a.ud = r;
    if (setjmp(r->jb)) {
        r = rv;
        goto out;
    }
    /* scopes: the template's, then the context's variables, then the built-in globals */
    struct jscope *builtins = scope_new(r, NULL);
    static const char *const globals[] = {"range", "namespace", "dict", "cycler", "joiner",
                                          "raise_exception", "strftime_now", NULL};
    for (const char *const *g = globals; *g; g++)
        scope_set(r, builtins, js_cstr(&r->a, *g, 0),
                  jb_global(&r->a, jb_global_find(*g, strlen(*g))));
    struct jscope *vars = scope_new(r, builtins);
    if (c)
        vars->vars = c->vars; /* read only: sets go to the template's scope */
    r->globals = vars;
    r->scope = scope_new(r, vars);
    struct jsb *o = ja_alloc(&r->a, sizeof *o);
    jsb_init(o, &r->a, r->lim.max_output);
    r->out = o;
    if (t)
        ex_body(r, t->body, t->n);
    out->text = malloc(o->len + 1);
    out->origin = malloc(o->len + 1);
    if (!out->text || !out->origin) {
        free(out->text);
        free(out->origin);
        memset(out, 0, sizeof *out);
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    if (o->len) {
        memcpy(out->text, o->s, o->len);
        memcpy(out->origin, o->org, o->len);
    }
    out->text[o->len] = 0;
    out->origin[o->len] = 0;
    out->len = o->len;
    rc = 0;
out:
    ja_free(&r->a);
    if (r->uloc)
        freelocale(r->uloc);
    if (c_loc) {
        uselocale(old);
        freelocale(c_loc);
    }
    free(r);
    return rc;
}

void jinja_out_free(struct jinja_out *o) {
    if (!o)
        return;
    free(o->text);
    free(o->origin);
    memset(o, 0, sizeof *o);
}

size_t jinja_out_run(const struct jinja_out *o, size_t pos) {
    if (!o || pos >= o->len)
        return 0;
    size_t e = pos + 1;
    while (e < o->len && o->origin[e] == o->origin[pos])
        e++;
    return e - pos;
}

/* ---- contexts ---- */

static void ctx_arena_fail(void *ud, const char *msg) {
    struct jinja_ctx *c = ud;
    snprintf(c->err, c->err_len, "%s", msg);
    longjmp(*c->jb, 1);
}

jinja_ctx *jinja_ctx_new(void) {
    struct jinja_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->a.fail = ctx_arena_fail;
    c->a.ud = c;
    c->lim = jinja_default_limits();
    time_t now = time(NULL);
    localtime_r(&now, &c->now);
    return c;
}

void jinja_ctx_free(jinja_ctx *c) {
    if (!c)
        return;
    ja_free(&c->a);
    free(c);
}

/* Runs set(c, ud) with out-of-memory errors caught: 0 or -1. */
static int ctx_guard(jinja_ctx *c, char *err, size_t err_len,
                     void (*set)(jinja_ctx *c, void *ud), void *ud) {
    char dummy[64];
    jmp_buf jb;
    c->jb = &jb;
    c->err = err_len ? err : dummy;
    c->err_len = err_len ? err_len : sizeof dummy;
    if (setjmp(jb)) {
        c->jb = NULL;
        return -1;
    }
    set(c, ud);
    c->jb = NULL;
    return 0;
}

struct set_args {
    const char *name;
    jv v;
    const char *json;
    size_t len;
    int flags;
};

static void set_value(jinja_ctx *c, void *ud) {
    struct set_args *s = ud;
    jv v = s->v;
    if (s->json) {
        locale_t c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        locale_t old = c_loc ? uselocale(c_loc) : (locale_t)0;
        v = jv_from_json(&c->a, s->json, s->len,
                         s->flags & JINJA_JSON_TEMPLATE ? JINJA_ORIGIN_TEMPLATE
                                                        : JINJA_ORIGIN_DATA,
                         s->flags & JINJA_JSON_ROLES_TRUSTED ? JINJA_ORIGIN_TEMPLATE : -1);
        if (c_loc) {
            uselocale(old);
            freelocale(c_loc);
        }
    }
    if (s->name) {
        jd_set(&c->a, &c->vars, jv_str(js_cstr(&c->a, s->name, 0)), v);
        return;
    }
    for (size_t i = 0; i < v.u.d->n; i++) /* the members of an object */
        jd_set(&c->a, &c->vars, v.u.d->key[i], v.u.d->val[i]);
}

static int ctx_json(jinja_ctx *c, const char *name, const char *json, size_t len, int flags,
                    char *err, size_t err_len) {
    char msg[96];
    if (json_syntax_error(json, len, msg, sizeof msg)) {
        snprintf(err, err_len, "%s", msg);
        return -1;
    }
    if (!name && json_syntax_top(json, len) != '{') {
        snprintf(err, err_len, "expected a JSON object");
        return -1;
    }
    struct set_args s = {name, JV_NONE, json, len, flags};
    return ctx_guard(c, err, err_len, set_value, &s);
}

int jinja_ctx_set_json(jinja_ctx *c, const char *name, const char *json, size_t len, int flags,
                       char *err, size_t err_len) {
    return ctx_json(c, name, json, len, flags, err, err_len);
}

int jinja_ctx_set_json_vars(jinja_ctx *c, const char *json, size_t len, int flags, char *err,
                            size_t err_len) {
    return ctx_json(c, NULL, json, len, flags, err, err_len);
}

struct set_str_args {
    const char *name, *s;
    size_t len;
    int origin;
};

static void set_str(jinja_ctx *c, void *ud) {
    struct set_str_args *a = ud;
    struct set_args s = {a->name, jv_str(js_new(&c->a, a->s, a->len, a->origin)), NULL, 0, 0};
    set_value(c, &s);
}

int jinja_ctx_set_str(jinja_ctx *c, const char *name, const char *s, size_t len, int origin) {
    struct set_str_args a = {name, s, len, origin};
    return ctx_guard(c, NULL, 0, set_str, &a);
}

int jinja_ctx_set_bool(jinja_ctx *c, const char *name, int value) {
    struct set_args s = {name, jv_bool(value), NULL, 0, 0};
    return ctx_guard(c, NULL, 0, set_value, &s);
}

int jinja_ctx_set_none(jinja_ctx *c, const char *name) {
    struct set_args s = {name, JV_NONE, NULL, 0, 0};
    return ctx_guard(c, NULL, 0, set_value, &s);
}

int jinja_ctx_has(const jinja_ctx *c, const char *name) {
    return c && jd_gets(&c->vars, name, strlen(name)) != NULL;
}

void jinja_ctx_set_now(jinja_ctx *c, const struct tm *now) {
    c->now = *now;
}

void jinja_ctx_set_limits(jinja_ctx *c, const struct jinja_limits *l) {
    c->lim = *l;
}
