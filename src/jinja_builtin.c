/* src/jinja_builtin.c — what templates call: jinja2's filters and tests, Python's str, dict
 * and list methods (the immutable sandbox's view: list.append, dict.update... are unsafe),
 * and the globals transformers provides (range, namespace, dict, cycler, joiner,
 * raise_exception, strftime_now). Semantics follow jinja2 3.1 / Python 3 (filters.py,
 * tests.py, sandbox.py); arguments bind like Python's with Python's error words; the string
 * work itself is jinja_str.c's. Any thread. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_impl.h"

#define T JINJA_ORIGIN_TEMPLATE

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
    ev_no_args(r, "length", a);
    return jv_int(py_len(r, x));
}

static jv f_abs(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "abs", a);
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
    ev_bind_args(r, "attr", a, names, 1, v);
    jstr *name = (jstr *)ev_arg_str(r, v[0], "attribute name");
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
    ev_bind_args(r, "batch", a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "do_batch() missing 1 required positional argument: 'linecount'");
    int64_t count = ev_arg_int(r, v[0], 0, "linecount");
    jv fill = ev_arg_or(v[1], JV_NONE);
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
    ev_no_args(r, "capitalize", a);
    return jstr_case(r, x.k == JK_STR ? x : jv_str(ev_soft_str(r, x)), CASE_CAPITALIZE);
}

static jv f_center(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"width"};
    jv v[1];
    ev_bind_args(r, "center", a, names, 1, v);
    jv s = x.k == JK_STR ? x : jv_str(ev_soft_str(r, x));
    return jstr_pad(r, s, ev_arg_int(r, v[0], 80, "width"), JV_ABSENT, 2);
}

static jv f_default(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"default_value", "boolean"};
    jv v[2];
    ev_bind_args(r, "default", a, names, 2, v);
    jv def = v[0].k == JK_ABSENT ? jv_str(jstr_empty(r)) : v[0];
    if (x.k == JK_UNDEF || (v[1].k != JK_ABSENT && jv_truth(v[1]) && !jv_truth(x)))
        return def;
    return x;
}

static jv f_dictsort(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"case_sensitive", "by", "reverse"};
    jv v[3];
    ev_bind_args(r, "dictsort", a, names, 3, v);
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
        keys[i] = jv_truth(ev_arg_or(v[0], JV_FALSE)) ? k : ignore_case(r, k);
    }
    sort_by_keys(r, items, keys, d->n, jv_truth(ev_arg_or(v[2], JV_FALSE)));
    struct jlist *l = jl_new(&r->a, 0);
    l->v = items;
    l->n = l->cap = d->n;
    return jv_list(l);
}

static jv f_escape(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "escape", a);
    return jb_escape(r, x);
}

static jv f_forceescape(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "forceescape", a);
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
            jstr_cp(x.u.s, 0, &k);
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
    ev_no_args(r, "first", a);
    int found;
    jv v = iterate_first(r, x, &found);
    return found ? v : jv_undef_hint(&r->a, "No first item, sequence was jstr_empty.");
}

static jv f_last(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "last", a);
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
            jstr_cp(x.u.s, i, &k);
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
    return jv_undef_hint(&r->a, "No last item, sequence was jstr_empty.");
}

static jv f_float(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"default"};
    jv v[1];
    ev_bind_args(r, "float", a, names, 1, v);
    jv def = ev_arg_or(v[0], jv_float(0.0));
    double f;
    switch (x.k) {
    case JK_FLOAT:
        return x;
    case JK_INT:
    case JK_BOOL:
        return jv_float((double)x.u.i);
    case JK_STR:
        return jstr_to_float(x.u.s, &f) == 0 ? jv_float(f) : def;
    case JK_UNDEF:
        ev_fail_undef(r, x);
    default:
        return def;
    }
}

static jv f_format(struct jrender *r, jv x, struct jargv *a) {
    jstr *s = ev_soft_str(r, x);
    jv args;
    if (a->n_kw) {
        struct jdict *d = jd_new(&r->a);
        for (size_t i = 0; i < a->n_kw; i++)
            jd_set(&r->a, d, jv_str(a->kw_name[i]), a->kw[i]);
        args = jv_dict(d);
    } else {
        struct jlist *l = jl_new(&r->a, a->n_pos);
        jv_copy(l->v, a->pos, a->n_pos);
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
    ev_bind_args(r, "groupby", a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "do_groupby() missing 1 required positional argument: 'attribute'");
    struct attrpath p;
    attrpath_make(r, v[0], &p);
    int ci = !jv_truth(ev_arg_or(v[2], JV_FALSE));
    jv def = ev_arg_or(v[1], JV_NONE);
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
    ev_bind_args(r, "indent", a, names, 3, v);
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    if (x.k != JK_STR)
        jr_fail(r, "unsupported operand type(s) for +=: '%s' and 'str'", jv_type_name(x));
    jstr *ind;
    if (v[0].k == JK_STR)
        ind = v[0].u.s;
    else {
        int64_t w = ev_arg_int(r, v[0], 4, "width");
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
    jv lines = jstr_splitlines(r, jsb_done(&sb), 0);
    const struct jlist *l = lines.u.l;
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    if (jv_truth(ev_arg_or(v[1], JV_FALSE)))
        jsb_putjs(&b, ind);
    int blank = jv_truth(ev_arg_or(v[2], JV_FALSE));
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
    ev_bind_args(r, "int", a, names, 2, v);
    jv def = ev_arg_or(v[0], jv_int(0));
    int64_t base = ev_arg_int(r, v[1], 10, "base");
    switch (x.k) {
    case JK_INT:
    case JK_BOOL:
        return jv_int(x.u.i);
    case JK_FLOAT:
        if (isnan(x.u.f) || isinf(x.u.f))
            return def;
        return ev_int_from_float(r, trunc(x.u.f));
    case JK_STR: {
        int64_t i;
        double f;
        if ((base == 0 || (base >= 2 && base <= 36)) && jstr_to_int(x.u.s, (int)base, &i) == 0)
            return jv_int(i);
        if (jstr_to_float(x.u.s, &f) == 0 && !isnan(f) && !isinf(f))
            return ev_int_from_float(r, trunc(f));
        return def;
    }
    case JK_UNDEF:
        ev_fail_undef(r, x);
    default:
        return def;
    }
}

static jv f_items(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "items", a);
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
    ev_bind_args(r, "join", a, names, 2, v);
    jstr *sep = v[0].k == JK_ABSENT ? jstr_empty(r) : ev_soft_str(r, v[0]);
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
    return jstr_join(r, sep, x, 0);
}

static jv f_list(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "list", a);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    struct jlist *l = jl_new(&r->a, 0);
    l->v = items;
    l->n = l->cap = n;
    return jv_list(l);
}

static jv f_lower(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "lower", a);
    return jstr_case(r, x.k == JK_STR ? x : jv_str(ev_soft_str(r, x)), CASE_LOWER);
}

static jv f_upper(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "upper", a);
    return jstr_case(r, x.k == JK_STR ? x : jv_str(ev_soft_str(r, x)), CASE_UPPER);
}

static jv f_title(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "title", a);
    return jstr_case(r, jv_str(ev_soft_str(r, x)), CASE_TITLE_FILTER);
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
    const jstr *name = ev_arg_str(r, a->pos[0], "filter name");
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
    ev_bind_args(r, want_max ? "max" : "min", a, names, 2, v);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    if (!n)
        return jv_undef_hint(&r->a, "No aggregated item, sequence was jstr_empty.");
    struct attrpath p;
    attrpath_make(r, v[1], &p);
    int ci = !jv_truth(ev_arg_or(v[0], JV_FALSE));
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
    ev_no_args(r, "pprint", a);
    return jv_str(jv_to_repr(r, x));
}

static jv f_replace(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"old", "new", "count"};
    jv v[3];
    ev_bind_args(r, "replace", a, names, 3, v);
    if (v[0].k == JK_ABSENT || v[1].k == JK_ABSENT)
        jr_fail(r, "do_replace() missing required argument: '%s'",
                v[0].k == JK_ABSENT ? "old" : "new");
    return jstr_replace(r, ev_soft_str(r, x), ev_soft_str(r, v[0]), ev_soft_str(r, v[1]),
                       ev_arg_int(r, v[2], -1, "count"));
}

static jv f_reverse(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "reverse", a);
    if (x.k == JK_STR) {
        size_t n;
        size_t *o = jstr_offsets(r, x.u.s, &n);
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
    ev_bind_args(r, "round", a, names, 2, v);
    int64_t prec = ev_arg_int(r, v[0], 0, "precision");
    const char *method = "common";
    if (v[1].k != JK_ABSENT) {
        const jstr *m = ev_arg_str(r, v[1], "method");
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
            return ev_int_from_float(r, nearbyint((double)x.u.i / p) * p);
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
    ev_no_args(r, "safe", a);
    jv v = x.k == JK_STR ? x : jv_str(ev_soft_str(r, x));
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
        const jstr *name = ev_arg_str(r, a->pos[off], "test name");
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
    ev_bind_args(r, "slice", a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "do_slice() missing 1 required positional argument: 'slices'");
    int64_t slices = ev_arg_int(r, v[0], 1, "slices");
    jv fill = ev_arg_or(v[1], JV_NONE);
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
    ev_bind_args(r, "sort", a, names, 3, v);
    jv *items;
    size_t n;
    jv_iterate(r, x, &items, &n);
    int ci = !jv_truth(ev_arg_or(v[1], JV_FALSE));
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
    sort_by_keys(r, items, keys, n, jv_truth(ev_arg_or(v[0], JV_FALSE)));
    struct jlist *l = jl_new(&r->a, 0);
    l->v = items;
    l->n = l->cap = n;
    return jv_list(l);
}

static jv f_string(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "string", a);
    return x.k == JK_STR ? x : jv_str(ev_soft_str(r, x));
}

static jv py_sum_add(struct jrender *r, jv acc, jv x);

static jv f_sum(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"attribute", "start"};
    jv v[2];
    ev_bind_args(r, "sum", a, names, 2, v);
    jv acc = ev_arg_or(v[1], jv_int(0));
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
    ev_bind_args(r, "tojson", a, names, 4, v);
    struct jjson_opts o = {0};
    o.ensure_ascii = jv_truth(ev_arg_or(v[0], JV_FALSE));
    jv ind = ev_arg_or(v[1], JV_NONE);
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
    jv sep = ev_arg_or(v[2], JV_NONE);
    if (sep.k != JK_NONE) {
        if (!jv_is_seq(sep) || sep.u.l->n != 2 || sep.u.l->v[0].k != JK_STR ||
            sep.u.l->v[1].k != JK_STR)
            jr_fail(r, "separators must be a (item_separator, key_separator) pair of strings");
        o.item_sep = sep.u.l->v[0].u.s;
        o.key_sep = sep.u.l->v[1].u.s;
    }
    o.sort_keys = jv_truth(ev_arg_or(v[3], JV_FALSE));
    return jv_str(jv_to_json(r, x, &o));
}

static jv f_trim(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"chars"};
    jv v[1];
    ev_bind_args(r, "trim", a, names, 1, v);
    jv s = x.k == JK_STR ? x : jv_str(ev_soft_str(r, x));
    return jstr_strip(r, s, jstr_strip_arg(r, v[0]), 3);
}

static jv f_truncate(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"length", "killwords", "end", "leeway"};
    jv v[4];
    ev_bind_args(r, "truncate", a, names, 4, v);
    jstr *s = ev_soft_str(r, x);
    int64_t length = ev_arg_int(r, v[0], 255, "length");
    int killwords = jv_truth(ev_arg_or(v[1], JV_FALSE));
    jstr *end = v[2].k == JK_ABSENT ? js_cstr(&r->a, "...", T) : ev_soft_str(r, v[2]);
    int64_t leeway = ev_arg_int(r, v[3], 5, "leeway");
    int64_t end_n = (int64_t)u8_count(end->s, end->len);
    if (length < end_n)
        jr_fail(r, "expected length >= %" PRId64 ", got %" PRId64, end_n, length);
    if (leeway < 0)
        jr_fail(r, "expected leeway >= 0, got %" PRId64, leeway);
    size_t n;
    size_t *o = jstr_offsets(r, s, &n);
    if ((int64_t)n <= length + leeway)
        return jv_str(s);
    size_t cut = o[length - end_n];
    struct jsb b;
    jsb_init(&b, &r->a, r->lim.max_output);
    if (killwords)
        jsb_putjs_range(&b, s, 0, cut);
    else {
        const char *sp = jstr_rfind_bytes(s->s, cut, " ", 1);
        jsb_putjs_range(&b, s, 0, sp ? (size_t)(sp - s->s) : cut);
    }
    jsb_putjs(&b, end);
    return jv_str(jsb_done(&b));
}

static jv f_unique(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"case_sensitive", "attribute"};
    jv v[2];
    ev_bind_args(r, "unique", a, names, 2, v);
    jv *items;
    size_t n, k = 0;
    jv_iterate(r, x, &items, &n);
    struct attrpath p;
    attrpath_make(r, v[1], &p);
    int ci = !jv_truth(ev_arg_or(v[0], JV_FALSE));
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
    ev_no_args(r, "wordcount", a);
    return jv_int(jstr_wordcount(r, ev_soft_str(r, x)));
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
    ev_bind_args(r, name, a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() missing 1 required positional argument", name);
    return v[0];
}

static int t_defined(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "defined", a);
    return x.k != JK_UNDEF;
}

static int t_undefined(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "undefined", a);
    return x.k == JK_UNDEF;
}

static int t_none(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "none", a);
    return x.k == JK_NONE;
}

static int t_boolean(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "boolean", a);
    return x.k == JK_BOOL;
}

static int t_false(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "false", a);
    return x.k == JK_BOOL && !x.u.i;
}

static int t_true(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "true", a);
    return x.k == JK_BOOL && x.u.i;
}

static int t_integer(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "integer", a);
    return x.k == JK_INT;
}

static int t_float(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "float", a);
    return x.k == JK_FLOAT;
}

static int t_number(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "number", a);
    return x.k == JK_INT || x.k == JK_FLOAT || x.k == JK_BOOL;
}

static int t_string(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "string", a);
    return x.k == JK_STR;
}

static int t_mapping(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "mapping", a);
    return x.k == JK_DICT;
}

static int t_sequence(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "sequence", a);
    return x.k == JK_STR || x.k == JK_LIST || x.k == JK_TUPLE || x.k == JK_DICT ||
           x.k == JK_UNDEF;
}

static int t_iterable(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "iterable", a);
    return x.k == JK_STR || x.k == JK_LIST || x.k == JK_TUPLE || x.k == JK_DICT ||
           x.k == JK_UNDEF || x.k == JK_ITER || x.k == JK_LOOP;
}

static int t_callable(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "callable", a);
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
    ev_no_args(r, "odd", a);
    return t_odd_even(r, x, 1);
}

static int t_even(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "even", a);
    return t_odd_even(r, x, 0);
}

static int t_divisibleby(struct jrender *r, jv x, struct jargv *a) {
    static const char *const names[] = {"num"};
    jv v[1];
    ev_bind_args(r, "divisibleby", a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "test_divisibleby() missing 1 required positional argument: 'num'");
    if (x.k == JK_UNDEF)
        ev_fail_undef(r, x);
    double q = ev_num_float(r, v[0], "divisibleby");
    if ((x.k == JK_INT || x.k == JK_BOOL) && (v[0].k == JK_INT || v[0].k == JK_BOOL)) {
        if (!v[0].u.i)
            jr_fail(r, "integer division or modulo by zero");
        return v[0].u.i == -1 || x.u.i % v[0].u.i == 0;
    }
    if (q == 0)
        jr_fail(r, "float modulo");
    return fmod(ev_num_float(r, x, "divisibleby"), q) == 0;
}

static int t_lower(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "lower", a);
    return jstr_is(r, ev_soft_str(r, x), IS_LOWER);
}

static int t_upper(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "upper", a);
    return jstr_is(r, ev_soft_str(r, x), IS_UPPER);
}

static int t_escaped(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "escaped", a);
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
        return jstr_find_bytes(seq.u.s->s, seq.u.s->len, x.u.s->s, x.u.s->len) != NULL;
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
    ev_no_args(r, "filter", a);
    return x.k == JK_STR && jb_filter_find(x.u.s->s, x.u.s->len) >= 0;
}

static int t_test(struct jrender *r, jv x, struct jargv *a) {
    ev_no_args(r, "test", a);
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
    ev_bind_args(r, name, a, names, 1, v);
    return jstr_strip(r, self, jstr_strip_arg(r, v[0]), which);
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
    ev_bind_args(r, right ? "rsplit" : "split", a, names, 2, v);
    return jstr_split(r, self.u.s, v[0], ev_arg_int(r, v[1], -1, "maxsplit"), right);
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
    ev_bind_args(r, "splitlines", a, names, 1, v);
    return jstr_splitlines(r, self.u.s, jv_truth(ev_arg_or(v[0], JV_FALSE)));
}

static jv m_fixes(struct jrender *r, jv self, struct jargv *a, int ends) {
    static const char *const names[] = {"prefix", "start", "end"};
    jv v[3];
    const char *fname = ends ? "endswith" : "startswith";
    ev_bind_args(r, fname, a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() takes at least 1 argument (0 given)", fname);
    return jv_bool(jstr_fixes(r, self.u.s, v[0], v[1], v[2], ends, fname));
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
    ev_bind_args(r, "replace", a, names, 3, v);
    if (v[0].k == JK_ABSENT || v[1].k == JK_ABSENT)
        jr_fail(r, "replace() takes at least 2 arguments");
    const jstr *old = ev_arg_str(r, v[0], "replace() argument 1");
    const jstr *new = ev_arg_str(r, v[1], "replace() argument 2");
    if (self.safe) { /* Markup.replace escapes its arguments */
        old = jb_escape(r, v[0]).u.s;
        new = jb_escape(r, v[1]).u.s;
    }
    jv o = jstr_replace(r, self.u.s, old, new, ev_arg_int(r, v[2], -1, "count"));
    o.safe = self.safe;
    return o;
}

