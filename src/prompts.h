/* src/prompts.h — chat templates (prompts/templates/NAME.tmpl) and system prompts
 * (prompts/system/NAME.md): loading them from the installed prompts/ directory and the user's
 * $XDG_CONFIG_HOME/natter/prompts (which adds to and overrides it), rendering a conversation
 * with a template, and choosing a template from a model's Jinja `tokenizer.chat_template`.
 * The file format is described in prompts/README.md.
 *
 * The loaded set is one process-wide registry, loaded on first use; main/UI thread only.
 * prompts_render*, prompts_template_parse and the readers touch no registry: any thread.
 *
 * Errors (src/'s convention, README "Errors"): a function returns 0, a length or a count
 * (>= 0) on success, and a negative PROMPTS_E_* code on failure with a one-line detail in
 * prompts_errmsg() (the calling thread's last failure; it does not name the file: the caller,
 * who knows it, does). Two that cannot fit that: prompts_load returns the number of bad files
 * (each one's line in prompts_error(i)); prompts_template_parse, a constructor, returns NULL
 * with its line in err (as store_open and gguf_open do). Lookups return NULL when absent.
 *
 * Typical use (chat UI, `natter run --save`):
 *     const struct prompts_template *t =
 *         prompts_template_for(eng_model_meta_str(m, "tokenizer.chat_template"));
 *     char *text;
 *     prompts_render(t, msgs, n_msgs, 1, &text);
 *     eng_tokenize(m, text, strlen(text), 1, 1, ...);  // parse_special = 1
 *     gp.stop = (const char *const *)t->stop; gp.n_stop = t->n_stop;
 */
#ifndef NATTER_PROMPTS_H
#define NATTER_PROMPTS_H

#include <stddef.h>
#include <stdio.h>

enum {
    PROMPTS_OK = 0,
    PROMPTS_E_INVALID = -1, /* no template, an unknown role, a message without content */
    PROMPTS_E_NOMEM = -2,
    PROMPTS_E_IO = -3,      /* open or read failed (the detail is strerror's) */
    PROMPTS_E_TOOBIG = -4,  /* longer than the reader's limit ("larger than 16 MiB") */
};

/* The calling thread's last failure as one line (never NULL; "" before any). */
const char *prompts_errmsg(void);

enum prompts_role {
    PROMPTS_SYSTEM = 0, PROMPTS_USER = 1, PROMPTS_ASSISTANT = 2, PROMPTS_TOOL = 3, PROMPTS_N_ROLES
};

/* How one role's messages are written: prefix + content + suffix. prefix_first (NULL: use
 * prefix) is used instead when the message opens the prompt (the first turn after `bos`). */
struct prompts_role_fmt {
    char *prefix, *prefix_first, *suffix;
    int trim;           /* strip leading/trailing whitespace from the content */
};

/* A loaded template. Read-only for callers; owned by the registry (valid until the next
 * prompts_load / prompts_free). */
struct prompts_template {
    char *name;         /* the file name without .tmpl */
    char *path;         /* where it was read from */
    char *description;  /* "" if the file has none */
    int from_user;      /* 1: from the user's config directory */
    char *bos;          /* text that opens every prompt */
    char *generation;   /* appended when add_assistant: the start of the assistant's turn */
    int system_merge;   /* 0: system messages are turns of their own; 1: the system block goes
                         * inside the next user turn, right after that turn's prefix */
    struct prompts_role_fmt role[PROMPTS_N_ROLES];
    int tool_own;       /* the file sets tool.*: tool messages use role[PROMPTS_TOOL]; else they
                         * are written as user messages */
    char **stop;        /* strings that end a reply (for eng_gen_params.stop) */
    int n_stop;
};

/* A system prompt file: the first line is the title, the rest the text. */
struct prompts_system {
    char *name;         /* the file name without .md */
    char *path;
    char *title;
    char *text;         /* without leading blank lines and trailing whitespace */
    int from_user;
};

/* One message of a conversation (borrowed strings). role: "system", "user", "assistant" or
 * "tool" (a tool's output, as the store keeps it). content_len bytes of content (NUL bytes
 * allowed); 0 means strlen(content), so {role, content} initializers stay right. */
struct prompts_msg {
    const char *role;
    const char *content;
    size_t content_len;
};

