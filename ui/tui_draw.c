/* ui/tui_draw.c — paints the whole chat from state (struct tui) onto stdscr in one frame:
 * conversation list, transcript (wrapped, role colors, stats lines), input area, status bar,
 * overlays (help, pickers, settings, search). Text from models and files is sanitized (layout.h)
 * before it reaches the terminal. UI thread only. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "highlight.h"
#include "paths.h"
#include "prompts.h"
#include "hyperlink.h"
#include "theme.h"
#include "units.h"
#include "fdio.h"
#include "session.h"
#include "tui.h"

/* The keys, as the help overlay lists them (README.md and man/natter.1 say the same). */
static const char *const help_lines[] = {
    "Enter          send the message",
    "Alt-Enter, C-j new line in the message (pasted text keeps its lines)",
    "Esc            stop the reply (the partial reply stays, marked stopped)",
    "Ctrl-C         stop the reply, or clear the input (Ctrl-C again undoes)",
    "Up             on an empty input: edit your last message (a new version)",
    "Alt-Up/Down    select a message: Enter edits it, Delete (Alt-d) deletes it",
    "Alt-Left/Right its (or the last reply's) versions \xe2\x80\xb9" "2/3\xe2\x80\xba \xc2\xb7 Alt-p pins it",
    "Up/Down        otherwise: a line up/down in the message, else input history",
    "PgUp/PgDn      scroll the transcript (also the mouse wheel)",
    "Ctrl-N         new chat (with -s's system prompt, or none)",
    "Tab            completes a /command or its name; on an empty input: the list",
    "Ctrl-O         the conversation list: Up/Down, Enter opens, r renames, d deletes, "
    "Esc/Tab returns",
    "Ctrl-R         regenerate the last reply (a new version beside it)",
    "Ctrl-F         search all conversations",
    "F6             show/fold the replies' reasoning (folded to one line)",
    "F7             while the reply thinks: end the thinking, answer now",
    "F1, ?          this help (? on an empty input)",
    "F2             pick a model (loads in the background)",
    "F3             pick a system prompt",
    "F4             settings (temperature, top-p, top-k, ... threads)",
    "F5             show/hide the conversation list",
    "F8             select a message: Up/Down move, y copies it, 1-9 its code block N "
    "(OSC 52, else a file), Esc ends",
    "Ctrl-L         redraw the screen",
    "Ctrl-Z         suspend (fg brings the chat back)",
    "Ctrl-Q, Ctrl-D quit (Ctrl-D on an empty input)",
    "",
    "/new  /model [PATH]  /system [NAME|TEXT|none]  /template [NAME]  /set NAME VALUE",
    "/regen  /think [on|off]  /rename TITLE  /delete  /export [FILE]  /search [QUERY]",
    "/copy [N] (the reply, or its code block N)  /help  /quit (/exit, /q)",
    "(start a message with // to send a leading /)",
};

/* Writes at most maxw columns of sanitized UTF-8 at (y, x). Returns columns written. */
static int put_text(int y, int x, const char *s, size_t len, int maxw, int attr) {
    int w = 0;
    size_t i = 0;
    attrset(attr);
    move(y, x);
    while (i < len) {
        uint32_t cp;
        int n = layout_utf8_decode(s + i, len - i, &cp);
        int cw = layout_cp_width(cp);
        if (cw < 0 || cp == '\n')
            cw = 1, cp = '?';
        if (w + cw > maxw)
            break;
        if (cp == '?' && s[i] != '?')
            addch('?');
        else
            addnstr(s + i, n);
        w += cw;
        i += (size_t)n;
    }
    attrset(A_NORMAL);
    return w;
}

/* put_text for untrusted text: sanitized first. */
static int put_untrusted(int y, int x, const char *s, int maxw, int attr) {
    size_t n;
    char *san = layout_sanitize(s, strlen(s), &n);
    if (!san)
        return 0;
    int w = put_text(y, x, san, n, maxw, attr);
    free(san);
    return w;
}

static void rule(int y, int x, int n, int vertical, int attr) {
    attrset(attr);
    for (int i = 0; i < n; i++)
        mvaddstr(vertical ? y + i : y, vertical ? x : x + i, vertical ? "\xe2\x94\x82"
                                                                      : "\xe2\x94\x80");
    attrset(A_NORMAL);
}

static void fill_row(int y, int x, int w, int attr) {
    attrset(attr);
    mvhline(y, x, ' ', w);
    attrset(A_NORMAL);
}

void tui_wrap_free(struct tui *t) {
    for (int i = 0; i < t->cap_wrap; i++) {
        free(t->wrap[i].san);
        free(t->wrap[i].lines);
        free(t->wrap_think[i].san);
        free(t->wrap_think[i].lines);
        md_doc_free(&t->wrap[i].md);
    }
    free(t->wrap);
    free(t->wrap_think);
    t->wrap = t->wrap_think = NULL;
    t->cap_wrap = 0;
}

/* Room in both caches for message i. 0 or -1. */
static int wrap_room(struct tui *t, int i) {
    if (i < t->cap_wrap)
        return 0;
    int cap = t->cap_wrap ? t->cap_wrap : 16;
    while (cap <= i)
        cap *= 2;
    struct tui_wrap *arr[2] = {t->wrap, t->wrap_think};
    for (int k = 0; k < 2; k++) {
        struct tui_wrap *nw = realloc(arr[k], (size_t)cap * sizeof *nw);
        if (!nw)
            return -1;
        memset(nw + t->cap_wrap, 0, (size_t)(cap - t->cap_wrap) * sizeof *nw);
        arr[k] = nw;
        if (k == 0)
            t->wrap = nw;
        else
            t->wrap_think = nw;
    }
    t->cap_wrap = cap;
    return 0;
}

/* The wrapped lines of text[0..src_len) at width w into cache c (kept while neither changes). */
static struct tui_wrap *wrap_fill(struct tui_wrap *c, const char *text, size_t src_len, int w) {
    if (c->san && c->src_len == src_len && c->width == w)
        return c;
    size_t len = src_len;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    len = layout_utf8_complete_len(text, len);
    free(c->san);
    c->san = layout_sanitize(text, len, &c->san_len);
    if (!c->san)
        return NULL;
    c->src_len = src_len;
    c->width = w;
    int n = layout_wrap(c->san, c->san_len, w, LAYOUT_WRAP_WORD, c->lines, c->cap_lines);
    if (n > c->cap_lines) {
        free(c->lines);
        c->lines = malloc((size_t)n * sizeof *c->lines);
        c->cap_lines = c->lines ? n : 0;
        if (!c->lines)
            return NULL;
        layout_wrap(c->san, c->san_len, w, LAYOUT_WRAP_WORD, c->lines, n);
    }
    c->n_lines = n;
    return c;
}