static jv m_str_upper(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "upper", a);
    return jstr_case(r, self, CASE_UPPER);
}

static jv m_str_lower(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "lower", a);
    return jstr_case(r, self, CASE_LOWER);
}

static jv m_str_casefold(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "casefold", a);
    jv v = jstr_case(r, self, CASE_LOWER);
    v.safe = 0;
    return v;
}

static jv m_str_title(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "title", a);
    return jstr_case(r, self, CASE_TITLE);
}

static jv m_str_capitalize(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "capitalize", a);
    return jstr_case(r, self, CASE_CAPITALIZE);
}

static jv m_str_swapcase(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "swapcase", a);
    return jstr_case(r, self, CASE_SWAP);
}

static jv m_str_format(struct jrender *r, jv self, struct jargv *a) {
    jv v = jv_str(jstr_format(r, self.u.s, a, 0));
    v.safe = self.safe;
    return v;
}

static jv m_find(struct jrender *r, jv self, struct jargv *a, int right, int raise,
                 const char *fname) {
    static const char *const names[] = {"sub", "start", "end"};
    jv v[3];
    ev_bind_args(r, fname, a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() takes at least 1 argument (0 given)", fname);
    const jstr *sub = ev_arg_str(r, v[0], "must be str");
    int64_t i = jstr_find(r, self.u.s, sub, v[1], v[2], right);
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
    ev_bind_args(r, "count", a, names, 3, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "count() takes at least 1 argument (0 given)");
    const jstr *sub = ev_arg_str(r, v[0], "must be str");
    STR_SELF;
    size_t x, y;
    jstr_range(r, s, v[1], v[2], &x, &y);
    if (x > y)
        return jv_int(0);
    if (!sub->len)
        return jv_int((int64_t)u8_count(s->s + x, y - x) + 1);
    int64_t n = 0;
    for (size_t i = x; i + sub->len <= y;) {
        const char *p = jstr_find_bytes(s->s + i, y - i, sub->s, sub->len);
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
    ev_bind_args(r, "join", a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "str.join() takes exactly one argument (0 given)");
    if (v[0].k == JK_NONE || v[0].k == JK_INT || v[0].k == JK_FLOAT || v[0].k == JK_BOOL)
        jr_fail(r, "can only join an iterable");
    jv o = jstr_join(r, self.u.s, v[0], 1);
    return o;
}

static jv m_pad(struct jrender *r, jv self, struct jargv *a, int how, const char *fname) {
    static const char *const names[] = {"width", "fillchar"};
    jv v[2];
    ev_bind_args(r, fname, a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "%s() takes at least 1 argument (0 given)", fname);
    return jstr_pad(r, self, ev_arg_int(r, v[0], 0, "width"), v[1], how);
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
    ev_bind_args(r, "zfill", a, names, 1, v);
    STR_SELF;
    int64_t w = ev_arg_int(r, v[0], 0, "width"), n = (int64_t)u8_count(s->s, s->len);
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
    ev_bind_args(r, right ? "rpartition" : "partition", a, names, 1, v);
    const jstr *sep = ev_arg_str(r, v[0], "must be str");
    if (!sep->len)
        jr_fail(r, "jstr_empty separator");
    STR_SELF;
    const char *p = right ? jstr_rfind_bytes(s->s, s->len, sep->s, sep->len)
                          : jstr_find_bytes(s->s, s->len, sep->s, sep->len);
    struct jlist *l = jl_new(&r->a, 3);
    l->n = 3;
    if (!p) {
        l->v[right ? 2 : 0] = self;
        l->v[1] = jv_str(jstr_empty(r));
        l->v[right ? 0 : 2] = jv_str(jstr_empty(r));
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
    ev_bind_args(r, suffix ? "removesuffix" : "removeprefix", a, names, 1, v);
    const jstr *fx = ev_arg_str(r, v[0], "must be str");
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

static jv m_is(struct jrender *r, jv self, struct jargv *a, int what, const char *fname) {
    ev_no_args(r, fname, a);
    return jv_bool(jstr_is(r, self.u.s, what) && self.u.s->len);
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
    ev_bind_args(r, "get", a, names, 2, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "get expected at least 1 argument, got 0");
    if (!jv_hashable(v[0]))
        jr_fail(r, "unhashable type: '%s'", jv_type_name(v[0]));
    jv *x = jd_get(self.u.d, v[0]);
    return x ? *x : ev_arg_or(v[1], JV_NONE);
}

static jv dict_view(struct jrender *r, jv self, struct jargv *a, int what, const char *fname) {
    ev_no_args(r, fname, a);
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
    ev_no_args(r, "copy", a);
    struct jdict *d = jd_new(&r->a);
    for (size_t i = 0; i < self.u.d->n; i++)
        jd_set(&r->a, d, self.u.d->key[i], self.u.d->val[i]);
    return jv_dict(d);
}

/* list and tuple methods */

static jv m_seq_count(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"value"};
    jv v[1];
    ev_bind_args(r, "count", a, names, 1, v);
    int64_t n = 0;
    for (size_t i = 0; i < self.u.l->n; i++)
        n += jv_eq(r, self.u.l->v[i], v[0], 0);
    return jv_int(n);
}

static jv m_seq_index(struct jrender *r, jv self, struct jargv *a) {
    static const char *const names[] = {"value"};
    jv v[1];
    ev_bind_args(r, "index", a, names, 1, v);
    for (size_t i = 0; i < self.u.l->n; i++)
        if (jv_eq(r, self.u.l->v[i], v[0], 0))
            return jv_int((int64_t)i);
    jr_fail(r, "%s.index(x): x not in %s", jv_type_name(self), jv_type_name(self));
}

static jv m_list_copy(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "copy", a);
    struct jlist *l = jl_new(&r->a, self.u.l->n);
    jv_copy(l->v, self.u.l->v, self.u.l->n);
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
    ev_bind_args(r, "pop", a, names, 1, v);
    list_mutable(r, self, "pop");
    struct jlist *l = self.u.l;
    if (!l->n)
        jr_fail(r, "pop from jstr_empty list");
    int64_t i = ev_arg_int(r, v[0], -1, "index");
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
    ev_no_args(r, "clear", a);
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
    jv_copy(l->v, a->pos, a->n_pos);
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
    ev_no_args(r, "next", a);
    struct jcycler *c = self.u.cy;
    jv v = c->v[c->pos];
    c->pos = (c->pos + 1) % c->n;
    return v;
}

static jv m_cycler_reset(struct jrender *r, jv self, struct jargv *a) {
    ev_no_args(r, "reset", a);
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
    int64_t v[3] = {0, 0, 0};
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
    jv_copy(c->v, a->pos, a->n_pos);
    c->n = a->n_pos;
    jv v = {JK_CYCLER, 0, {.cy = c}};
    return v;
}

static jv g_joiner(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    static const char *const names[] = {"sep"};
    jv v[1];
    ev_bind_args(r, "joiner", a, names, 1, v);
    struct jjoiner *j = ja_alloc(&r->a, sizeof *j);
    j->sep = v[0].k == JK_ABSENT ? jv_strc(&r->a, ", ") : v[0];
    jv o = {JK_JOINER, 0, {.jo = j}};
    return o;
}

static jv g_raise_exception(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    static const char *const names[] = {"message"};
    jv v[1];
    ev_bind_args(r, "raise_exception", a, names, 1, v);
    if (v[0].k == JK_ABSENT)
        jr_fail(r, "raise_exception() missing 1 required positional argument: 'message'");
    jr_fail(r, "%s", jv_to_str(r, v[0])->s);
}

static jv g_strftime_now(struct jrender *r, jv self, struct jargv *a) {
    (void)self;
    static const char *const names[] = {"format"};
    jv v[1];
    ev_bind_args(r, "strftime_now", a, names, 1, v);
    const jstr *fmt = ev_arg_str(r, v[0], "strftime() argument 1");
    return jv_str(jstr_strftime(r, fmt));
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
        jv_copy(l->v, acc.u.l->v, acc.u.l->n);
        jv_copy(l->v + acc.u.l->n, x.u.l->v, x.u.l->n);
        l->n = acc.u.l->n + x.u.l->n;
        return jv_list(l);
    }
    jr_fail(r, "unsupported operand type(s) for +: '%s' and '%s'", jv_type_name(acc),
            jv_type_name(x));
}
