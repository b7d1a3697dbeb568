/* ui/markdown.c — md4c's callbacks turned into styled, wrapped display lines (see markdown.h).
 * Inline text collects into a run (text + styled spans), flushed as wrapped lines behind the
 * prefixes of the open containers (quote bars, list markers) when its block ends; code blocks
 * and tables collect whole and are laid out when they close. Pure; any thread. */
#include "markdown.h"

#include <md4c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "highlight.h"
#include "layout.h"

/* Text with styled spans (offsets into its own text). */
struct run {
    char *text;
    size_t len, cap;
    struct md_span *sp;
    int n, cap_sp;
};

enum { BOX_QUOTE, BOX_UL, BOX_OL, BOX_LI };
struct box {
    int type;
    int marker_done;  /* LI: its marker was written on a line */
    char marker[24];  /* LI: "• ", "3. " */
    int number;       /* OL: the next item's number */
};

#define MD_DEPTH 24

struct mdr {
    struct md_doc *d;
    int width, err;
    struct run in;             /* the open paragraph, heading, list item's text */
    int n_em, n_strong, n_del, n_code, n_link;
    int link, link_start;      /* the open link (index in d->links) and where its text began */
    int heading;               /* level of the open heading, 0 */
    struct box stack[MD_DEPTH];
    int depth, overflow;       /* containers open beyond MD_DEPTH are ignored */
    int blank;                 /* a blank line is due before the next block */
    int code_lang, in_code;
    struct run code;           /* the open code block's text (raw) */
    char lang[40];
    int in_table, in_cell, in_head, cols;
    struct run *cells;
    int n_cells, cap_cells;
    int *row_start;            /* first cell of each row */
    int n_rows, cap_rows, head_rows;
    unsigned char align[64];
};

/* ---- growing arrays ---- */

static int grow(void **p, int *cap, int need, size_t size) {
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *n = realloc(*p, (size_t)c * size);
    if (!n)
        return -1;
    *p = n;
    *cap = c;
    return 0;
}

static int text_room(char **p, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *n = realloc(*p, c);
    if (!n)
        return -1;
    *p = n;
    *cap = c;
    return 0;
}

static void run_reset(struct run *r) {
    r->len = 0;
    r->n = 0;
}

static void run_free(struct run *r) {
    free(r->text);
    free(r->sp);
    memset(r, 0, sizeof *r);
}

/* Appends s[0..n) to a text buffer and its span array: the last span grows when it has the
 * same style and ends where the text did (may_merge: it is on the same line). 0, or -1 when
 * out of memory. */
static int span_append(char **text, size_t *len, size_t *cap, struct md_span **sp, int *n_sp,
                       int *cap_sp, int may_merge, const char *s, size_t n, int role, int attr,
                       int link) {
    if (text_room(text, cap, *len + n + 1) != 0)
        return -1;
    memcpy(*text + *len, s, n);
    struct md_span *last = may_merge && *n_sp ? &(*sp)[*n_sp - 1] : NULL;
    if (last && last->role == role && last->attr == attr && last->link == link &&
        (size_t)(last->off + last->len) == *len) {
        last->len += (int)n;
    } else {
        if (grow((void **)sp, cap_sp, *n_sp + 1, sizeof **sp) != 0)
            return -1;
        (*sp)[(*n_sp)++] = (struct md_span){(int)*len, (int)n, (unsigned char)role,
                                            (unsigned char)attr, link};
    }
    *len += n;
    (*text)[*len] = '\0';
    return 0;
}

/* Appends n bytes of already safe text to r. */
static void run_put(struct mdr *m, struct run *r, const char *s, size_t n, int role, int attr,
                    int link) {
    if (m->err || n == 0)
        return;
    if (span_append(&r->text, &r->len, &r->cap, &r->sp, &r->n, &r->cap_sp, 1, s, n, role, attr,
                    link) != 0)
        m->err = 1;
}

/* Appends untrusted text: sanitized first. */
static void run_add(struct mdr *m, struct run *r, const char *s, size_t n, int role, int attr,
                    int link) {
    size_t sl;
    char *san = layout_sanitize(s, n, &sl);
    if (!san) {
        m->err = 1;
        return;
    }
    run_put(m, r, san, sl, role, attr, link);
    free(san);
}

/* ---- output lines ---- */

static void line_begin(struct mdr *m) {
    struct md_doc *d = m->d;
    if (m->err || grow((void **)&d->lines, &d->cap_lines, d->n_lines + 1, sizeof *d->lines)) {
        m->err = 1;
        return;
    }
    d->lines[d->n_lines++] = (struct md_line){d->n_spans, 0, 0, m->in_code ? d->n_codes : -1};
}

