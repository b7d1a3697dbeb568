/* src/run_save.h — `natter run --save [--conv ID]`: the exchange kept in the store. With a
 * conversation, its history (system prompt and messages) is rendered before the new prompt so
 * the model sees it as context; the reply is saved as it streams. Main thread. */
#ifndef NATTER_RUN_SAVE_H
#define NATTER_RUN_SAVE_H

#include <stddef.h>
#include <stdint.h>

#include "chat_prompt.h"
#include "store.h"

struct run_save;

/* Opens the database (db: the --db value or NULL) and, when conv is not NULL, resolves it (a
 * unique prefix will do). 0, or -1 with a one-line message in err. The other functions return
 * 0 or -1 with the message in run_save_error(). */
int run_save_open(const char *db, const char *conv, struct run_save **out, char *err,
                  size_t err_len);
const char *run_save_error(const struct run_save *rs);
/* The conversation's id ("" until run_save_begin creates a new one). */
const char *run_save_id(const struct run_save *rs);

/* The conversation's history (with each reply's reasoning) plus the new user prompt, rendered
 * by cp with o, into *text, *len and *mask (which bytes are the messages'; caller frees both). */
int run_save_render(struct run_save *rs, chat_prompt *cp, const struct chat_prompt_opts *o,
                    const char *prompt, size_t prompt_len, char **text, size_t *len,
                    unsigned char **mask);

/* How run_save_tokens makes the prompt: the template and its options, and when mk is not NULL
 * the text that asks a template without a thinking switch not to think
 * (reasoning_prompt_no_think with has_switch). */
struct reasoning_markers;
struct run_save_prompt {
    chat_prompt *cp;
    struct chat_prompt_opts o;
    const struct reasoning_markers *mk;
    int has_switch;
};
/* run_save_render's prompt as the model gets it: its text into *text and its tokens into
 * *toks (caller frees both). Returns the token count, or -1. */
int run_save_tokens(struct run_save *rs, const struct run_save_prompt *p, const char *prompt,
                    size_t prompt_len, char **text, size_t *text_len, int32_t **toks);
/* *text, *toks and n from run_save_tokens: when n plus room tokens do not fit in n_ctx, the
 * oldest turns are left out as the chat does (app_conv_fit: the system prompt, pinned
 * messages and the new prompt stay), said on stderr ("natter: 3 oldest messages left out of
 * the context"), and *text and *toks are made again (freed and replaced). Returns the token
 * count, or -1 (also when what must stay does not fit: nothing is saved then). */
int run_save_fit(struct run_save *rs, const struct run_save_prompt *p, const char *prompt,
                 size_t prompt_len, int n_ctx, int room, int n, char **text, size_t *text_len,
                 int32_t **toks);

/* Saves the user's prompt (creating the conversation, with model and template, when there was
 * no --conv) and starts the assistant's reply. */
int run_save_begin(struct run_save *rs, const char *model, const char *template_name,
                   const char *prompt, size_t prompt_len);
/* Generated text as it arrives (saved in batches); flush saves what is pending (when idle). */
int run_save_append(struct run_save *rs, const char *text, size_t len);
/* The reply's reasoning as it arrives, kept apart from its text. */
int run_save_append_reasoning(struct run_save *rs, const char *text, size_t len);
int run_save_flush(struct run_save *rs);
/* Ends the reply: reason "stop", "length", "stopped" or "error"; st may be NULL. */
int run_save_finish(struct run_save *rs, const char *reason, const struct store_reply_stats *st);

/* Flushes what is pending and closes. Accepts NULL. */
void run_save_close(struct run_save *rs);

#endif