/* (Re)loads every template and system prompt: the installed prompts/ (paths_prompts_dir) then
 * $XDG_CONFIG_HOME/natter/prompts, whose files add to or replace installed ones of the same
 * name. A malformed file is skipped and reported ("FILE:LINE: message", see prompts_error);
 * the others load. Returns the number of problems found (0: all files were fine). */
int prompts_load(void);
/* Same from explicit directories (each holding templates/ and system/; either may be NULL). */
int prompts_load_dirs(const char *installed_dir, const char *user_dir);
/* Frees the registry (a later call loads it again). */
void prompts_free(void);

/* 1 when s[0..n) can name a template or system prompt file: letters, digits, '-', '_', '.',
 * not starting with '.'. */
int prompts_name_valid(const char *s, size_t n);

/* Problems found by the last load, one line each ("path:line: message"). */
int prompts_n_errors(void);
const char *prompts_error(int i);

/* Templates sorted by name. Each of these loads the registry first if it is not loaded. */
int prompts_template_count(void);
const struct prompts_template *prompts_template_at(int i);
const struct prompts_template *prompts_template_find(const char *name); /* NULL if unknown */

/* System prompts sorted by name. */
int prompts_system_count(void);
const struct prompts_system *prompts_system_at(int i);
const struct prompts_system *prompts_system_find(const char *name);     /* NULL if unknown */

/* Parses one template file's text (len bytes; name and path are copied into it). Returns a new
 * template for prompts_template_free, or NULL with "path:line: message" in err. The registry
 * calls this for each .tmpl file; the fuzz target calls it directly. */
struct prompts_template *prompts_template_parse(const char *name, const char *path,
                                                const char *text, size_t len, char *err,
                                                size_t err_len);
void prompts_template_free(struct prompts_template *t);

/* Markdown text with its paragraphs' line breaks made spaces, as a system prompt file's text is
 * loaded (hard-wrapped lines would reach the model): blank lines, list items, headings, quotes,
 * table rows, rules, fenced and indented code, and hard breaks (two spaces or '\' at the end)
 * keep their lines. A new NUL-terminated string (caller frees; never longer than len), NULL when
 * out of memory. */
char *prompts_text_unwrap(const char *text, size_t len);

/* The role for a role name, -1 if it is not one of system, user, assistant, tool. */
int prompts_role_parse(const char *role);

/* Renders msgs[0..n) with t into a NUL-terminated string *out (caller frees), adding the
 * assistant-turn prefix when add_assistant. Returns the length, or PROMPTS_E_INVALID (no
 * template, or a message has an unknown role or NULL content: prompts_errmsg names it) or
 * PROMPTS_E_NOMEM, *out then NULL. */
long prompts_render(const struct prompts_template *t, const struct prompts_msg *msgs, int n,
                    int add_assistant, char **out);
/* The same, and *mask (caller frees; NULL: not wanted) gets one byte per byte of *out: 1 where
 * it is a message's content (plain text: never control tokens, see eng_tokenize_masked), 0
 * where it is the template's own text. */
long prompts_render_masked(const struct prompts_template *t, const struct prompts_msg *msgs,
                           int n, int add_assistant, char **out, unsigned char **mask);

/* The template name for a model's Jinja chat template text, chosen by markers such as
 * "<|im_start|>" or "[INST]". NULL or empty text: "completion". Text that is just a template's
 * name: that name. Unrecognized text: "chatml" with *recognized = 0 (recognized may be NULL). */
const char *prompts_detect(const char *jinja, int *recognized);

/* The loaded template for a model's Jinja text: prompts_template_find(prompts_detect(jinja)),
 * or, when no template of that name is loaded, "completion", else the first template. NULL only
 * when no template is loaded at all. */
const struct prompts_template *prompts_template_for(const char *jinja);

/* Reads a whole stream into *out (NUL-terminated, caller frees; *len, if not NULL, gets its
 * length). 0, or PROMPTS_E_TOOBIG (longer than max bytes), PROMPTS_E_IO, PROMPTS_E_NOMEM with
 * *out NULL and the detail in prompts_errmsg(). */
int prompts_read_stream(FILE *f, size_t max, char **out, size_t *len);
/* The same for the file at path, opened and closed here (open's failure: PROMPTS_E_IO). */
int prompts_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