/* The wrapped lines of message i at width w (cached). */
static struct tui_wrap *wrap_get(struct tui *t, int i, int w) {
    if (wrap_room(t, i) != 0)
        return NULL;
    const struct app_msg *m = &t->conv.msgs[i];
    return wrap_fill(&t->wrap[i], m->text, m->len, w);
}

/* Message i's rendered Markdown at width w (cached), or NULL when it is shown as plain text:
 * the markdown setting is off, it is not a reply, or rendering ran out of memory. */
static const struct md_doc *md_get(struct tui *t, int i, int w) {
    const struct app_msg *m = &t->conv.msgs[i];
    if (!t->set.markdown || m->role != APP_ROLE_ASSISTANT || wrap_room(t, i) != 0)
        return NULL;
    struct tui_wrap *c = &t->wrap[i];
    int streaming = i == tui_chat_gen_msg(t);
    if (c->md_width == w && c->md_src == (long)m->len && c->md_streaming == streaming)
        return &c->md;
    size_t len = layout_utf8_complete_len(m->text, m->len); /* a reply still streaming */
    char tail[4];
    size_t tl = streaming ? md_stream_tail(m->text, len, tail) : 0;
    char *src = tl ? malloc(len + tl) : NULL; /* its open "**" closed, so it shows bold now */
    if (src) {
        memcpy(src, m->text, len);
        memcpy(src + len, tail, tl);
    }
    c->md_width = 0;
    int rc = md_render(src ? src : m->text, src ? len + tl : len, w, &c->md);
    free(src);
    if (rc != 0)
        return NULL;
    c->md_width = w;
    c->md_src = (long)m->len;
    c->md_streaming = streaming;
    return &c->md;
}

/* The same for its reasoning (NULL when it has none). */
static struct tui_wrap *think_get(struct tui *t, int i, int w) {
    const struct app_msg *m = &t->conv.msgs[i];
    if (!m->think || wrap_room(t, i) != 0)
        return NULL;
    return wrap_fill(&t->wrap_think[i], m->think, m->think_len, w);
}

/* The stats line's pieces ("48 tokens", "gen 20.1 t/s", "[stopped]"): joined by " · " (or a
 * space before a finish reason and [stopped]) and wrapped between pieces, so none is cut off
 * at 80 columns. */
struct stats_piece {
    char text[96];
    int space;  /* joined by " " instead of " · " */
    int theme;
};
enum { STATS_MAX = 8 };

static int stats_pieces(const struct app_msg *m, struct stats_piece *p) {
    int n = 0;
    if (m->has_stats) {
        snprintf(p[n++].text, sizeof p->text, "%d tokens", m->n_tokens);
        if (m->n_prompt >= 0) /* new prompt tokens, and those the KV cache kept */
            snprintf(p[n++].text, sizeof p->text, "prompt %d (+%d cached) %.1f t/s", m->n_prompt,
                     m->n_reused, (double)m->prompt_tps);
        else
            snprintf(p[n++].text, sizeof p->text, "prompt %.1f t/s", (double)m->prompt_tps);
        snprintf(p[n++].text, sizeof p->text, "gen %.1f t/s", (double)m->gen_tps);
        if (m->ttft_ms >= 0) /* unknown for replies loaded from the store */
            snprintf(p[n++].text, sizeof p->text, "first token %.0f ms", (double)m->ttft_ms);
        if (m->n_drafted > 0) /* speculative decoding: drafts kept */
            snprintf(p[n++].text, sizeof p->text, "drafts %d/%d kept", m->n_accepted,
                     m->n_drafted);
    }
    for (int k = 0; k < n; k++)
        p[k].space = 0, p[k].theme = THEME_STATS;
    if (m->finish[0] && strcmp(m->finish, "eog") && strcmp(m->finish, "stop") &&
        strcmp(m->finish, "stopped")) {
        snprintf(p[n].text, sizeof p->text, "(%.80s)", m->finish);
        p[n].space = 1, p[n++].theme = THEME_STATS;
    }
    if (m->stopped) {
        snprintf(p[n].text, sizeof p->text, "[stopped]");
        p[n].space = 1, p[n++].theme = THEME_STOPPED;
    }
    return n;
}

/* Places the pieces at width w: row[k] and col[k] of each; returns the rows (>= 1). */
static int stats_layout(const struct stats_piece *p, int n, int w, int *row, int *col) {
    int r = 0, x = 0;
    for (int k = 0; k < n; k++) {
        int pw = layout_str_width(p[k].text, strlen(p[k].text));
        int sep = x ? (p[k].space ? 1 : 3) : 0;
        if (x && x + sep + pw > w)
            r++, x = 0, sep = 0;
        row[k] = r;
        col[k] = x + sep;
        x += sep + pw;
    }
    return r + 1;
}

static int stats_rows(const struct app_msg *m, int w) {
    struct stats_piece p[STATS_MAX];
    int row[STATS_MAX], col[STATS_MAX];
    return stats_layout(p, stats_pieces(m, p), w, row, col);
}

/* Draws row r of message m's stats at (y, x), w columns. */
static void stats_draw(const struct app_msg *m, int r, int y, int x, int w) {
    struct stats_piece p[STATS_MAX];
    int row[STATS_MAX], col[STATS_MAX];
    int n = stats_pieces(m, p);
    stats_layout(p, n, w, row, col);
    for (int k = 0; k < n; k++) {
        if (row[k] != r || col[k] >= w)
            continue;
        if (col[k] && (k == 0 || row[k - 1] == r) && !p[k].space)
            put_text(y, x + col[k] - 3, " \xc2\xb7 ", 4, 3, theme_attr(THEME_STATS));
        put_text(y, x + col[k], p[k].text, strlen(p[k].text), w - col[k], theme_attr(p[k].theme));
    }
}

/* A reply's parts, in rows: its label, the reasoning's head line ("▸ thought for 12 s") and
 * lines (while it streams, or unfolded with F6), the answer, the stats, a blank row. */
struct msg_shape {
    int label, head, think, body, stats;
};