/* Adds safe text to the line being built; width: its columns, or -1 to measure them. */
static void line_put_w(struct mdr *m, const char *s, size_t n, int role, int attr, int link,
                       int width) {
    struct md_doc *d = m->d;
    if (m->err || n == 0 || !d->n_lines)
        return;
    struct md_line *l = &d->lines[d->n_lines - 1];
    int before = d->n_spans;
    if (span_append(&d->text, &d->len, &d->cap, &d->spans, &d->n_spans, &d->cap_spans,
                    l->n_spans > 0, s, n, role, attr, link) != 0) {
        m->err = 1;
        return;
    }
    l->n_spans += d->n_spans - before;
    l->width += width >= 0 ? width : layout_str_width(s, n);
}

static void line_put(struct mdr *m, const char *s, size_t n, int role, int attr, int link) {
    line_put_w(m, s, n, role, attr, link, -1);
}

/* k copies of the one-column character c (UTF-8, at most 3 bytes) as one span. */
static void line_repeat(struct mdr *m, const char *c, int k, int role) {
    char buf[3 * 64];
    size_t cl = strlen(c);
    while (k > 0) {
        int part = k < 64 ? k : 64;
        for (int i = 0; i < part; i++)
            memcpy(buf + (size_t)i * cl, c, cl);
        line_put_w(m, buf, (size_t)part * cl, role, 0, -1, part);
        k -= part;
    }
}

static void line_puts(struct mdr *m, const char *s, int role) {
    line_put(m, s, strlen(s), role, 0, -1);
}

/* Drops the line's trailing spaces (blank lines keep only their quote bars). */
static void line_trim(struct mdr *m) {
    struct md_doc *d = m->d;
    if (m->err || !d->n_lines)
        return;
    struct md_line *l = &d->lines[d->n_lines - 1];
    while (l->n_spans) {
        struct md_span *s = &d->spans[l->span + l->n_spans - 1];
        while (s->len && d->text[s->off + s->len - 1] == ' ')
            s->len--, l->width--;
        if (s->len)
            break;
        l->n_spans--;
        d->n_spans--;
    }
}

/* The columns the containers' prefixes take. */
static int prefix_width(const struct mdr *m) {
    int w = 0;
    for (int i = 0; i < m->depth; i++)
        if (m->stack[i].type == BOX_QUOTE)
            w += 2;
        else if (m->stack[i].type == BOX_LI)
            w += layout_str_width(m->stack[i].marker, strlen(m->stack[i].marker));
    return w;
}

/* Columns left for text after the prefixes (at least 1). */
static int avail(const struct mdr *m) {
    int w = m->width - prefix_width(m);
    return w < 1 ? 1 : w;
}

/* Starts a line with the containers' prefixes: quote bars, a list item's marker on its first
 * line and as much space on the others. */
static void line_prefix(struct mdr *m, int blank) {
    line_begin(m);
    for (int i = 0; i < m->depth; i++) {
        struct box *b = &m->stack[i];
        if (b->type == BOX_QUOTE) {
            line_puts(m, "\xe2\x94\x82 ", MD_R_QUOTE);
        } else if (b->type == BOX_LI) {
            if (!b->marker_done && !blank) {
                line_puts(m, b->marker, MD_R_MARK);
                b->marker_done = 1;
            } else {
                line_repeat(m, " ", layout_str_width(b->marker, strlen(b->marker)), MD_R_TEXT);
            }
        }
    }
}

/* The blank line between blocks, if one is due. */
static void blank_before(struct mdr *m) {
    if (m->blank && m->d->n_lines) {
        line_prefix(m, 1);
        line_trim(m);
    }
    m->blank = 0;
}

/* Copies the spans of r overlapping [off, off + len) into the current line. */
static void line_slice(struct mdr *m, const struct run *r, int off, int len, int extra_attr) {
    for (int k = 0; k < r->n; k++) {
        const struct md_span *s = &r->sp[k];
        int a = s->off > off ? s->off : off;
        int b = s->off + s->len < off + len ? s->off + s->len : off + len;
        if (a < b)
            line_put(m, r->text + a, (size_t)(b - a), s->role, s->attr | extra_attr, s->link);
    }
}

/* Wraps r at width w: the lines into *out (malloc'd); returns their count, -1 on error. */
static int run_wrap(const struct run *r, int w, int mode, struct layout_line **out) {
    int n = layout_wrap(r->text ? r->text : "", r->len, w, mode, NULL, 0);
    *out = malloc((size_t)n * sizeof **out);
    if (!*out)
        return -1;
    return layout_wrap(r->text ? r->text : "", r->len, w, mode, *out, n);
}

