/* src/app.h — the chat's state apart from drawing: the open conversation in memory (messages,
 * stats of each reply), the session settings, slash-command parsing and the choice of which
 * turns fit in the context (app_conv_fit, which session.c calls before every turn). The
 * full-screen UI (ui/) draws from this and its key handlers change it.
 * Threads: UI thread only (session.c's helpers run there too); no globals.
 * Ownership: struct app_conv owns its messages and their text (app_conv_clear frees them);
 * const char * results are static strings or point into the caller's line (app_cmd.arg).
 * Errors: 0 / a count / an index on success, -1 on failure (out of memory for the appenders;
 * a one-line message in err where the function takes one); no errno. */
#ifndef NATTER_APP_H
#define NATTER_APP_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

enum app_role { APP_ROLE_SYSTEM = 0, APP_ROLE_USER = 1, APP_ROLE_ASSISTANT = 2,
                APP_ROLE_NOTICE = 3 /* shown in the transcript, never sent to the model */ };

struct app_msg {
    int role;           /* enum app_role */
    char *text;         /* NUL-terminated, owned */
    size_t len, cap;
    int has_stats;      /* a finished reply: stats below are set */
    int n_tokens;       /* generated tokens */
    int n_prompt;       /* prompt tokens processed for it; -1: unknown (loaded from the store) */
    int n_reused;       /* prompt tokens reused from the KV cache */
    float prompt_tps, gen_tps, ttft_ms;
    int n_drafted, n_accepted; /* speculative decoding: drafted tokens and those kept */
    int stopped;        /* the user stopped it (Esc) */
    char finish[16];    /* "eog", "length", "stopped", "error", "" while streaming */
    char who[64];       /* replies: the model that wrote it, "" if unknown */
    /* replies: the reasoning, apart from text (src/reasoning.h) */
    char *think;        /* NUL-terminated, owned; NULL: none */
    size_t think_len, think_cap;
    int think_tokens;   /* its tokens, -1 until counted */
    double think_ms;    /* how long the model thought, < 0 unknown (loaded from the store) */
    /* its place in the conversation's tree (src/store.h) */
    int64_t id;         /* store message id, 0: not saved */
    int64_t parent;     /* store id of its parent, 0: a root (or not saved) */
    int sib, n_sibs;    /* its place among its siblings (1-based) and their count */
    int pinned;         /* never left out when the conversation outgrows the context */
    int left_out;       /* the next turn leaves it out (the context ledger's mark) */
};

struct app_conv {
    char id[40];        /* store id, "" for a new unsaved chat */
    char title[128];
    struct app_msg *msgs;
    int n_msgs, cap_msgs;
};

/* Appends a message (text copied); returns it or NULL if out of memory. */
struct app_msg *app_conv_add(struct app_conv *c, int role, const char *text, size_t len);
/* Appends len bytes to m's text. 0 or -1 if out of memory. */
int app_msg_append(struct app_msg *m, const char *text, size_t len);
/* Replaces m's text. 0 or -1. */
int app_msg_set(struct app_msg *m, const char *text, size_t len);
/* Appends len bytes to m's reasoning (created on the first call, even when len is 0). 0 or -1. */
int app_msg_append_think(struct app_msg *m, const char *text, size_t len);
/* A role's name as chat templates and the store spell it ("system", "user", "assistant";
 * notices: "notice"), and back (-1: unknown). */
const char *app_role_name(int role);
int app_role_parse(const char *name);
/* A finished reply's reason (enum eng_done_reason) as the transcript keeps it: "eog", "stop",
 * "stopped", "length"; app_finish_store: as the store records it ("stop" for both ends). */
const char *app_finish_name(int32_t reason);
const char *app_finish_store(const char *finish);
/* The short name of a model for the transcript and the status bar: a path's base name
 * without ".gguf" (a name without a slash as it is; a remote's "MODEL@URL": MODEL), into buf;
 * returns buf. */
char *app_model_short_name(const char *path, char *buf, size_t len);
/* Removes messages from index i on. */
void app_conv_truncate(struct app_conv *c, int i);
/* Frees all messages; the conversation is empty and unsaved after. */
void app_conv_clear(struct app_conv *c);
/* Index of the last message with that role, -1 if none. */
int app_conv_last(const struct app_conv *c, int role);

/* Which messages the next turn gives the model when the conversation outgrows the context:
 * the system prompt and pinned messages always; the fewest oldest whole turns (a user message
 * and what follows it up to the next) without a pinned message are left out so that the
 * prompt plus room tokens fit in n_ctx (found by bisection: a few counts however long the
 * conversation); the last turn always stays. count(keep, ud) returns
 * the prompt's token count for the messages with keep[i] set (-1 on error). keep (c->n_msgs
 * bytes) is filled (notices: 0). Returns the number of user and assistant messages left out
 * with *n_tokens the prompt's count, -1 when count failed, -2 when the last turn alone does not
 * fit (*n_tokens says how many it needs). */