static void msg_shape(struct tui *t, int i, int w, struct msg_shape *sh) {
    const struct app_msg *m = &t->conv.msgs[i];
    memset(sh, 0, sizeof *sh);
    sh->label = m->role != APP_ROLE_NOTICE;
    int streaming = i == tui_chat_gen_msg(t);
    sh->head = m->role == APP_ROLE_ASSISTANT && (m->think || (streaming && tui_chat_thinking(t)));
    if (sh->head && (streaming || t->show_think)) {
        struct tui_wrap *c = think_get(t, i, w);
        sh->think = c ? c->n_lines : 0;
    }
    const struct md_doc *md = md_get(t, i, w);
    struct tui_wrap *c = md ? NULL : wrap_get(t, i, w);
    int n = md ? (md->n_lines ? md->n_lines : 1) : c ? c->n_lines : 1;
    sh->body = sh->head && m->len == 0 ? 0 : n;
    sh->stats = m->role == APP_ROLE_ASSISTANT && (m->has_stats || m->stopped || m->finish[0])
                    ? stats_rows(m, w) : 0;
}

/* Rows of message i: label, reasoning, body, stats, blank. */
static int msg_rows(struct tui *t, int i, int w) {
    struct msg_shape sh;
    msg_shape(t, i, w, &sh);
    return sh.label + sh.head + sh.think + sh.body + sh.stats + 1;
}

/* The reasoning's head line: "▾ thinking…" while it streams, then "▸ thought for 12 s (340
 * tokens)" folded, "▾ ..." unfolded. */
static void think_head(struct tui *t, int i, char *buf, size_t len) {
    const struct app_msg *m = &t->conv.msgs[i];
    int streaming = i == tui_chat_gen_msg(t);
    if (streaming && tui_chat_thinking(t)) {
        snprintf(buf, len, "\xe2\x96\xbe thinking\xe2\x80\xa6 (F7 answers now)");
        return;
    }
    size_t o = (size_t)snprintf(buf, len, "%s thought",
                                streaming || t->show_think ? "\xe2\x96\xbe" : "\xe2\x96\xb8");
    double sec = m->think_ms / 1000.0;
    if (m->think_ms >= 0 && o < len)
        o += (size_t)snprintf(buf + o, len - o, sec < 10 ? " for %.1f s" : " for %.0f s", sec);
    int n = streaming ? -1 : tui_chat_think_tokens(t, i);
    if (n >= 0 && o < len)
        snprintf(buf + o, len - o, " (%d token%s)", n, n == 1 ? "" : "s");
}

int tui_transcript_rows(struct tui *t, int width) {
    int total = 0;
    for (int i = 0; i < t->conv.n_msgs; i++)
        total += msg_rows(t, i, width - 2);
    return total;
}

int tui_msg_top(struct tui *t, int i, int width) {
    int top = 0;
    for (int k = 0; k < i && k < t->conv.n_msgs; k++)
        top += msg_rows(t, k, width - 2);
    return top;
}

static const char *role_label(const struct app_msg *m) {
    switch (m->role) {
    case APP_ROLE_USER: return "You";
    case APP_ROLE_SYSTEM: return "System prompt";
    case APP_ROLE_ASSISTANT: return m->who[0] ? m->who : "Assistant";
    default: return "";
    }
}

static int role_theme(int role) {
    switch (role) {
    case APP_ROLE_USER: return THEME_USER;
    case APP_ROLE_SYSTEM: return THEME_SYSTEM;
    case APP_ROLE_ASSISTANT: return THEME_ASSISTANT;
    default: return THEME_NOTICE;
    }
}

/* The streaming reply's cursor after a line of width lw at row y. */
static void draw_cursor(int y, int x, int w, int lw) {
    if (x + 2 + lw < x + w)
        mvaddch(y, x + 2 + lw, ' ' | A_REVERSE);
}

/* A message's label row: who, its version among its siblings (‹2/3›), pinned, left out of
 * the next turn (the context ledger); reversed when selected. */
static int draw_label(struct tui *t, int i, int y, int x, int w) {
    const struct app_msg *m = &t->conv.msgs[i];
    int sel = i == t->sel_msg, attr = theme_attr(role_theme(m->role)) | A_BOLD;
    int used = put_untrusted(y, x, role_label(m), w, attr | (sel ? A_REVERSE : 0));
    char buf[160];
    size_t o = 0;
    buf[0] = 0;
    if (m->n_sibs > 1)
        o += (size_t)snprintf(buf + o, sizeof buf - o, " \xe2\x80\xb9%d/%d\xe2\x80\xba", m->sib,
                              m->n_sibs);
    if (m->pinned && o < sizeof buf)
        o += (size_t)snprintf(buf + o, sizeof buf - o, " \xc2\xb7 pinned");
    if (o)
        used += put_text(y, x + used, buf, o, w - used, theme_attr(THEME_STATS));
    if (m->left_out) {
        const char *lo = " \xc2\xb7 left out of the next turn";
        used += put_text(y, x + used, lo, strlen(lo), w - used, theme_attr(THEME_STOPPED));
    }
    return used;
}

/* The theme of each markdown.h role. */
static const unsigned char md_theme[MD_R_COUNT] = {
    [MD_R_TEXT] = THEME_ASSISTANT, [MD_R_HEADING] = THEME_MD_HEADING, [MD_R_CODE] = THEME_MD_CODE,
    [MD_R_LINK] = THEME_MD_LINK, [MD_R_URL] = THEME_MD_URL, [MD_R_QUOTE] = THEME_MD_QUOTE,
    [MD_R_MARK] = THEME_MD_MARK, [MD_R_BOX] = THEME_MD_BOX, [MD_R_LANG] = THEME_MD_LANG,
    [MD_R_HL + HL_NONE] = THEME_ASSISTANT, [MD_R_HL + HL_KEYWORD] = THEME_HL_KEYWORD,
    [MD_R_HL + HL_TYPE] = THEME_HL_TYPE, [MD_R_HL + HL_STRING] = THEME_HL_STRING,
    [MD_R_HL + HL_COMMENT] = THEME_HL_COMMENT, [MD_R_HL + HL_NUMBER] = THEME_HL_NUMBER,
    [MD_R_HL + HL_META] = THEME_HL_META, [MD_R_HL + HL_ADD] = THEME_HL_ADD,
    [MD_R_HL + HL_DEL] = THEME_HL_DEL,
};

/* The frame's visible link text, repainted as OSC 8 hyperlinks after refresh(). */
struct hyper_span {
    int y, x, attr;
    const char *text, *url;
    size_t len;
};
static struct hyper_span hyper_spans[64];
static int n_hyper;

/* SGR parameters for curses attributes ("0;1;34"), as ncurses would set them. */
static void attr_sgr(int attr, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "0");
    static const struct { int a; const char *p; } bits[] = {
        {A_BOLD, ";1"}, {A_DIM, ";2"}, {A_ITALIC, ";3"}, {A_UNDERLINE, ";4"}, {A_REVERSE, ";7"},
    };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0] && o < n; i++)
        if (attr & bits[i].a)
            o += (size_t)snprintf(buf + o, n - o, "%s", bits[i].p);
    short fg, bg, pair = (short)PAIR_NUMBER(attr);
    if (pair > 0 && pair_content(pair, &fg, &bg) == OK && o < n) {
        if (fg >= 0 && fg < 8)
            o += (size_t)snprintf(buf + o, n - o, ";3%d", fg);
        if (bg >= 0 && bg < 8 && o < n)
            snprintf(buf + o, n - o, ";4%d", bg);
    }
}

