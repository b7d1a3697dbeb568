/* src/chat_prompt.h — a conversation rendered for a model and turned into the tokens the model
 * reads: by default with the model's own Jinja chat template (tokenizer.chat_template, rendered
 * by src/jinja.h as transformers does, with bos_token / eos_token from its vocabulary and
 * add_generation_prompt), else with a built-in prompts/ format (the model has no template, its
 * template does not parse, or the user asked for one by name). Only the template's own text may
 * become control tokens: the messages' bytes are tokenized as plain text
 * (eng_tokenize_masked), so a message spelling "<|im_end|>" cannot inject one.
 *
 * The one place a prompt is made: the chat (ui/), `natter run --save` and `natter template
 * tokens` all call it. Main thread (the prompts/ registry is not thread-safe).
 * Errors: -1 with one line in err (the template's own words for a template error, e.g. Gemma's
 * "System role not supported"). */
#ifndef NATTER_CHAT_PROMPT_H
#define NATTER_CHAT_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "prompts.h"

typedef struct chat_prompt chat_prompt;

/* One message (borrowed). role: "system", "user", "assistant" or "tool"; content len bytes
 * (NUL bytes allowed); reasoning: an assistant reply's reasoning (NULL or empty: none), given to
 * a Jinja template as `reasoning_content` so the template decides what the next turn sees. */
struct chat_msg {
    const char *role;
    const char *content;
    size_t content_len;
    const char *reasoning;
    size_t reasoning_len;
};

struct chat_prompt_opts {
    int add_generation;   /* open the assistant's turn (add_generation_prompt) */
    int think;            /* -1: the template's default; 0/1: enable_thinking false/true (and
                           * the family's own switch: thinking, reasoning_effort) */
};

/* The prompt maker for model m (borrowed; outlives it). tmpl_name NULL or "": the model's own
 * Jinja template, else the built-in format detected from it; a name: that built-in format
 * (prompts_template_find). On success *out is new; chat_prompt_notice() says when the model's
 * template could not be used. -1 (err) when the named format does not exist or no built-in
 * format is installed. */
int chat_prompt_new(const eng_model *m, const char *tmpl_name, chat_prompt **out, char *err,
                    size_t err_len);
void chat_prompt_free(chat_prompt *p);

/* 1 when the model's own Jinja template is used, 0: a built-in format. */
int chat_prompt_is_jinja(const chat_prompt *p);
/* The family for the status bar: the built-in format's name, or for a Jinja template the one it
 * was detected as (prompts_detect), e.g. "chatml", "jinja" when it has no known markers.
 * Borrowed. */
const char *chat_prompt_family(const chat_prompt *p);
/* The built-in format in use (its stop strings are the reply's), NULL with a Jinja template. */
const struct prompts_template *chat_prompt_builtin(const chat_prompt *p);
/* "" or why the model's own template is not used (one line). Borrowed. */
const char *chat_prompt_notice(const chat_prompt *p);
/* 1 when the template reads a thinking switch (enable_thinking and the like). */
int chat_prompt_has_think_switch(const chat_prompt *p);

/* Renders msgs[0..n): *text (NUL-terminated, caller frees), *len, and *mask (caller frees; one
 * byte per text byte, 1 where it is a message's own text, 0 where it is the template's). */
int chat_prompt_render(chat_prompt *p, const struct chat_msg *msgs, int n,
                       const struct chat_prompt_opts *o, char **text, size_t *len,
                       unsigned char **mask, char *err, size_t err_len);

/* The tokens of a rendered prompt, with one BOS: the template's own when its text is the
 * vocabulary's BOS, else the tokenizer's (a built-in format's "bos" line that spells another
 * token is replaced by the vocabulary's BOS); never two. Caller frees *toks. Returns the
 * count, or -1 with err. */
int chat_prompt_tokenize(const chat_prompt *p, const char *text, size_t len,
                         const unsigned char *mask, int32_t **toks, char *err, size_t err_len);

/* The one way a conversation becomes a model's prompt (the chat, `natter run`, `natter
 * template tokens`, `natter serve`): renders msgs[0..n) with o; with o->think == 0 and a
 * template without its own switch, asks the model not to think (reasoning_prompt_no_think with
 * mk; mk NULL: nothing added); tokenizes with chat_prompt_tokenize. *toks (caller frees); the
 * text into *text and *len when text is not NULL (caller frees); *inside (may be NULL): the prompt
 * leaves the reply inside its reasoning. Returns the count, or -1 with err. */
struct reasoning_markers;
int chat_prompt_tokens(chat_prompt *p, const struct chat_msg *msgs, int n,
                       const struct chat_prompt_opts *o, const struct reasoning_markers *mk,
                       int32_t **toks, char **text, size_t *len, int *inside, char *err,
                       size_t err_len);

/* Text as it is (no template): eng_tokenize with add_special / parse_special, or with mask
 * eng_tokenize_masked. *toks (caller frees). Returns the count, or -1 with err. */
int chat_tokenize(const eng_model *m, const char *text, size_t len, int add_special,
                  int parse_special, const unsigned char *mask, int32_t **toks, char *err,
                  size_t err_len);

/* When $NATTER_PROMPT_LOG names a file, appends the n ids of a prompt about to be fed to the
 * model as one line ("ID ID ...\n"): for tests and for looking at what a template made. Errors
 * are ignored (it is a debugging aid). */
void chat_prompt_log(const int32_t *toks, int n);

#endif
