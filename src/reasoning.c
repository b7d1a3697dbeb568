/* src/reasoning.c — reasoning split from the answer as a reply streams (see reasoning.h): the
 * marker families, the prompt helpers (inside, end of thinking, thinking off) and the splitter.
 * Pure functions over caller-owned structs; one thread per struct reasoning. */
#include "reasoning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- markers ---- */

static const struct {
    const char *name, *open, *close;
} tag_families[] = {
    {"think", "<think>", "</think>"},
    {"mistral", "[THINK]", "[/THINK]"},
    {"thought", "<|begin_of_thought|>", "<|end_of_thought|>"},
    {"seed", "<seed:think>", "</seed:think>"},
    {"kimi", "\xe2\x97\x81think\xe2\x96\xb7", "\xe2\x97\x81/think\xe2\x96\xb7"}, /* ◁think▷ */
    {"cohere", "<|START_THINKING|>", "<|END_THINKING|>"},       /* Command R7B, A */
    {"gemma4", "<|channel>thought", "<channel|>"},              /* Gemma 4 */
};

static const struct {
    const char *text;
    int kind;
} harmony_markers[] = {
    {"<|start|>", REASONING_M_START},     {"<|channel|>", REASONING_M_CHANNEL},
    {"<|constrain|>", REASONING_M_CONSTRAIN}, {"<|message|>", REASONING_M_MESSAGE},
    {"<|end|>", REASONING_M_END},         {"<|return|>", REASONING_M_RETURN},
    {"<|call|>", REASONING_M_CALL},
};

static void markers_none(struct reasoning_markers *mk) {
    memset(mk, 0, sizeof *mk);
    snprintf(mk->family, sizeof mk->family, "none");
}

static int marker_add(struct reasoning_markers *mk, const char *text, int kind) {
    size_t n = strlen(text);
    if (n == 0 || n >= REASONING_MARKER_LEN || mk->n >= REASONING_MARKERS_MAX)
        return -1;
    struct reasoning_marker *m = &mk->m[mk->n++];
    memcpy(m->text, text, n + 1);
    m->kind = kind;
    m->as_text = 1;
    return 0;
}

int reasoning_markers_pair(struct reasoning_markers *mk, const char *open, const char *close) {
    markers_none(mk);
    if (!close || !*close || strlen(close) >= REASONING_MARKER_LEN ||
        (open && strlen(open) >= REASONING_MARKER_LEN))
        return -1;
    snprintf(mk->family, sizeof mk->family, "custom");
    if (open && *open)
        marker_add(mk, open, REASONING_M_OPEN);
    marker_add(mk, close, REASONING_M_CLOSE);
    return 0;
}

int reasoning_markers_family(struct reasoning_markers *mk, const char *name) {
    markers_none(mk);
    if (!name)
        return -1;
    if (!strcmp(name, "none"))
        return 0;
    if (!strcmp(name, "harmony")) {
        snprintf(mk->family, sizeof mk->family, "harmony");
        mk->harmony = 1;
        for (size_t i = 0; i < sizeof harmony_markers / sizeof harmony_markers[0]; i++)
            marker_add(mk, harmony_markers[i].text, harmony_markers[i].kind);
        return 0;
    }
    for (size_t i = 0; i < sizeof tag_families / sizeof tag_families[0]; i++)
        if (!strcmp(name, tag_families[i].name)) {
            reasoning_markers_pair(mk, tag_families[i].open, tag_families[i].close);
            snprintf(mk->family, sizeof mk->family, "%s", name);
            return 0;
        }
    return -1;
}

int reasoning_markers_parse(struct reasoning_markers *mk, const char *spec) {
    const char *sp = spec ? strpbrk(spec, " \t") : NULL;
    if (!sp)
        return reasoning_markers_family(mk, spec);
    char open[REASONING_MARKER_LEN];
    size_t n = (size_t)(sp - spec);
    const char *close = sp + strspn(sp, " \t");
    if (n == 0 || n >= sizeof open || !*close || strpbrk(close, " \t")) {
        markers_none(mk);
        return -1;
    }
    memcpy(open, spec, n);
    open[n] = 0;
    return reasoning_markers_pair(mk, open, close);
}

void reasoning_markers_detect(struct reasoning_markers *mk, const char *jinja) {
    static const struct {
        const char *needle, *family;
    } rules[] = {
        {"<|channel|>", "harmony"},
        {"<|channel>thought", "gemma4"},
        {"<|START_THINKING|>", "cohere"},
        {"[THINK]", "mistral"},
        {"<|begin_of_thought|>", "thought"},
        {"<seed:think>", "seed"},
        {"\xe2\x97\x81think\xe2\x96\xb7", "kimi"},
    };
    for (size_t i = 0; jinja && i < sizeof rules / sizeof rules[0]; i++)
        if (strstr(jinja, rules[i].needle)) {
            reasoning_markers_family(mk, rules[i].family);
            return;
        }
    reasoning_markers_family(mk, "think");
}