/* Writes the recorded hyperlinks over what refresh() drew, the cursor saved and restored. */
static void hyper_flush(void) {
    static char buf[65536];
    size_t o = 0;
    if (!n_hyper)
        return;
    buf[o++] = '\033';
    buf[o++] = '7';
    for (int i = 0; i < n_hyper; i++) {
        const struct hyper_span *h = &hyper_spans[i];
        char sgr[64];
        attr_sgr(h->attr, sgr, sizeof sgr);
        o = hyper_append(buf, sizeof buf - 2, o, h->y, h->x, h->url, sgr, h->text, h->len);
    }
    buf[o++] = '\033';
    buf[o++] = '8';
    (void)fdio_write_all(STDOUT_FILENO, buf, o);   /* a failing terminal: nothing to do */
    n_hyper = 0;
}

/* Paints one rendered Markdown line at (y, x), at most maxw columns; returns its width.
 * hyper: its links are recorded for hyper_flush. */
static int draw_md_line(const struct md_doc *d, int li, int y, int x, int maxw, int hyper) {
    const struct md_line *l = &d->lines[li];
    int used = 0;
    for (int k = 0; k < l->n_spans && used < maxw; k++) {
        const struct md_span *s = &d->spans[l->span + k];
        int attr = theme_attr(s->role < MD_R_COUNT ? md_theme[s->role] : THEME_ASSISTANT);
        attr |= (s->attr & MD_A_BOLD ? (int)A_BOLD : 0) |
                (s->attr & MD_A_ITALIC ? (int)A_ITALIC : 0) |
                (s->attr & MD_A_UNDERLINE ? (int)A_UNDERLINE : 0) |
                (s->attr & MD_A_STRIKE ? (int)A_DIM : 0);
        if (hyper && s->link >= 0 && s->link < d->n_links && d->links[s->link].clean &&
            n_hyper < (int)(sizeof hyper_spans / sizeof hyper_spans[0]))
            hyper_spans[n_hyper++] = (struct hyper_span){
                y, x + used, attr, d->text + s->off, d->links[s->link].url,
                layout_fit(d->text + s->off, (size_t)s->len, maxw - used, NULL)};
        used += put_text(y, x + used, d->text + s->off, (size_t)s->len, maxw - used, attr);
    }
    return used;
}

/* Draws row r (0-based from the top of the transcript) of message i at screen row y. */
static void draw_msg_row(struct tui *t, int i, int r, int y, int x, int w) {
    const struct app_msg *m = &t->conv.msgs[i];
    struct msg_shape sh;
    msg_shape(t, i, w - 2, &sh);
    const struct md_doc *md = md_get(t, i, w - 2);
    struct tui_wrap *c = md ? NULL : wrap_get(t, i, w - 2);
    int n_body = sh.body;
    if (sh.label) {
        if (r == 0) {
            int lw = draw_label(t, i, y, x, w);
            if (i == t->sel_msg && t->sel_copy) {
                const char *hint = "  \xe2\x97\x80 y copies, 1-9 its code block, Esc";
                put_text(y, x + lw, hint, strlen(hint), w - lw, theme_attr(THEME_STATS));
            }
            return;
        }
        r--;
    }
    if (sh.head) {
        int attr = theme_attr(THEME_REASONING);
        if (r == 0) {
            char buf[128];
            think_head(t, i, buf, sizeof buf);
            int hw = put_text(y, x + 2, buf, strlen(buf), w - 2, attr);
            if (i == tui_chat_gen_msg(t) && !sh.think && !n_body)
                draw_cursor(y, x, w, hw + 1);
            return;
        }
        r--;
        if (r < sh.think) {
            struct tui_wrap *k = think_get(t, i, w - 2);
            if (k) {
                const struct layout_line *l = &k->lines[r];
                put_text(y, x + 2, k->san + l->off, (size_t)l->len, w - 2, attr);
                if (i == tui_chat_gen_msg(t) && r == sh.think - 1 && !n_body)
                    draw_cursor(y, x, w, l->width);
            }
            return;
        }
        r -= sh.think;
    }
    if (r < n_body && md) {
        int lw = md->n_lines ? draw_md_line(md, r, y, x + 2, w - 2, t->hyperlinks) : 0;
        if (i == tui_chat_gen_msg(t) && r == n_body - 1)
            draw_cursor(y, x, w, lw);
        return;
    }
    if (r < n_body) {
        if (c) {
            const struct layout_line *l = &c->lines[r];
            put_text(y, x + 2, c->san + l->off, (size_t)l->len, w - 2,
                     theme_attr(m->role == APP_ROLE_USER ? THEME_NORMAL : role_theme(m->role)));
        }
        if (i == tui_chat_gen_msg(t) && r == n_body - 1 && c) /* the streaming reply's cursor */
            draw_cursor(y, x, w, c->lines[r].width);
        return;
    }
    r -= n_body;
    if (r < sh.stats)
        stats_draw(m, r, y, x + 2, w - 2);
}

static void draw_start_screen(struct tui *t, int y0, int x, int w, int h) {
    const char *lines[8];
    int n = 0;
    char model_line[256], models_line[400];
    if (t->load) {
        lines[n++] = "Loading the model...";
    } else if (!t->model && !t->remote) {
        lines[n++] = "natter \xe2\x80\x94 no model loaded";
        lines[n++] = "";
        char dir[4096];
        snprintf(models_line, sizeof models_line, "To chat, put a GGUF model in %.300s/models",
                 paths_data_dir(dir, sizeof dir) ? dir : "$XDG_DATA_HOME/natter");
        lines[n++] = models_line;
        lines[n++] = "(or a directory listed in $NATTER_MODELS), then press F2,";
        lines[n++] = "or start natter with: natter -m path/to/model.gguf";
        lines[n++] = "Saved conversations: Ctrl-O to browse, Ctrl-F to search.";
    } else {
        char name[128];
        if (t->remote) /* the server renders with its own template */
            snprintf(model_line, sizeof model_line, "%.200s \xc2\xb7 remote", t->model_path);
        else
            snprintf(model_line, sizeof model_line, "%s \xc2\xb7 template %s",
                     layout_model_name(t->model_path, 0, name, sizeof name),
                     t->tmpl_name[0] ? t->tmpl_name : "?");
        lines[n++] = model_line;
        lines[n++] = "";
        lines[n++] = "Type a message and press Enter. F1 or ? for help.";
    }
    /* each line wrapped to the width, every row centered */
    struct layout_line rows[64];
    int n_rows = 0, first[8];
    for (int i = 0; i < n; i++) {
        first[i] = n_rows;
        n_rows += layout_wrap(lines[i], strlen(lines[i]), w, LAYOUT_WRAP_WORD, rows + n_rows,
                              64 - n_rows);
        if (n_rows > 64)
            n_rows = 64;
    }
    int y = y0 + (h - n_rows) / 2, li = 0;
    for (int r = 0; r < n_rows; r++) {
        while (li + 1 < n && first[li + 1] <= r)
            li++;
        const char *src = lines[li];
        int cx = x + (w - rows[r].width) / 2;
        if (y + r >= y0 && y + r < y0 + h)
            put_text(y + r, cx < x ? x : cx, src + rows[r].off, (size_t)rows[r].len, w,
                     theme_attr(li ? THEME_NORMAL : THEME_TITLE));
    }
}