/* Writes the open inline text as wrapped lines and empties it. */
static void flush(struct mdr *m) {
    struct run *r = &m->in;
    while (r->len && (r->text[r->len - 1] == '\n' || r->text[r->len - 1] == ' '))
        r->len--; /* a trailing hard break or space */
    for (int k = r->n - 1; k >= 0 && r->sp[k].off + r->sp[k].len > (int)r->len; k--)
        r->sp[k].len = (int)r->len - r->sp[k].off > 0 ? (int)r->len - r->sp[k].off : 0;
    if (m->err || r->len == 0) {
        run_reset(r);
        return;
    }
    struct layout_line *ll;
    int n = run_wrap(r, avail(m), LAYOUT_WRAP_WORD, &ll);
    if (n < 0) {
        m->err = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        line_prefix(m, 0);
        line_slice(m, r, ll[i].off, ll[i].len, 0);
    }
    free(ll);
    run_reset(r);
}

/* ---- code blocks ---- */

static void rule_to(struct mdr *m, int used, int role) {
    line_repeat(m, "\xe2\x94\x80", avail(m) - used, role);
}

static void code_emit(struct mdr *m) {
    struct run *c = &m->code;
    size_t len = c->len;
    if (len && c->text[len - 1] == '\n')
        len--;
    int w = avail(m) - 2 < 1 ? 1 : avail(m) - 2;
    line_prefix(m, 0);
    line_puts(m, "\xe2\x94\x8c\xe2\x94\x80", MD_R_BOX);
    int used = 2;
    if (m->lang[0]) {
        line_puts(m, " ", MD_R_BOX);
        line_puts(m, m->lang, MD_R_LANG);
        line_puts(m, " ", MD_R_BOX);
        used += 2 + layout_str_width(m->lang, strlen(m->lang));
    }
    rule_to(m, used, MD_R_BOX);
    struct hl_state hs = {0};
    size_t i = 0;
    while (!m->err && c->text && i <= len) {
        size_t e = i;
        while (e < len && c->text[e] != '\n')
            e++;
        size_t sl;
        char *san = layout_sanitize(c->text + i, e - i, &sl);
        unsigned char *cls = malloc(sl + 1);
        struct run line = {0};
        if (!san || !cls) {
            m->err = 1;
        } else {
            hl_line(m->code_lang, &hs, san, sl, cls);
            for (size_t k = 0; k < sl;) { /* one span per class */
                size_t j = k;
                while (j < sl && cls[j] == cls[k])
                    j++;
                run_put(m, &line, san + k, j - k, MD_R_HL + cls[k], 0, -1);
                k = j;
            }
            struct layout_line *ll = NULL;
            int n = run_wrap(&line, w, LAYOUT_WRAP_CHAR, &ll);
            for (int r = 0; r < n; r++) {
                line_prefix(m, 0);
                line_puts(m, sl ? "\xe2\x94\x82 " : "\xe2\x94\x82", MD_R_BOX);
                line_slice(m, &line, ll[r].off, ll[r].len, 0);
            }
            if (n < 0)
                m->err = 1;
            free(ll);
        }
        run_free(&line);
        free(san);
        free(cls);
        if (e >= len)
            break;
        i = e + 1;
    }
    line_prefix(m, 0);
    line_puts(m, "\xe2\x94\x94", MD_R_BOX);
    rule_to(m, 1, MD_R_BOX);
}

/* ---- tables ---- */

