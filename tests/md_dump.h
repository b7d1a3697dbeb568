/* tests/md_dump.h — a rendered Markdown doc as text for exact comparisons (test_markdown.c):
 * lines joined by '\n'; a span with a role or attributes as {ROLE ATTRS:text} (roles: H heading,
 * C code, L link, U url, Q quote, M mark, B box, N language, k t s c n m a d highlight classes;
 * attributes: b i u s), plain text as it is. Tests only. */
#ifndef NATTER_TESTS_MD_DUMP_H
#define NATTER_TESTS_MD_DUMP_H

#include <stdio.h>
#include <stdlib.h>

#include "markdown.h"

static inline char *md_dump(const struct md_doc *d) {
    static const char *const role[MD_R_COUNT] = {"", "H", "C", "L", "U", "Q", "M", "B", "N",
                                                 "", "k", "t", "s", "c", "n", "m", "a", "d"};
    size_t cap = 64 + d->len * 2 + (size_t)d->n_spans * 16, o = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (int i = 0; i < d->n_lines; i++) {
        const struct md_line *l = &d->lines[i];
        if (i)
            o += (size_t)snprintf(out + o, cap - o, "\n");
        for (int k = 0; k < l->n_spans; k++) {
            const struct md_span *s = &d->spans[l->span + k];
            const char *r = s->role < MD_R_COUNT ? role[s->role] : "?";
            if (!r[0] && !s->attr) {
                o += (size_t)snprintf(out + o, cap - o, "%.*s", s->len, d->text + s->off);
                continue;
            }
            o += (size_t)snprintf(out + o, cap - o, "{%s%s%s%s%s%s:%.*s}", r, s->attr ? " " : "",
                                  s->attr & MD_A_BOLD ? "b" : "", s->attr & MD_A_ITALIC ? "i" : "",
                                  s->attr & MD_A_UNDERLINE ? "u" : "",
                                  s->attr & MD_A_STRIKE ? "s" : "", s->len, d->text + s->off);
        }
    }
    return out;
}

#endif