static void draw_transcript(struct tui *t, int y0, int x, int w, int h) {
    t->view_rows = h;
    t->trans_w = w;
    if (t->conv.n_msgs == 0) {
        draw_start_screen(t, y0, x, w, h);
        return;
    }
    int total = tui_transcript_rows(t, w);
    if (t->sel_scroll && t->sel_msg >= 0 && t->sel_msg < t->conv.n_msgs) {
        int at = 0; /* the selected message's first row */
        for (int i = 0; i < t->sel_msg; i++)
            at += msg_rows(t, i, w - 2);
        int rows = msg_rows(t, t->sel_msg, w - 2);
        if (at < t->scroll.top || at + rows > t->scroll.top + h) {
            t->scroll.top = at + rows > h ? at + rows - h : 0;
            if (at < t->scroll.top)
                t->scroll.top = at;
            t->scroll.follow = t->scroll.top + h >= total;
        }
    }
    t->sel_scroll = 0;
    layout_scroll_fix(&t->scroll, total, h);
    int row = 0, y = y0;
    for (int i = 0; i < t->conv.n_msgs && y < y0 + h; i++) {
        int n = msg_rows(t, i, w - 2);
        if (row + n <= t->scroll.top) {
            row += n;
            continue;
        }
        for (int r = 0; r < n && y < y0 + h; r++) {
            if (row + r < t->scroll.top)
                continue;
            draw_msg_row(t, i, r, y++, x, w);
        }
        row += n;
    }
    if (!t->scroll.follow && h > 0) {
        char more[64];
        snprintf(more, sizeof more, " \xe2\x86\x93 %d more ", total - t->scroll.top - h);
        int mw = layout_str_width(more, strlen(more));
        put_text(y0 + h - 1, x + w - mw, more, strlen(more), mw, theme_attr(THEME_STATUS));
    }
}

static void draw_list(struct tui *t, int y0, int w, int h) {
    put_text(y0, 0, "Conversations", 13, w, theme_attr(THEME_TITLE) | A_BOLD);
    if (t->conv_sel >= t->n_convs)
        t->conv_sel = t->n_convs - 1;
    if (t->conv_sel < 0)
        t->conv_sel = 0;
    int rows = h - 1;
    if (t->conv_sel < t->conv_top)
        t->conv_top = t->conv_sel;
    if (t->conv_sel >= t->conv_top + rows)
        t->conv_top = t->conv_sel - rows + 1;
    if (t->n_convs == 0)
        put_text(y0 + 1, 0, "(none yet)", 10, w, theme_attr(THEME_STATS));
    for (int r = 0; r < rows && t->conv_top + r < t->n_convs; r++) {
        int k = t->conv_top + r;
        int sel = k == t->conv_sel && t->focus == FOCUS_LIST;
        int cur = !strcmp(t->convs[k].key, t->conv.id);
        int attr = sel ? theme_attr(THEME_LIST_SEL) : theme_attr(THEME_LIST) | (cur ? (int)A_BOLD : 0);
        if (sel)
            fill_row(y0 + 1 + r, 0, w, attr);
        put_text(y0 + 1 + r, 0, cur ? ">" : " ", 1, 1, attr);
        put_untrusted(y0 + 1 + r, 1, t->convs[k].label, w - 1, attr);
    }
    rule(y0, w, h, 1, theme_attr(THEME_BORDER));
}