static void table_emit(struct mdr *m) {
    int cols = m->cols < 1 ? 1 : m->cols > 64 ? 64 : m->cols;
    int wcol[64] = {0};
    for (int r = 0; r < m->n_rows; r++) {
        int end = r + 1 < m->n_rows ? m->row_start[r + 1] : m->n_cells;
        for (int c = 0; c < cols && m->row_start[r] + c < end; c++) {
            struct run *cell = &m->cells[m->row_start[r] + c];
            int cw = layout_str_width(cell->text ? cell->text : "", cell->len);
            if (cw > wcol[c])
                wcol[c] = cw;
        }
    }
    int total = 3 * (cols - 1);
    for (int c = 0; c < cols; c++) {
        if (wcol[c] < 1)
            wcol[c] = 1;
        total += wcol[c];
    }
    while (total > avail(m)) { /* narrow the widest column until the table fits */
        int big = 0;
        for (int c = 1; c < cols; c++)
            if (wcol[c] > wcol[big])
                big = c;
        if (wcol[big] <= 1)
            break;
        wcol[big]--;
        total--;
    }
    for (int r = 0; r < m->n_rows && !m->err; r++) {
        int end = r + 1 < m->n_rows ? m->row_start[r + 1] : m->n_cells;
        struct layout_line *ll[64] = {0};
        int nl[64] = {0}, height = 1;
        for (int c = 0; c < cols; c++) {
            if (m->row_start[r] + c >= end)
                continue;
            nl[c] = run_wrap(&m->cells[m->row_start[r] + c], wcol[c], LAYOUT_WRAP_WORD, &ll[c]);
            if (nl[c] < 0)
                m->err = 1, nl[c] = 0;
            if (nl[c] > height)
                height = nl[c];
        }
        int head = r < m->head_rows;
        for (int k = 0; k < height && !m->err; k++) {
            line_prefix(m, 0);
            for (int c = 0; c < cols; c++) {
                int lw = 0;
                if (k < nl[c] && (nl[c] > 1 || m->cells[m->row_start[r] + c].len))
                    lw = ll[c][k].width;
                int pad = wcol[c] - lw > 0 ? wcol[c] - lw : 0;
                int left = m->align[c] == MD_ALIGN_RIGHT ? pad
                         : m->align[c] == MD_ALIGN_CENTER ? pad / 2 : 0;
                line_repeat(m, " ", left, MD_R_TEXT);
                if (k < nl[c])
                    line_slice(m, &m->cells[m->row_start[r] + c], ll[c][k].off, ll[c][k].len,
                               head ? MD_A_BOLD : 0);
                if (c + 1 < cols) {
                    line_repeat(m, " ", pad - left, MD_R_TEXT);
                    line_puts(m, " \xe2\x94\x82 ", MD_R_MARK);
                }
            }
            line_trim(m);
        }
        for (int c = 0; c < cols; c++)
            free(ll[c]);
        if (head && r + 1 == m->head_rows) { /* the rule under the header */
            line_prefix(m, 0);
            for (int c = 0; c < cols; c++) {
                line_repeat(m, "\xe2\x94\x80", wcol[c], MD_R_MARK);
                if (c + 1 < cols)
                    line_puts(m, "\xe2\x94\x80\xe2\x94\xbc\xe2\x94\x80", MD_R_MARK);
            }
        }
    }
}

static void table_free(struct mdr *m) {
    for (int i = 0; i < m->cap_cells; i++)
        run_free(&m->cells[i]);
    free(m->cells);
    free(m->row_start);
    m->cells = NULL;
    m->row_start = NULL;
    m->n_cells = m->cap_cells = m->n_rows = m->cap_rows = 0;
}

/* ---- md4c callbacks ---- */

static struct run *cur_run(struct mdr *m) {
    if (m->in_table)
        return m->in_cell && m->n_cells ? &m->cells[m->n_cells - 1] : NULL;
    return &m->in;
}

static void push(struct mdr *m, int type) {
    if (m->depth >= MD_DEPTH) {
        m->overflow++;
        return;
    }
    memset(&m->stack[m->depth], 0, sizeof m->stack[0]);
    m->stack[m->depth++].type = type;
}

static void pop(struct mdr *m) {
    if (m->overflow)
        m->overflow--;
    else if (m->depth)
        m->depth--;
}

/* Nested in a list item (a nested list's end is no block break of its own). */
static int in_item(const struct mdr *m) {
    for (int i = 0; i < m->depth; i++)
        if (m->stack[i].type == BOX_LI)
            return 1;
    return 0;
}

static void li_marker(struct mdr *m, const MD_BLOCK_LI_DETAIL *li) {
    if (m->overflow || !m->depth)
        return;
    struct box *b = &m->stack[m->depth - 1]; /* the LI itself */
    struct box *list = m->depth >= 2 ? &m->stack[m->depth - 2] : NULL;
    int level = 0;
    for (int i = 0; i < m->depth - 1; i++)
        level += m->stack[i].type == BOX_UL || m->stack[i].type == BOX_OL;
    if (li && li->is_task)
        snprintf(b->marker, sizeof b->marker, "%s ",
                 li->task_mark == ' ' ? "\xe2\x98\x90" : "\xe2\x98\x91");
    else if (list && list->type == BOX_OL)
        snprintf(b->marker, sizeof b->marker, "%d. ", list->number++);
    else
        snprintf(b->marker, sizeof b->marker, "%s ",
                 level % 3 == 1 ? "\xe2\x80\xa2" : level % 3 == 2 ? "\xe2\x97\xa6"
                                                                  : "\xe2\x96\xaa");
}

