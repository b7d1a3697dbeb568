/* src/reasoning.h — a reply's reasoning split from its answer as it streams: a small state
 * machine fed the reply's events in order (TOKEN text and the text of SPECIAL control tokens,
 * engine.h) that passes each byte on as reasoning or answer and never passes on any part of a
 * marker (a marker split across events is held back until it is known).
 *
 * Markers are data (struct reasoning_markers): a tag pair — <think>...</think> (Qwen3, QwQ,
 * DeepSeek R1, SmolLM3, GLM, MiniMax), [THINK]...[/THINK] (Magistral), <|begin_of_thought|>...,
 * <seed:think>..., <|START_THINKING|>... (Command R7B), <|channel>thought...<channel|> (Gemma
 * 4), or any pair a template family gives — or gpt-oss's harmony channels (<|channel|>NAME
 * <|message|>...<|end|>: analysis is reasoning, final the answer; commentary is the answer when
 * it is addressed to the user and reasoning when it is a tool call, "to=..."). A marker that is
 * a control token of the model's vocabulary matches only its SPECIAL event, never text that
 * spells it; one the vocabulary lacks (or has as ordinary text) matches in the text.
 *
 * Rules: an opening tag counts only at the start of the reply (after whitespace); the reply
 * starts inside reasoning when the prompt already opened it (reasoning_prompt_inside); the
 * whitespace right after a marker is dropped; a marker that means nothing where it appears is
 * plain text when it came as text and dropped when it came as a control token; a reply that
 * never closes its reasoning is all reasoning.
 *
 * Pure: no I/O; one struct per reply, used by one thread (the UI/main thread). */
#ifndef NATTER_REASONING_H
#define NATTER_REASONING_H

#include <stddef.h>

#include "engine.h"

enum reasoning_part { REASONING_ANSWER = 0, REASONING_THOUGHT = 1 };

/* What a marker means. */
enum reasoning_kind {
    REASONING_M_OPEN, REASONING_M_CLOSE,                 /* a tag pair */
    REASONING_M_START, REASONING_M_CHANNEL, REASONING_M_CONSTRAIN, REASONING_M_MESSAGE,
    REASONING_M_END, REASONING_M_RETURN, REASONING_M_CALL /* harmony */
};

#define REASONING_MARKER_LEN 32 /* a marker's text is shorter than this */
#define REASONING_MARKERS_MAX 8

struct reasoning_marker {
    char text[REASONING_MARKER_LEN];
    int kind;     /* enum reasoning_kind */
    int as_text;  /* 1: also matches the model's plain text (not a control token of the vocab) */
};

struct reasoning_markers {
    char family[16]; /* "think", "harmony", "mistral", "thought", "seed", "kimi", "cohere",
                      * "gemma4", "none", "custom" (a pair given as data) */
    int harmony;     /* 1: gpt-oss channels; 0: a tag pair (or none) */
    struct reasoning_marker m[REASONING_MARKERS_MAX];
    int n;
};

/* A known family by name (the names above but "custom"). Every marker as_text until
 * reasoning_markers_vocab says otherwise. 0, or -1 for an unknown name (mk is then "none"). */
int reasoning_markers_family(struct reasoning_markers *mk, const char *name);
/* A tag pair given as data (family "custom"): open may be NULL or "" (the prompt always opens
 * the reasoning); close must not be empty. 0, or -1 (too long: REASONING_MARKER_LEN - 1 bytes
 * at most, or no close). */
int reasoning_markers_pair(struct reasoning_markers *mk, const char *open, const char *close);
/* "FAMILY" or "OPEN CLOSE" (two words): for command-line options. 0 or -1. */
int reasoning_markers_parse(struct reasoning_markers *mk, const char *spec);
/* The family a model's Jinja chat template speaks, by the markers it holds (NULL: none);
 * "think" when it names none of the others: a reply that opens with <think> is reasoning on
 * any model. */
void reasoning_markers_detect(struct reasoning_markers *mk, const char *jinja);
/* Marks each marker that is a single control token of m's vocabulary as matching only that
 * token's SPECIAL event (as_text = 0). m may be NULL (nothing changes). */
void reasoning_markers_vocab(struct reasoning_markers *mk, const eng_model *m);
/* 1 when the Jinja chat template reads an enable_thinking switch (Qwen3, SmolLM3...). */
int reasoning_template_switch(const char *jinja);

/* 1 when the rendered prompt leaves the reply inside reasoning: it ends (but for whitespace)
 * with the opening tag, or, for harmony, with "<|channel|>analysis<|message|>". */
int reasoning_prompt_inside(const struct reasoning_markers *mk, const char *prompt, size_t len);
/* The text that ends the thinking so the answer starts (appended after the reasoning so far):
 * "CLOSE\n\n" for a tag pair, "<|end|><|start|>assistant<|channel|>final<|message|>" for
 * harmony. Writes it NUL-terminated into buf (len >= 2 * REASONING_MARKER_LEN + 64 always
 * fits); returns its length, 0 when the family has no reasoning. */
size_t reasoning_end_text(const struct reasoning_markers *mk, char *buf, size_t len);
/* Thinking off (enable_thinking = false) for a rendered prompt *text (*len bytes, malloc'd,
 * NUL-terminated; replaced): a prompt that opened the reasoning gets it closed at once, and,
 * when the model's template has the switch (has_switch), a <think> pair prompt gets the empty
 * thought "<think>\n\n</think>\n\n" appended, as Qwen3's template renders it. Other families
 * (harmony has reasoning levels, not a switch) are left as they are. Returns 1 when the prompt
 * changed, 0 when not, -1 out of memory (*text unchanged). */
int reasoning_prompt_no_think(const struct reasoning_markers *mk, int has_switch, char **text,
                              size_t *len);

/* ---- the splitter ---- */

struct reasoning {
    struct reasoning_markers mk;
    int state;
    int part;                       /* harmony: the part of the message being read */
    int had_message;                /* harmony: a <|message|> was seen */
    char hold[REASONING_MARKER_LEN];/* text that may be the start of a marker */
    size_t n_hold;
    char ws[64];                    /* whitespace at the reply's start, before a possible tag */
    size_t n_ws;
    char hdr[256];                  /* harmony: the header being read */
    size_t n_hdr, chan_at, chan_end;/* the channel name's start and end in hdr, or (size_t)-1 */
    size_t n_out[2];                /* bytes passed on, by enum reasoning_part */
    void (*emit)(void *ud, int part, const char *s, size_t n);
    void *ud;
};

/* Starts a reply. inside: the prompt opened the reasoning (reasoning_prompt_inside). emit
 * receives every byte that is shown, with its part (n > 0; a chunk may end inside a UTF-8
 * sequence only if the text given did). */
void reasoning_init(struct reasoning *r, const struct reasoning_markers *mk, int inside,
                    void (*emit)(void *ud, int part, const char *s, size_t n), void *ud);
/* The reply's text (a TOKEN frame's payload). */
void reasoning_text(struct reasoning *r, const char *s, size_t n);
/* A control token's text (a SPECIAL frame's payload after its id). */
void reasoning_special(struct reasoning *r, const char *s, size_t n);
/* The reply ended: whatever is held back is passed on. */
void reasoning_finish(struct reasoning *r);
/* 1 while the reply is in its reasoning (what the end-thinking key applies to). */
int reasoning_thinking(const struct reasoning *r);

#endif