static void draw_status(struct tui *t, int y) {
    char buf[512], rss[32], kv[32];
    size_t o = 0;
    fill_row(y, 0, t->cols, theme_attr(THEME_STATUS));
    units_bytes(eng_rss_bytes(), 1, rss, sizeof rss);
    if (t->load) {
        int pm = atomic_load(&t->load->permille);
        const char *base = strrchr(t->load->path, '/');
        snprintf(buf, sizeof buf, " loading %.200s ", base ? base + 1 : t->load->path);
        int bar = 20, fill = pm * bar / 1000;
        int x = put_untrusted(y, 0, buf, t->cols, theme_attr(THEME_STATUS));
        for (int i = 0; i < bar && x + i < t->cols; i++)
            put_text(y, x + i, i < fill ? " " : "\xe2\x96\x91", i < fill ? 1 : 3, 1,
                     theme_attr(i < fill ? THEME_PROGRESS : THEME_STATUS));
        snprintf(buf, sizeof buf, " %3d%% \xe2\x94\x82 RSS %s", pm / 10, rss);
        put_text(y, x + bar, buf, strlen(buf), t->cols - x - bar, theme_attr(THEME_STATUS));
        return;
    }
    const struct session_live *rl = tui_chat_live(t);
    if (t->remote) { /* a server's model: its figures while it streams */
        o += (size_t)snprintf(buf + o, sizeof buf - o, " %s \xe2\x94\x82 remote", t->model_path);
        if (rl && rl->running)
            o += (size_t)snprintf(buf + o, sizeof buf - o, " \xe2\x94\x82 %.1f t/s",
                                  rl->have_stats ? (double)rl->stats.gen_tps : 0.0);
        snprintf(buf + o, sizeof buf - o, " \xe2\x94\x82 RSS %s", rss);
    } else if (!t->model) {
        snprintf(buf, sizeof buf, " no model (F2 picks one) \xe2\x94\x82 RSS %s", rss);
    } else {
        int used, n_ctx;
        uint64_t kvb;
        const struct session_live *lv = tui_chat_live(t);
        const int gen = lv && lv->running;
        if (gen && lv->have_stats) {
            used = lv->stats.n_past, n_ctx = lv->stats.n_ctx, kvb = lv->stats.kv_bytes;
        } else {
            used = gen ? 0 : lv && lv->prefilling ? lv->prefill_n0 : eng_ctx_n_past(t->ctx);
            n_ctx = eng_ctx_n_ctx(t->ctx);
            kvb = gen ? 0 : eng_ctx_kv_bytes(t->ctx);
        }
        units_bytes(kvb, 1, kv, sizeof kv);
        char name[128]; /* the file, not its internal name: two quantizations differ */
        int name_w = t->cols / 4 < 12 ? 12 : t->cols / 4 > 40 ? 40 : t->cols / 4;
        if (t->remote)
            snprintf(name, sizeof name, "%.*s", name_w, t->model_path);
        else
            layout_model_name(t->model_path, name_w, name, sizeof name);
        o += (size_t)snprintf(buf + o, sizeof buf - o, " %s \xe2\x94\x82 %s \xe2\x94\x82 ctx %d/%d",
                              name, t->tmpl_name[0] ? t->tmpl_name : "-", used, n_ctx);
        if (gen && lv->prompt_pm < 1000 && (!lv->have_stats || lv->stats.n_gen == 0))
            o += (size_t)snprintf(buf + o, sizeof buf - o, " \xe2\x94\x82 prompt %d%%",
                                  lv->prompt_pm / 10);
        else if (gen)
            o += (size_t)snprintf(buf + o, sizeof buf - o, " \xe2\x94\x82 %.1f t/s%s",
                                  lv->have_stats ? (double)lv->stats.gen_tps : 0.0,
                                  tui_chat_thinking(t) ? " \xe2\x94\x82 thinking" : "");
        if (!t->set.think && o < sizeof buf)
            o += (size_t)snprintf(buf + o, sizeof buf - o, " \xe2\x94\x82 think off");
        snprintf(buf + o, sizeof buf - o, " \xe2\x94\x82 RSS %s \xe2\x94\x82 KV %s", rss, kv);
    }
    int used_w = put_untrusted(y, 0, buf, t->cols, theme_attr(THEME_STATUS));
    if (!t->db || t->store_failed) { /* a full disk or a read-only database stays visible */
        const char *warn = " NOT SAVED ";
        used_w += put_text(y, used_w + 1, warn, strlen(warn), t->cols - used_w - 1,
                           theme_attr(THEME_STOPPED) | A_REVERSE) + 1;
    }
    const char *hint = "F1 help ";
    int hw = (int)strlen(hint);
    if (used_w + hw + 1 < t->cols)
        put_text(y, t->cols - hw, hint, (size_t)hw, hw, theme_attr(THEME_STATUS));
}

/* The context ledger at the right of the separator row, when columns x0.. leave room for it:
 * "draft 12 tok · next turn 1834/4096" (and how many messages that turn leaves out). Returns
 * the columns it took. */
static int draw_ledger(struct tui *t, int y, int x0) {
    if (!t->model || tui_chat_streaming(t) || t->ledger_next < 0)
        return 0;
    char buf[128];
    size_t o = (size_t)snprintf(buf, sizeof buf, " draft %d tok \xc2\xb7 next turn %d/%d ",
                                t->ledger_draft < 0 ? 0 : t->ledger_draft, t->ledger_next,
                                eng_ctx_n_ctx(t->ctx));
    if (t->ledger_out && o < sizeof buf)
        snprintf(buf + o, sizeof buf - o, "(%d left out) ", t->ledger_out);
    int bw = layout_str_width(buf, strlen(buf));
    if (x0 + bw + 1 > t->cols)
        return 0;
    put_text(y, t->cols - bw - 1, buf, strlen(buf), bw,
             theme_attr(t->ledger_out ? THEME_STOPPED : THEME_STATS));
    return bw + 1;
}

/* Paints the input area (prompt + readline's buffer wrapped by character) at rows
 * [y0, y0 + h); places the cursor. */
static void draw_input(struct tui *t, int y0, int h, const char *text, int point,
                       const struct layout_line *lines, int n, int width) {
    int crow, ccol;
    layout_cursor(text, lines, n, width, point, &crow, &ccol);
    int top = crow >= h ? crow - h + 1 : 0;
    for (int r = 0; r < h; r++) {
        int k = top + r;
        if (k == 0)
        {
            const char *mark = t->edit_msg >= 0 ? "e>" : tui_chat_streaming(t) ? "\xe2\x80\xa6" : ">";
            put_text(y0 + r, 0, mark, strlen(mark), 2, theme_attr(THEME_PROMPT));
        }
        if (k < n) {
            /* sanitize line by line: the buffer may hold control characters */
            size_t sl;
            char *san = layout_sanitize(text + lines[k].off, (size_t)lines[k].len, &sl);
            if (san)
                put_text(y0 + r, 2, san, sl, width, A_NORMAL);
            free(san);
        }
    }
    if (t->overlay == OV_NONE && t->focus == FOCUS_INPUT) {
        move(y0 + crow - top, 2 + ccol);
        curs_set(1);
    } else {
        curs_set(0);
    }
}

/* The notice on the separator row; a long one wraps upwards over the transcript's last rows
 * (at most 6 rows). Returns the columns its last row takes. */
static int draw_notice(struct tui *t, int y) {
    size_t n;
    char *san = layout_sanitize(t->notice, strlen(t->notice), &n);
    int used = 0;
    if (!san)
        return 0;
    enum { MAX_ROWS = 16 };
    struct layout_line rows[MAX_ROWS];
    int w = t->cols - 2, need = layout_wrap(san, n, w, LAYOUT_WRAP_WORD, rows, MAX_ROWS);
    int k = need < MAX_ROWS ? need : MAX_ROWS;
    int room = (y + 1) / 2 > 1 ? (y + 1) / 2 : 1; /* at most half the transcript's rows */
    if (k > room)
        k = room;
    for (int r = 0; r < k; r++) {
        int row = y - (k - 1) + r;
        if (r < k - 1)
            fill_row(row, 0, t->cols, theme_attr(THEME_NORMAL));
        int cut = r == k - 1 && need > k; /* the rest does not fit: the row says so */
        used = put_text(row, 1, san + rows[r].off, (size_t)rows[r].len, cut ? w - 1 : w,
                        theme_attr(THEME_NOTICE));
        if (cut)
            used += put_text(row, 1 + used, "\xe2\x80\xa6", 3, 1, theme_attr(THEME_NOTICE));
    }
    free(san);
    return used;
}

/* The help's lines wrapped at width w, a key's description under itself: rows[] (at most cap)
 * index help_lines through src[], indent[] their first column; returns the rows needed. */