static int on_enter_block(MD_BLOCKTYPE type, void *detail, void *ud) {
    struct mdr *m = ud;
    if (type != MD_BLOCK_DOC && !m->in_table)
        flush(m);
    switch (type) {
    case MD_BLOCK_QUOTE:
        blank_before(m);
        push(m, BOX_QUOTE);
        break;
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
        if (!in_item(m))
            blank_before(m);
        push(m, type == MD_BLOCK_UL ? BOX_UL : BOX_OL);
        if (type == MD_BLOCK_OL && !m->overflow) {
            unsigned start = ((MD_BLOCK_OL_DETAIL *)detail)->start;
            m->stack[m->depth - 1].number = start > 999999999u ? 999999999 : (int)start;
        }
        break;
    case MD_BLOCK_LI:
        blank_before(m);
        push(m, BOX_LI);
        li_marker(m, detail);
        break;
    case MD_BLOCK_HR:
        blank_before(m);
        line_prefix(m, 0);
        rule_to(m, 0, MD_R_MARK);
        m->blank = 1;
        break;
    case MD_BLOCK_H:
        blank_before(m);
        m->heading = (int)((MD_BLOCK_H_DETAIL *)detail)->level;
        break;
    case MD_BLOCK_CODE: {
        const MD_BLOCK_CODE_DETAIL *cd = detail;
        blank_before(m);
        m->in_code = 1;
        run_reset(&m->code);
        m->code_lang = hl_lang_find(cd->lang.text, cd->lang.size);
        size_t sl;
        char *san = layout_sanitize(cd->lang.text ? cd->lang.text : "", cd->lang.size, &sl);
        if (!san)
            m->err = 1;
        else
            snprintf(m->lang, sizeof m->lang, "%.*s", (int)layout_fit(san, sl, 30, NULL), san);
        free(san);
        break;
    }
    case MD_BLOCK_TABLE:
        blank_before(m);
        m->in_table = 1;
        m->cols = (int)((MD_BLOCK_TABLE_DETAIL *)detail)->col_count;
        m->head_rows = 0;
        memset(m->align, 0, sizeof m->align);
        break;
    case MD_BLOCK_THEAD: m->in_head = 1; break;
    case MD_BLOCK_TR:
        if (grow((void **)&m->row_start, &m->cap_rows, m->n_rows + 1, sizeof *m->row_start))
            return m->err = 1, -1;
        m->row_start[m->n_rows++] = m->n_cells;
        m->head_rows += m->in_head;
        break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD: {
        int col = m->n_rows ? m->n_cells - m->row_start[m->n_rows - 1] : 0;
        if (col < 64)
            m->align[col] = (unsigned char)((MD_BLOCK_TD_DETAIL *)detail)->align;
        int old = m->cap_cells;
        if (grow((void **)&m->cells, &m->cap_cells, m->n_cells + 1, sizeof *m->cells))
            return m->err = 1, -1;
        memset(m->cells + old, 0, (size_t)(m->cap_cells - old) * sizeof *m->cells);
        run_reset(&m->cells[m->n_cells++]);
        m->in_cell = 1;
        break;
    }
    case MD_BLOCK_P:
    case MD_BLOCK_HTML:
        blank_before(m);
        break;
    default: break;
    }
    return m->err ? -1 : 0;
}

static int on_leave_block(MD_BLOCKTYPE type, void *detail, void *ud) {
    struct mdr *m = ud;
    (void)detail;
    switch (type) {
    case MD_BLOCK_QUOTE:
        flush(m);
        pop(m);
        m->blank = 1;
        break;
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
        flush(m);
        pop(m);
        m->blank = !in_item(m);
        break;
    case MD_BLOCK_LI:
        flush(m);
        pop(m);
        break;
    case MD_BLOCK_H:
        flush(m);
        m->heading = 0;
        m->blank = 1;
        break;
    case MD_BLOCK_CODE:
        code_emit(m);
        m->in_code = 0;
        m->d->n_codes++;
        m->blank = 1;
        break;
    case MD_BLOCK_TABLE:
        table_emit(m);
        m->in_table = m->in_cell = m->in_head = 0;
        for (int i = 0; i < m->n_cells; i++)
            run_reset(&m->cells[i]);
        m->n_cells = m->n_rows = 0;
        m->blank = 1;
        break;
    case MD_BLOCK_THEAD: m->in_head = 0; break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD: m->in_cell = 0; break;
    case MD_BLOCK_P:
    case MD_BLOCK_HTML:
        flush(m);
        m->blank = 1;
        break;
    default: break;
    }
    return m->err ? -1 : 0;
}