void reasoning_markers_vocab(struct reasoning_markers *mk, const eng_model *m) {
    if (!m)
        return;
    for (int i = 0; i < mk->n; i++) {
        struct reasoning_marker *k = &mk->m[i];
        int32_t tok[4];
        char piece[8];
        int n = eng_tokenize(m, k->text, strlen(k->text), 0, 1, tok, 4);
        /* one token whose text shows only when control tokens are rendered */
        k->as_text = !(n == 1 && eng_token_to_piece(m, tok[0], piece, (int)sizeof piece, 0) == 0);
    }
}

int reasoning_template_switch(const char *jinja) {
    return jinja && strstr(jinja, "enable_thinking") != NULL;
}

static const char *marker_of(const struct reasoning_markers *mk, int kind) {
    for (int i = 0; i < mk->n; i++)
        if (mk->m[i].kind == kind)
            return mk->m[i].text;
    return NULL;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t trim_end(const char *s, size_t n) {
    while (n > 0 && is_ws(s[n - 1]))
        n--;
    return n;
}

static int ends_with(const char *s, size_t n, const char *tail) {
    size_t t = strlen(tail);
    return t <= n && memcmp(s + n - t, tail, t) == 0;
}

int reasoning_prompt_inside(const struct reasoning_markers *mk, const char *prompt, size_t len) {
    size_t n = trim_end(prompt, len);
    if (mk->harmony)
        return ends_with(prompt, n, "<|channel|>analysis<|message|>");
    const char *open = marker_of(mk, REASONING_M_OPEN);
    if (!open) /* a pair with no opening tag: the prompt always opens the reasoning */
        return marker_of(mk, REASONING_M_CLOSE) != NULL;
    return ends_with(prompt, n, open);
}

size_t reasoning_end_text(const struct reasoning_markers *mk, char *buf, size_t len) {
    const char *close = marker_of(mk, REASONING_M_CLOSE);
    int n = mk->harmony ? snprintf(buf, len, "<|end|><|start|>assistant<|channel|>final<|message|>")
            : close     ? snprintf(buf, len, "%s\n\n", close)
                        : snprintf(buf, len, "%s", "");
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int reasoning_prompt_no_think(const struct reasoning_markers *mk, int has_switch, char **text,
                              size_t *len) {
    const char *open = marker_of(mk, REASONING_M_OPEN), *close = marker_of(mk, REASONING_M_CLOSE);
    if (mk->harmony || !close)
        return 0;
    int inside = reasoning_prompt_inside(mk, *text, *len);
    if (!inside && !(has_switch && open && !strcmp(open, "<think>")))
        return 0;
    /* inside: the open tag stays and the empty thought closes it; else the whole empty thought */
    size_t keep = inside ? trim_end(*text, *len) : *len;
    size_t add = (inside ? 0 : strlen(open)) + 2 + strlen(close) + 2;
    char *t = malloc(keep + add + 1);
    if (!t)
        return -1;
    memcpy(t, *text, keep);
    snprintf(t + keep, add + 1, "%s\n\n%s\n\n", inside ? "" : open, close);
    free(*text);
    *text = t;
    *len = keep + add;
    return 1;
}

/* ---- the splitter ---- */

enum {
    RS_START,        /* the reply's start: whitespace held, an opening tag may come */
    RS_THINK_START,  /* reasoning, nothing of it yet: whitespace dropped */
    RS_THINK,
    RS_ANSWER_START, /* after the closing tag: whitespace dropped */
    RS_ANSWER,
    RS_H_HEADER,     /* harmony: between messages, reading a header */
    RS_H_MESSAGE,    /* harmony: inside a message of part r->part */
};

#define NO_CHANNEL ((size_t)-1)

static void out(struct reasoning *r, int part, const char *s, size_t n) {
    if (n == 0)
        return;
    r->n_out[part] += n;
    r->emit(r->ud, part, s, n);
}

static void header_reset(struct reasoning *r) {
    r->n_hdr = 0;
    r->chan_at = r->chan_end = NO_CHANNEL;
}

/* Plain text in the current state. */
static void feed_text(struct reasoning *r, const char *s, size_t n) {
    size_t i = 0;
    switch (r->state) {
    case RS_START:
        while (i < n && is_ws(s[i]) && r->n_ws < sizeof r->ws)
            r->ws[r->n_ws++] = s[i++];
        if (i == n)
            return;
        out(r, REASONING_ANSWER, r->ws, r->n_ws); /* no tag: the whitespace was the answer's */
        r->n_ws = 0;
        r->state = RS_ANSWER;
        out(r, REASONING_ANSWER, s + i, n - i);
        return;
    case RS_THINK_START:
    case RS_ANSWER_START:
        while (i < n && is_ws(s[i]))
            i++;
        if (i == n)
            return;
        r->state = r->state == RS_THINK_START ? RS_THINK : RS_ANSWER;
        out(r, r->state == RS_THINK ? REASONING_THOUGHT : REASONING_ANSWER, s + i, n - i);
        return;
    case RS_THINK:
        out(r, REASONING_THOUGHT, s, n);
        return;
    case RS_H_HEADER:
        if (r->n_hdr + n <= sizeof r->hdr) {
            memcpy(r->hdr + r->n_hdr, s, n);
            r->n_hdr += n;
            return;
        }
        /* a header this long is not harmony: the model is just talking */
        out(r, REASONING_ANSWER, r->hdr, r->n_hdr);
        header_reset(r);
        r->state = RS_H_MESSAGE;
        r->part = REASONING_ANSWER;
        r->had_message = 1;
        out(r, REASONING_ANSWER, s, n);
        return;
    case RS_H_MESSAGE:
        out(r, r->part, s, n);
        return;
    default:
        out(r, REASONING_ANSWER, s, n);
    }
}

/* The part a harmony message takes from its header (role, recipient, channel, constraint). */
static int header_part(const struct reasoning *r) {
    if (r->chan_at == NO_CHANNEL)
        return REASONING_ANSWER;
    const char *c = r->hdr + r->chan_at;
    const char *end = r->hdr + (r->chan_end != NO_CHANNEL ? r->chan_end : r->n_hdr);
    while (c < end && is_ws(*c))
        c++;
    size_t w = 0;
    while (c + w < end && !is_ws(c[w]))
        w++;
    if (w == 8 && !memcmp(c, "analysis", 8))
        return REASONING_THOUGHT;
    if (w == 10 && !memcmp(c, "commentary", 10)) {
        /* to=functions.x: a tool call (natter runs no tools); else a preamble for the user */
        for (size_t i = 0; i + 3 <= r->n_hdr; i++)
            if (!memcmp(r->hdr + i, "to=", 3))
                return REASONING_THOUGHT;
    }
    return REASONING_ANSWER;
}

/* A marker, from the text (from_text) or a control token. */
static void feed_marker(struct reasoning *r, const struct reasoning_marker *m, int from_text) {
    int used = 0;
    switch (m->kind) {
    case REASONING_M_OPEN:
        if (r->state == RS_START) {
            r->n_ws = 0;
            r->state = RS_THINK_START;
            used = 1;
        } else if (r->state == RS_THINK_START) {
            used = 1; /* the prompt opened it and the model opened it again */
        }
        break;
    case REASONING_M_CLOSE:
        if (r->state == RS_THINK_START || r->state == RS_THINK || r->state == RS_START) {
            r->n_ws = 0; /* at the start: the prompt had opened it, the thought was empty */
            r->state = RS_ANSWER_START;
            used = 1;
        }
        break;
    case REASONING_M_START:
        if (r->state == RS_H_HEADER || r->state == RS_H_MESSAGE) {
            header_reset(r);
            r->state = RS_H_HEADER;
            used = 1;
        }
        break;
    case REASONING_M_CHANNEL:
        if (r->state == RS_H_MESSAGE) { /* a new message without <|end|><|start|> */
            header_reset(r);
            r->state = RS_H_HEADER;
        }
        if (r->state == RS_H_HEADER) {
            r->chan_at = r->n_hdr;
            r->chan_end = NO_CHANNEL;
            used = 1;
        }
        break;
    case REASONING_M_CONSTRAIN:
        if (r->state == RS_H_HEADER) {
            if (r->chan_at != NO_CHANNEL && r->chan_end == NO_CHANNEL)
                r->chan_end = r->n_hdr; /* the channel's name ends where the constraint starts */
            used = 1;
        }
        break;
    case REASONING_M_MESSAGE:
        if (r->state == RS_H_HEADER) {
            r->part = header_part(r);
            r->had_message = 1;
            header_reset(r);
            r->state = RS_H_MESSAGE;
            used = 1;
        }
        break;
    case REASONING_M_END:
    case REASONING_M_RETURN:
    case REASONING_M_CALL:
        if (r->state == RS_H_MESSAGE) {
            header_reset(r);
            r->state = RS_H_HEADER;
            used = 1;
        } else if (r->state == RS_H_HEADER) {
            used = 1;
        }
        break;
    }
    if (!used && from_text)
        feed_text(r, m->text, strlen(m->text)); /* it was just text here */
}

/* The earliest as_text marker in s[0..n): its offset (n if none) and *which. */
static size_t find_marker(const struct reasoning *r, const char *s, size_t n, int *which) {
    size_t best = n;
    for (int k = 0; k < r->mk.n; k++) {
        const struct reasoning_marker *m = &r->mk.m[k];
        if (!m->as_text)
            continue;
        size_t ml = strlen(m->text);
        for (size_t i = 0; i + ml <= n && i < best; i++)
            if (s[i] == m->text[0] && !memcmp(s + i, m->text, ml)) {
                best = i;
                *which = k;
                break;
            }
    }
    return best;
}

/* How many bytes at the end of s[0..n) could begin an as_text marker. */
static size_t marker_prefix(const struct reasoning *r, const char *s, size_t n) {
    size_t hold = 0;
    for (int k = 0; k < r->mk.n; k++) {
        const struct reasoning_marker *m = &r->mk.m[k];
        if (!m->as_text)
            continue;
        size_t ml = strlen(m->text);
        for (size_t len = ml - 1 < n ? ml - 1 : n; len > hold; len--)
            if (!memcmp(s + n - len, m->text, len)) {
                hold = len;
                break;
            }
    }
    return hold;
}

/* Scans s[0..n) for markers; unless final, keeps a tail that may begin one in r->hold. */
static void scan(struct reasoning *r, const char *s, size_t n, int final) {
    size_t i = 0;
    while (i < n) {
        int k = -1;
        size_t at = i + find_marker(r, s + i, n - i, &k);
        if (k >= 0) {
            feed_text(r, s + i, at - i);
            feed_marker(r, &r->mk.m[k], 1);
            i = at + strlen(r->mk.m[k].text);
            continue;
        }
        size_t h = final ? 0 : marker_prefix(r, s + i, n - i);
        feed_text(r, s + i, n - i - h);
        memcpy(r->hold, s + n - h, h);
        r->n_hold = h;
        return;
    }
    r->n_hold = 0;
}

void reasoning_init(struct reasoning *r, const struct reasoning_markers *mk, int inside,
                    void (*emit)(void *ud, int part, const char *s, size_t n), void *ud) {
    memset(r, 0, sizeof *r);
    r->mk = *mk;
    r->emit = emit;
    r->ud = ud;
    header_reset(r);
    if (mk->harmony) {
        r->state = inside ? RS_H_MESSAGE : RS_H_HEADER;
        r->part = inside ? REASONING_THOUGHT : REASONING_ANSWER;
        r->had_message = inside;
    } else {
        r->state = inside && marker_of(mk, REASONING_M_CLOSE) ? RS_THINK_START : RS_START;
    }
}

void reasoning_text(struct reasoning *r, const char *s, size_t n) {
    char buf[REASONING_MARKER_LEN + 512];
    while (n > 0) {
        size_t take = n < 512 ? n : 512;
        while (take < n && take > 1 && ((unsigned char)s[take] & 0xc0) == 0x80)
            take--; /* keep UTF-8 sequences whole in each chunk passed on */
        size_t h = r->n_hold;
        memcpy(buf, r->hold, h);
        memcpy(buf + h, s, take);
        scan(r, buf, h + take, 0);
        s += take;
        n -= take;
    }
}

void reasoning_special(struct reasoning *r, const char *s, size_t n) {
    char buf[REASONING_MARKER_LEN];
    size_t h = r->n_hold; /* a control token breaks the text: what was held is text */
    memcpy(buf, r->hold, h);
    r->n_hold = 0;
    scan(r, buf, h, 1);
    for (int k = 0; k < r->mk.n; k++)
        if (strlen(r->mk.m[k].text) == n && !memcmp(r->mk.m[k].text, s, n)) {
            feed_marker(r, &r->mk.m[k], 0);
            return;
        }
    /* any other control token: never shown */
}

void reasoning_finish(struct reasoning *r) {
    char buf[REASONING_MARKER_LEN];
    size_t h = r->n_hold;
    memcpy(buf, r->hold, h);
    r->n_hold = 0;
    scan(r, buf, h, 1);
    if (r->state == RS_START) {
        out(r, REASONING_ANSWER, r->ws, r->n_ws); /* a reply of whitespace only */
        r->n_ws = 0;
    } else if (r->state == RS_H_HEADER && !r->had_message) {
        out(r, REASONING_ANSWER, r->hdr, r->n_hdr); /* never spoke harmony */
        header_reset(r);
    }
}

int reasoning_thinking(const struct reasoning *r) {
    return r->state == RS_THINK_START || r->state == RS_THINK ||
           (r->state == RS_H_MESSAGE && r->part == REASONING_THOUGHT);
}