enum { HELP_KEY_W = 15 };
static int help_wrap(int w, struct layout_line *rows, int *src, int *indent, int cap) {
    int n = 0;
    for (int i = 0; i < (int)(sizeof help_lines / sizeof help_lines[0]); i++) {
        const char *l = help_lines[i];
        int len = (int)strlen(l);
        /* a key's description wraps under itself when it keeps 20 columns; the /command
         * lines wrap as text */
        int key = len > HELP_KEY_W && l[HELP_KEY_W - 1] == ' ' && w >= HELP_KEY_W + 20 &&
                  l[0] != ' ' && l[0] != '/' && l[0] != '(' ? HELP_KEY_W : 0;
        int k = layout_wrap(l + key, (size_t)(len - key), w - key, LAYOUT_WRAP_WORD,
                            n < cap ? rows + n : NULL, n < cap ? cap - n : 0);
        for (int j = 0; j < k && n + j < cap; j++) {
            src[n + j] = i;
            indent[n + j] = key;
            rows[n + j].off += key;
            if (j == 0) { /* the first row starts with the key */
                rows[n + j].len += rows[n + j].off;
                rows[n + j].off = 0;
                indent[n + j] = 0;
            }
        }
        n += k;
    }
    return n;
}

static void draw_box(int y, int x, int h, int w, const char *title) {
    for (int r = 0; r < h; r++)
        fill_row(y + r, x, w, theme_attr(THEME_OVERLAY));
    int a = theme_attr(THEME_OVERLAY);
    rule(y, x, w, 0, a);
    rule(y + h - 1, x, w, 0, a);
    rule(y, x, h, 1, a);
    rule(y, x + w - 1, h, 1, a);
    attrset(a);
    mvaddstr(y, x, "\xe2\x94\x8c");
    mvaddstr(y, x + w - 1, "\xe2\x94\x90");
    mvaddstr(y + h - 1, x, "\xe2\x94\x94");
    mvaddstr(y + h - 1, x + w - 1, "\xe2\x94\x98");
    attrset(A_NORMAL);
    char buf[128];
    snprintf(buf, sizeof buf, " %s ", title);
    put_text(y, x + 2, buf, strlen(buf), w - 4, theme_attr(THEME_TITLE));
}

static void draw_overlay(struct tui *t) {
    static const char *const titles[] = {
        [OV_HELP] = "Keys (F1)", [OV_MODELS] = "Models (F2)", [OV_SYSTEM] = "System prompt (F3)",
        [OV_SETTINGS] = "Settings (F4)", [OV_SEARCH] = "Search (Ctrl-F)",
        [OV_RENAME] = "Rename", [OV_CONFIRM_DELETE] = "Delete",
        [OV_CONFIRM_DELETE_MSG] = "Delete", [OV_CONFIRM_SYSTEM] = "System prompt",
    };
    char question[512]; /* a confirmation's question, wrapped to the box */
    const char *foot_q = "y delete \xc2\xb7 n or Esc keep";
    question[0] = '\0';
    if (t->overlay == OV_CONFIRM_DELETE)
        snprintf(question, sizeof question, "Delete this conversation? (y/n)");
    else if (t->overlay == OV_CONFIRM_DELETE_MSG)
        snprintf(question, sizeof question, "Delete this message and everything after it? (y/n)");
    else if (t->overlay == OV_CONFIRM_SYSTEM) {
        snprintf(question, sizeof question, "Replace the system prompt of this saved "
                 "conversation (%s) with %.64s? Its old text is not kept. (y/n)",
                 t->system_name[0] ? t->system_name : "none",
                 !t->ov_system ? "?" : app_system_is_none(t->ov_system) ? "none"
                 : prompts_system_find(t->ov_system) ? t->ov_system : "this text");
        foot_q = "y replace \xc2\xb7 n or Esc keep";
    }
    int w = t->cols - 4 < 76 ? t->cols - 4 : 76;
    enum { HELP_ROWS = 512 }; /* the help at 12 columns */
    struct layout_line help_rows[HELP_ROWS];
    int help_src[HELP_ROWS], help_ind[HELP_ROWS];
    int n_rows = t->overlay == OV_HELP ? help_wrap(w - 4 > 1 ? w - 4 : 1, help_rows, help_src,
                                                   help_ind, HELP_ROWS)
                                       : t->n_items;
    if (n_rows > HELP_ROWS && t->overlay == OV_HELP)
        n_rows = HELP_ROWS;
    if (t->overlay != OV_HELP && n_rows < 2) /* an empty list still shows, and says why */
        n_rows = 2;
    int has_field = t->overlay == OV_SEARCH || t->overlay == OV_RENAME || t->ov_editing;
    int h = n_rows + 3 + has_field * 2;
    struct layout_line q_rows[16];
    int n_q = question[0] ? layout_wrap(question, strlen(question), w - 4 > 1 ? w - 4 : 1,
                                        LAYOUT_WRAP_WORD, q_rows, 16) : 0;
    if (n_q > 16)
        n_q = 16;
    if (t->overlay == OV_RENAME)
        h = 6;
    else if (question[0])
        h = n_q + 4;
    if (h > t->rows - 2)
        h = t->rows - 2;
    if (w < 10 || h < 4)
        return;
    int y = (t->rows - h) / 2, x = (t->cols - w) / 2;
    draw_box(y, x, h, w, titles[t->overlay]);
    int ry = y + 1, rows = h - 3;
    const char *foot = "Enter choose \xc2\xb7 Esc close", *foot_short = NULL;
    char pos[48] = ""; /* a box taller than the screen: which rows it shows */
    if (has_field) {
        put_text(ry, x + 2, "> ", 2, 2, theme_attr(THEME_OVERLAY) | A_BOLD);
        size_t sl;
        char *san = layout_sanitize(t->ov_buf, t->ov_len, &sl);
        int fw = san ? layout_str_width(san, sl) : 0;
        int skip = 0; /* show the field's end when it is wider than the box */
        while (san && fw > w - 7 && (size_t)skip < sl) {
            uint32_t cp;
            int n = layout_utf8_decode(san + skip, sl - (size_t)skip, &cp);
            fw -= layout_cp_width(cp) < 0 ? 1 : layout_cp_width(cp);
            skip += n;
        }
        if (san)
            put_text(ry, x + 4, san + skip, sl - (size_t)skip, w - 6, theme_attr(THEME_OVERLAY));
        free(san);
        move(ry, x + 4 + fw);
        curs_set(1);
        ry += 2;
        rows -= 2;
    }
    if (t->overlay == OV_HELP) {
        if (t->ov_top > n_rows - rows) /* Up/Down scroll a help taller than the screen */
            t->ov_top = n_rows - rows > 0 ? n_rows - rows : 0;
        for (int i = 0; i < rows && t->ov_top + i < n_rows; i++) {
            int k = t->ov_top + i;
            put_text(ry + i, x + 2 + help_ind[k], help_lines[help_src[k]] + help_rows[k].off,
                     (size_t)help_rows[k].len, w - 4 - help_ind[k], theme_attr(THEME_OVERLAY));
        }
        foot = n_rows > rows ? "Up/Down scroll \xc2\xb7 Esc, F1 or q close" : "Esc, F1 or q close";
        foot_short = n_rows > rows ? "Up/Down \xc2\xb7 Esc close" : "Esc close";
        if (n_rows > rows)
            snprintf(pos, sizeof pos, " %d-%d/%d ", t->ov_top + 1, t->ov_top + rows, n_rows);
    } else if (t->overlay == OV_RENAME) {
        foot = "Enter rename \xc2\xb7 Esc cancel";
    } else if (question[0]) {
        for (int i = 0; i < n_q && i < rows; i++)
            put_text(ry + i, x + 2, question + q_rows[i].off, (size_t)q_rows[i].len, w - 4,
                     theme_attr(THEME_OVERLAY));
        foot = foot_q;
    } else {
        if (t->ov_sel >= t->n_items)
            t->ov_sel = t->n_items - 1;
        if (t->ov_sel < 0)
            t->ov_sel = 0;
        if (t->ov_sel < t->ov_top)
            t->ov_top = t->ov_sel;
        if (t->ov_sel >= t->ov_top + rows)
            t->ov_top = t->ov_sel - rows + 1;
        for (int i = 0; i < rows && t->ov_top + i < t->n_items; i++) {
            int k = t->ov_top + i;
            int attr = k == t->ov_sel ? theme_attr(THEME_LIST_SEL) : theme_attr(THEME_OVERLAY);
            if (k == t->ov_sel)
                fill_row(ry + i, x + 1, w - 2, attr);
            put_untrusted(ry + i, x + 2, t->items[k].label, w - 4, attr);
        }
        if (t->n_items == 0 && t->overlay == OV_MODELS) {
            char dir[4096], where[4200];
            snprintf(where, sizeof where, "put .gguf files in %s/models or set NATTER_MODELS",
                     paths_data_dir(dir, sizeof dir) ? dir : "$XDG_DATA_HOME/natter");
            put_text(ry, x + 2, "(no models found)", 17, w - 4, theme_attr(THEME_OVERLAY));
            if (rows > 1)
                put_untrusted(ry + 1, x + 2, where, w - 4, theme_attr(THEME_OVERLAY));
        } else if (t->n_items == 0) {
            put_text(ry, x + 2, "(nothing)", 9, w - 4, theme_attr(THEME_OVERLAY));
        }
        if (t->overlay == OV_SETTINGS)
            foot = t->ov_editing ? "Enter set \xc2\xb7 Esc cancel" : "Enter edit \xc2\xb7 Esc close";
        if (t->overlay == OV_MODELS)
            foot = "Enter load \xc2\xb7 r rescan \xc2\xb7 Esc close",
            foot_short = "Enter \xc2\xb7 r rescan \xc2\xb7 Esc";
        if (t->overlay == OV_SEARCH)
            foot = "type to search \xc2\xb7 Up/Down \xc2\xb7 Enter open \xc2\xb7 Esc close",
            foot_short = "Enter open \xc2\xb7 Esc close";
        if (t->n_items > rows) /* more than the box shows: where the selection is */
            snprintf(pos, sizeof pos, " %d/%d ", t->ov_sel + 1, t->n_items);
    }
    if (foot_short && layout_str_width(foot, strlen(foot)) > w - 4)
        foot = foot_short; /* a narrow box: the keys that matter */
    put_text(y + h - 2, x + 2, foot, strlen(foot), w - 4, theme_attr(THEME_STATS));
    int pw = (int)strlen(pos);
    if (pw && pw + 4 <= w) /* on the bottom border, at the right */
        put_text(y + h - 1, x + w - 2 - pw, pos, (size_t)pw, pw, theme_attr(THEME_TITLE));
}