/* The style of inline text now. */
static void cur_style(const struct mdr *m, int *role, int *attr) {
    int a = (m->n_em ? MD_A_ITALIC : 0) | (m->n_strong ? MD_A_BOLD : 0) |
            (m->n_del ? MD_A_STRIKE : 0);
    int r = MD_R_TEXT;
    int quoted = 0;
    for (int i = 0; i < m->depth; i++)
        quoted |= m->stack[i].type == BOX_QUOTE;
    if (quoted)
        r = MD_R_QUOTE;
    if (m->heading) {
        r = MD_R_HEADING;
        a |= MD_A_BOLD | (m->heading <= 2 ? MD_A_UNDERLINE : 0);
    }
    if (m->n_link)
        r = MD_R_LINK, a |= MD_A_UNDERLINE;
    if (m->n_code)
        r = MD_R_CODE;
    *role = r;
    *attr = a;
}

static int link_add(struct mdr *m, const MD_ATTRIBUTE *href) {
    struct md_doc *d = m->d;
    if (grow((void **)&d->links, &d->cap_links, d->n_links + 1, sizeof *d->links)) {
        m->err = 1;
        return -1;
    }
    const char *u = href->text ? href->text : "";
    int clean = href->size > 0;
    for (MD_SIZE i = 0; i < href->size; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
            clean = 0;
    char *san = layout_sanitize(u, href->size, NULL);
    if (!san) {
        m->err = 1;
        return -1;
    }
    for (char *p = san; *p; p++) /* sanitizing keeps line breaks; a link target is one line */
        if (*p == '\n')
            *p = ' ';
    d->links[d->n_links] = (struct md_link){san, clean};
    return d->n_links++;
}

/* After a link's text: " <url>" unless the text is the URL (an autolink). */
static void link_close(struct mdr *m, struct run *r) {
    if (m->link < 0 || !r)
        return;
    const char *url = m->d->links[m->link].url;
    size_t ul = strlen(url), tl = r->len - (size_t)m->link_start;
    const char *t = r->text ? r->text + m->link_start : "";
    int same = (tl == ul && !memcmp(t, url, ul)) ||
               (ul == tl + 7 && !strncmp(url, "mailto:", 7) && !memcmp(t, url + 7, tl));
    if (ul && !same) {
        run_put(m, r, " <", 2, MD_R_URL, 0, -1);
        run_put(m, r, url, ul, MD_R_URL, 0, m->link);
        run_put(m, r, ">", 1, MD_R_URL, 0, -1);
    }
}

static int on_enter_span(MD_SPANTYPE type, void *detail, void *ud) {
    struct mdr *m = ud;
    struct run *r = cur_run(m);
    switch (type) {
    case MD_SPAN_EM: m->n_em++; break;
    case MD_SPAN_STRONG: m->n_strong++; break;
    case MD_SPAN_DEL: m->n_del++; break;
    case MD_SPAN_CODE: m->n_code++; break;
    case MD_SPAN_A:
    case MD_SPAN_IMG:
        if (m->n_link++ == 0) {
            const MD_ATTRIBUTE *href = type == MD_SPAN_A ? &((MD_SPAN_A_DETAIL *)detail)->href
                                                         : &((MD_SPAN_IMG_DETAIL *)detail)->src;
            m->link = link_add(m, href);
            if (type == MD_SPAN_IMG && r)
                run_put(m, r, "[image: ", 8, MD_R_URL, 0, -1);
            m->link_start = r ? (int)r->len : 0;
        }
        break;
    default: break;
    }
    return m->err ? -1 : 0;
}

static int on_leave_span(MD_SPANTYPE type, void *detail, void *ud) {
    struct mdr *m = ud;
    (void)detail;
    switch (type) {
    case MD_SPAN_EM: m->n_em--; break;
    case MD_SPAN_STRONG: m->n_strong--; break;
    case MD_SPAN_DEL: m->n_del--; break;
    case MD_SPAN_CODE: m->n_code--; break;
    case MD_SPAN_A:
    case MD_SPAN_IMG:
        if (--m->n_link == 0) {
            struct run *r = cur_run(m);
            if (type == MD_SPAN_IMG && r)
                run_put(m, r, "]", 1, MD_R_URL, 0, -1);
            if (type == MD_SPAN_IMG && r && m->link >= 0) /* the alt text is never the URL */
                m->link_start = (int)r->len;
            link_close(m, r);
            m->link = -1;
        }
        break;
    default: break;
    }
    return m->err ? -1 : 0;
}

/* An entity's character when it is a known, printable one; else the entity as written. */
static void entity_add(struct mdr *m, struct run *r, const char *s, size_t n, int role,
                       int attr, int link) {
    static const struct { const char *name; uint32_t cp; } named[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
        {"&nbsp;", 0xA0}, {"&copy;", 0xA9}, {"&mdash;", 0x2014}, {"&ndash;", 0x2013},
        {"&hellip;", 0x2026},
    };
    uint32_t cp = 0;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strlen(named[i].name) == n && !memcmp(named[i].name, s, n))
            cp = named[i].cp;
    if (!cp && n > 3 && s[1] == '#') {
        int hex = s[2] == 'x' || s[2] == 'X';
        unsigned long v = 0;
        for (size_t i = 2 + (size_t)hex; i + 1 < n && v < 0x110000; i++)
            v = v * (hex ? 16 : 10) +
                (unsigned long)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
        cp = v < 0x110000 ? (uint32_t)v : 0;
    }
    char buf[4];
    if (cp && cp != 0xA0 && layout_cp_width(cp) >= 0 && !(cp >= 0xD800 && cp < 0xE000))
        run_put(m, r, buf, (size_t)layout_utf8_encode(cp, buf), role, attr, link);
    else if (cp == 0xA0)
        run_put(m, r, " ", 1, role, attr, link);
    else
        run_add(m, r, s, n, role, attr, link);
}