int app_conv_fit(const struct app_conv *c, int n_ctx, int room, unsigned char *keep,
                 int (*count)(const unsigned char *keep, void *ud), void *ud, int *n_tokens);
/* The room app_conv_fit keeps for a reply: its length limit n_predict (<= 0: none), at most a
 * quarter of the context. */
int app_reply_room(int n_predict, int n_ctx);

/* The session's settings: sampling, generation length, context, threads, thinking. */
struct app_settings {
    struct eng_sample_params sample;
    int n_predict; /* <= 0: until the context is full */
    int n_ctx;     /* 0: the model's own (capped) */
    int n_threads; /* 0: physical cores */
    int think;     /* 1: the model may reason first (the template's enable_thinking); 0: asked
                    * not to (reasoning_prompt_no_think with the built-in templates) */
    int lookup;    /* speculative decoding from the context's n-grams: up to this many drafted
                    * tokens a step (0: off) */
    int draft_max; /* a draft model's tokens a step */
    float draft_p_min; /* it stops drafting below this probability */
    int kv_type;   /* the KV cache's type: enum eng_kv_type */
    int markdown;  /* 1: the chat renders replies' Markdown; 0: shows them as plain text */
};
/* Defaults: the engine's sampling defaults (sample, may be NULL: zeroes), 512 tokens a reply,
 * the model's context, all physical cores, thinking on, Markdown rendered. */
void app_settings_default(struct app_settings *s, const struct eng_sample_params *sample);
/* Sets one named setting from text ("temp" "0.7"). Names: temp, top-k, top-p, min-p,
 * repeat-penalty, repeat-last-n, frequency-penalty, presence-penalty, seed, n-predict, ctx,
 * threads, think, markdown (on/off, 1/0, true/false, yes/no), lookup, draft-max, draft-p-min,
 * kv (f16, f32, q8_0, q4_0). 0 on success; -1 with a one-line message in err (unknown name, not
 * a number, out of range). */
int app_settings_set(struct app_settings *s, const char *name, const char *value, char *err,
                     size_t err_len);
/* Writes "name value" of setting i (0..) into buf; returns 0, or -1 past the last one. */
int app_settings_describe(const struct app_settings *s, int i, char *buf, size_t len);

/* A conversation's sampling settings as the store keeps them: a flat JSON object of temp,
 * top_k, top_p, min_p, repeat_penalty, repeat_last_n, frequency_penalty, presence_penalty, seed,
 * n_predict, ctx and think (numbers; a float as its shortest text that reads back the same).
 * A new NUL-terminated string (caller frees), NULL when out of memory. */
char *app_settings_json(const struct app_settings *s);
/* Restores the sampling settings and reply length from such an object (len bytes of untrusted
 * text: an imported or older conversation's): each known member that is a number in its
 * setting's range is applied; others, and ctx and think (the model's context and the user's
 * thinking switch stay the session's), are left alone. changed (cap bytes) gets the settings it
 * changed, "temp 0.2, top-k 20" ("" when none). Returns how many it changed, or -1 (nothing
 * changed) when the text is not a JSON object. */
int app_settings_from_json(struct app_settings *s, const char *json, size_t len, char *changed,
                           size_t cap);

/* Slash commands: "/new", "/model [NAME]", "/system [NAME|TEXT]", "/template [NAME]",
 * "/set NAME VALUE", "/regen", "/think [on|off]",
 * "/rename TITLE", "/delete", "/export [FILE]", "/search [QUERY]", "/copy [N]", "/help",
 * "/quit". */
enum app_cmd_id { APP_CMD_NONE = 0, APP_CMD_NEW, APP_CMD_MODEL, APP_CMD_SYSTEM, APP_CMD_SET,
                  APP_CMD_REGEN, APP_CMD_RENAME, APP_CMD_DELETE, APP_CMD_EXPORT,
                  APP_CMD_SEARCH, APP_CMD_HELP, APP_CMD_QUIT, APP_CMD_TEMPLATE,
                  APP_CMD_THINK, APP_CMD_COPY, APP_CMD_UNKNOWN };
struct app_cmd {
    int id;            /* enum app_cmd_id; APP_CMD_NONE: the line is a message, not a command */
    const char *arg;   /* points into the line: the text after the command word, trimmed */
    size_t arg_len;
};
/* 1 when a /system or -s argument asks for no system prompt: "", "none", "off", or a pair of
 * empty quotes ("" or ''). */
int app_system_is_none(const char *arg);
/* Parses a line. "//text" is the message "/text" (arg is then the text without one slash).
 * "/exit" and "/q" are "/quit". */
void app_cmd_parse(const char *line, struct app_cmd *out);
/* The command names (without '/') starting with word[0..len), in the table's order, into
 * names (at most cap); returns how many there are. One-letter aliases are left out. */
int app_cmd_complete(const char *word, size_t len, const char **names, int cap);

#endif