void tui_draw(struct tui *t) {
    getmaxyx(stdscr, t->rows, t->cols);
    erase();
    curs_set(0);
    if (t->rows < 4 || t->cols < 10) {
        mvaddnstr(0, 0, "too small", t->cols);
        refresh();
        return;
    }
    int list_w = t->show_list && t->cols >= 50 ? (t->cols / 4 < 28 ? t->cols / 4 : 28) : 0;
    t->list_w = list_w; /* for mouse clicks */
    if (!list_w && t->focus == FOCUS_LIST)
        t->focus = FOCUS_INPUT;
    int in_w = t->cols - 2;

    const char *text = tui_input_text();
    int point = tui_input_point();
    struct layout_line lines_buf[64], *lines = lines_buf;
    size_t tl = strlen(text);
    int n = layout_wrap(text, tl, in_w, LAYOUT_WRAP_CHAR, lines, 64);
    if (n > 64) {
        lines = malloc((size_t)n * sizeof *lines);
        if (!lines)
            return;
        layout_wrap(text, tl, in_w, LAYOUT_WRAP_CHAR, lines, n);
    }
    int crow, ccol;
    layout_cursor(text, lines, n, in_w, point, &crow, &ccol);
    int need = (n > crow + 1 ? n : crow + 1);
    int max_h = (t->rows - 3) / 3 > 1 ? (t->rows - 3) / 3 : 1;
    int in_h = need < max_h ? need : max_h;
    int top_h = t->rows - in_h - 2;

    if (list_w)
        draw_list(t, 0, list_w, top_h);
    int tx = list_w ? list_w + 2 : 1, tw = t->cols - tx - 1;
    draw_transcript(t, 0, tx, tw, top_h);
    /* the separator row: a notice or a rule */
    rule(top_h, 0, t->cols, 0, theme_attr(THEME_BORDER));
    int notice_w = 0;
    if (t->notice[0])
        notice_w = draw_notice(t, top_h);
    draw_ledger(t, top_h, notice_w + 2); /* where the notice leaves room */
    draw_status(t, t->rows - 1);
    if (t->overlay == OV_NONE) {
        draw_input(t, top_h + 1, in_h, text, point, lines, n, in_w);
    } else {
        draw_input(t, top_h + 1, in_h, text, point, lines, n, in_w);
        draw_overlay(t);
    }
    if (lines != lines_buf)
        free(lines);
    refresh();
    if (t->overlay == OV_NONE) /* an overlay may cover the links */
        hyper_flush();
    n_hyper = 0;
}