static int on_text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE n, void *ud) {
    struct mdr *m = ud;
    if (m->in_code && !m->n_code) { /* a code block's text: laid out when it closes */
        run_put(m, &m->code, s, n, MD_R_TEXT, 0, -1);
        return m->err ? -1 : 0;
    }
    struct run *r = cur_run(m);
    if (!r)
        return 0;
    int role, attr, link = m->n_link ? m->link : -1;
    cur_style(m, &role, &attr);
    switch (type) {
    case MD_TEXT_NULLCHAR: run_put(m, r, "\xef\xbf\xbd", 3, role, attr, link); break;
    case MD_TEXT_BR: run_put(m, r, m->in_table ? " " : "\n", 1, role, attr, link); break;
    case MD_TEXT_SOFTBR: run_put(m, r, " ", 1, role, attr, link); break;
    case MD_TEXT_ENTITY: entity_add(m, r, s, n, role, attr, link); break;
    default: {
        if (!m->in_table) {
            run_add(m, r, s, n, role, attr, link);
            break;
        }
        size_t sl; /* a cell is one paragraph: its newlines become spaces */
        char *san = layout_sanitize(s, n, &sl);
        if (!san)
            return m->err = 1, -1;
        for (size_t i = 0; i < sl; i++)
            if (san[i] == '\n')
                san[i] = ' ';
        run_put(m, r, san, sl, role, attr, link);
        free(san);
    }
    }
    return m->err ? -1 : 0;
}

/* ---- entry points ---- */

/* Cuts lines wider than the width (a box's corners, a table's borders at a few columns). */
static void clip_lines(struct md_doc *d, int width) {
    for (int i = 0; i < d->n_lines; i++) {
        struct md_line *l = &d->lines[i];
        if (l->width <= width)
            continue;
        int cols = 0;
        for (int k = 0; k < l->n_spans; k++) {
            struct md_span *s = &d->spans[l->span + k];
            int sw = layout_str_width(d->text + s->off, (size_t)s->len);
            if (cols + sw > width) {
                int w;
                s->len = (int)layout_fit(d->text + s->off, (size_t)s->len, width - cols, &w);
                l->n_spans = k + (s->len > 0);
                cols += w;
                break;
            }
            cols += sw;
        }
        l->width = cols;
    }
}

static const unsigned md_flags = MD_DIALECT_GITHUB | MD_FLAG_NOHTML;

/* md4c 0.4.8 reads past the end it is given while it looks for a link's closing ')' (and
 * crashes on "[c](http://d" followed by ")" beyond the end): it parses a copy of the text with
 * NUL bytes after it. NULL when out of memory. */
static char *md_parse_copy(const char *src, size_t *len) {
    if (*len > 0xFFFFFFF) /* md4c's sizes are unsigned ints */
        *len = 0xFFFFFFF;
    char *c = malloc(*len + 16);
    if (!c)
        return NULL;
    if (*len)
        memcpy(c, src, *len);
    memset(c + *len, 0, 16);
    return c;
}

void md_doc_free(struct md_doc *d) {
    for (int i = 0; i < d->n_links; i++)
        free(d->links[i].url);
    free(d->text);
    free(d->spans);
    free(d->lines);
    free(d->links);
    memset(d, 0, sizeof *d);
}

int md_render(const char *src, size_t len, int width, struct md_doc *d) {
    for (int i = 0; i < d->n_links; i++)
        free(d->links[i].url);
    d->len = 0;
    d->n_spans = d->n_lines = d->n_links = d->n_codes = 0;
    char *copy = md_parse_copy(src, &len);
    if (!copy)
        return -1;
    struct mdr m;
    memset(&m, 0, sizeof m);
    m.d = d;
    m.width = width < 1 ? 1 : width;
    m.link = -1;
    MD_PARSER p = {0, md_flags, on_enter_block, on_leave_block, on_enter_span, on_leave_span,
                   on_text, NULL, NULL};
    int rc = md_parse(copy, (MD_SIZE)len, &p, &m);
    free(copy);
    if (!m.err && rc == 0)
        flush(&m);
    if (!m.err && rc == 0)
        clip_lines(d, m.width);
    run_free(&m.in);
    run_free(&m.code);
    table_free(&m);
    if (m.err || rc != 0) {
        md_doc_free(d);
        return -1;
    }
    return 0;
}

size_t md_stream_tail(const char *src, size_t len, char *tail) {
    size_t start = 0, o = 0;
    int fence = 0;
    for (size_t i = 0; i < len; i = i + 1) { /* lines: fences toggle, blank lines end blocks */
        size_t e = i;
        while (e < len && src[e] != '\n')
            e++;
        size_t k = i;
        while (k < e && k - i < 4 && src[k] == ' ')
            k++;
        if (e - k >= 3 && (!strncmp(src + k, "```", 3) || !strncmp(src + k, "~~~", 3)))
            fence = !fence, start = e;
        else if (!fence && k == e)
            start = e;
        i = e;
    }
    tail[0] = '\0';
    if (fence)
        return 0;
    int ticks = 0, stars = 0;
    for (size_t i = start; i < len; i++) {
        if (src[i] == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (src[i] == '`') {
            ticks = !ticks;
        } else if (!ticks && src[i] == '*' && i + 1 < len && src[i + 1] == '*') {
            stars = !stars;
            i++;
        }
    }
    if (ticks)
        tail[o++] = '`';
    if (stars && len && src[len - 1] != ' ' && src[len - 1] != '*')
        tail[o++] = '*', tail[o++] = '*';
    tail[o] = '\0';
    return o;
}

/* md_code_block's walk: counts code blocks, collects the n-th one's text. */
struct md_pick {
    int want, seen, in, err;
    struct run text;
};

static int pick_enter(MD_BLOCKTYPE type, void *detail, void *ud) {
    struct md_pick *p = ud;
    (void)detail;
    if (type == MD_BLOCK_CODE)
        p->in = p->seen++ == p->want;
    return 0;
}

static int pick_leave(MD_BLOCKTYPE type, void *detail, void *ud) {
    struct md_pick *p = ud;
    (void)detail;
    if (type == MD_BLOCK_CODE)
        p->in = 0;
    return 0;
}

static int pick_span(MD_SPANTYPE type, void *detail, void *ud) {
    (void)type, (void)detail, (void)ud;
    return 0;
}

static int pick_text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE n, void *ud) {
    struct md_pick *p = ud;
    if (!p->in)
        return 0;
    if (type == MD_TEXT_NULLCHAR)
        s = "\xef\xbf\xbd", n = 3;
    if (text_room(&p->text.text, &p->text.cap, p->text.len + n + 1) != 0)
        return p->err = 1, -1;
    memcpy(p->text.text + p->text.len, s, n);
    p->text.len += n;
    p->text.text[p->text.len] = '\0';
    return 0;
}

char *md_code_block(const char *src, size_t len, int n, size_t *out_len) {
    struct md_pick p;
    memset(&p, 0, sizeof p);
    p.want = n;
    char *copy = md_parse_copy(src, &len);
    if (!copy)
        return NULL;
    MD_PARSER parser = {0, md_flags, pick_enter, pick_leave, pick_span, pick_span, pick_text,
                        NULL, NULL};
    int rc = md_parse(copy, (MD_SIZE)len, &parser, &p);
    free(copy);
    if (rc != 0 || p.err || n < 0 || n >= p.seen) {
        free(p.text.text);
        return NULL;
    }
    if (!p.text.text && text_room(&p.text.text, &p.text.cap, 1) != 0)
        return NULL;
    if (p.text.len && p.text.text[p.text.len - 1] == '\n')
        p.text.len--;
    p.text.text[p.text.len] = '\0';
    if (out_len)
        *out_len = p.text.len;
    return p.text.text;
}
