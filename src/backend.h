/* src/backend.h — what writes a reply: a small table of functions behind which sit the
 * in-process engine (backend_engine_new, below) and a remote OpenAI-compatible server (the
 * remote helper's src/remote.h, wrapped the same way). Every backend streams a reply as
 * engine.h's frames on a pipe fd: ENG_EV_TOKEN (reply text, whole UTF-8 characters),
 * ENG_EV_SPECIAL, ENG_EV_PROGRESS, ENG_EV_STATS (struct eng_stats: fields a backend does not
 * know are -1, rates 0), BACKEND_EV_REASONING (reasoning text the backend separated itself),
 * then ENG_EV_DONE (int32 enum eng_done_reason) or ENG_EV_ERROR (int32 code + one line). A
 * frame is at most ENG_FRAME_MAX bytes.
 *
 * Threads: a backend is driven by one thread (the one that owns it); one reply at a time.
 * backend_cancel and backend_stop may be called from any thread (async-safe).
 * Errors: -1 (or a negative code) with one line in err; the frames' ERROR carries the code. */
#ifndef NATTER_BACKEND_H
#define NATTER_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "chat_prompt.h"
#include "engine.h"
#include "reasoning.h"

/* Reasoning text that the backend already separated from the reply (a remote's
 * delta.reasoning_content); payload UTF-8. */
#define BACKEND_EV_REASONING 16

/* One reply to make: the conversation, or raw text. Borrowed for the call only. */
struct backend_request {
    const struct chat_msg *msgs;  /* the messages, rendered by the backend (the engine: its
                                   * chat template; a server: its own) */
    int n_msgs;
    const char *prompt;           /* non-NULL: this text as is instead of msgs (--raw) */
    size_t prompt_len;
    const struct app_settings *set; /* sampling, length, thinking, speculative options */
    const char *const *stop;      /* stop strings besides the template's (a serve request's
                                   * "stop"), may be NULL */
    int n_stop;
    const int32_t *toks;          /* non-NULL: the prompt's tokens, made already (natter serve
                                   * counts them to refuse or place a request) as chat_prompt_tokens
                                   * or chat_tokenize would make them from msgs or prompt; the
                                   * engine backend takes them instead of rendering again */
    int n_toks;
    int inside;                   /* with toks: the prompt opened the reply's reasoning */
};

/* What backend_start learned while making the prompt. */
struct backend_started {
    int inside;      /* the prompt opened the reply's reasoning (reasoning_prompt_inside) */
    int n_restored;  /* prompt tokens restored from a snapshot on disk (kvcache) */
    double restore_ms; /* how long that took */
};

struct backend;
struct backend_ops {
    const char *kind; /* "engine", "remote" */
    /* The prompt tokens of rq; -1 with err; -2: this backend cannot count (no fitting). */
    int (*count)(struct backend *b, const struct backend_request *rq, char *err, size_t err_len);
    /* The context's size in tokens, 0: unknown. */
    int (*n_ctx)(const struct backend *b);
    /* The reasoning markers replies are split with, NULL: replies come split. */
    const struct reasoning_markers *(*markers)(const struct backend *b);
    int (*start)(struct backend *b, const struct backend_request *rq, int fd, uint32_t gen_id,
                 struct backend_started *st, char *err, size_t err_len);
    /* Continues the reply just stopped (backend_stop, DONE CANCELLED, joined) with text as
     * if the model had written it (its frames are sent first), then generates at most
     * n_predict more tokens (<= 0: no limit). NULL: the backend cannot. */
    int (*resume)(struct backend *b, const char *text, size_t len, const struct app_settings *set,
                  int n_predict, int fd, uint32_t gen_id, char *err, size_t err_len);
    /* Type-ahead: processes into the context, generating nothing, the prompt tokens that a and
     * a2 (the conversation with two endings of a draft) share, less the last, when that is
     * more than the context holds and fits with room tokens to spare; its frames are tagged
     * gen_id 0 (a reply's never are). *n0: the context's tokens before it. 1 started, 0
     * nothing to do, -1 with err. A start stops it first (what it did stays). NULL: cannot. */
    int (*prefill)(struct backend *b, const struct backend_request *a,
                   const struct backend_request *a2, int room, int fd, int *n0, char *err,
                   size_t err_len);
    void (*prefill_stop)(struct backend *b); /* cancels and joins it (none running: no-op) */
    void (*cancel)(struct backend *b);  /* ends the reply soon: DONE CANCELLED */
    void (*stop)(struct backend *b);    /* ends it at a token boundary (resume may follow) */
    int (*join)(struct backend *b);     /* after DONE/ERROR (or a cancel): 0 or its code */
    /* The models it can run: *names (backend_models_free). NULL op: only the loaded one. */
    int (*models)(struct backend *b, char ***names, int *n, char *err, size_t err_len);
    void (*free)(struct backend *b);
};
struct backend {
    const struct backend_ops *ops;
    int running;  /* a reply was started and not joined yet */
};

/* The ops through their checks: -1 with err when the op is missing or a reply is (not)
 * running as the op needs. */
int backend_count(struct backend *b, const struct backend_request *rq, char *err,
                  size_t err_len);
int backend_n_ctx(const struct backend *b);
const struct reasoning_markers *backend_markers(const struct backend *b);
int backend_start(struct backend *b, const struct backend_request *rq, int fd, uint32_t gen_id,
                  struct backend_started *st, char *err, size_t err_len);
int backend_resume(struct backend *b, const char *text, size_t len,
                   const struct app_settings *set, int n_predict, int fd, uint32_t gen_id,
                   char *err, size_t err_len);
int backend_prefill(struct backend *b, const struct backend_request *a,
                    const struct backend_request *a2, int room, int fd, int *n0, char *err,
                    size_t err_len);
void backend_prefill_stop(struct backend *b);
void backend_cancel(struct backend *b);
void backend_stop(struct backend *b);
int backend_join(struct backend *b);   /* no reply running: 0 */
int backend_models(struct backend *b, char ***names, int *n, char *err, size_t err_len);
void backend_models_free(char **names, int n);
void backend_free(struct backend *b);  /* cancels and joins a running reply; NULL: no-op */

/* ---- the in-process engine ---- */
struct kvcache;
struct backend_engine_params {
    eng_model *model;       /* borrowed; outlives the backend */
    eng_ctx *ctx;           /* borrowed: the backend alone uses it while a reply runs */
    eng_ctx *draft_ctx;     /* borrowed, NULL: no draft model */
    chat_prompt *cp;        /* borrowed, NULL: raw prompts only (backend_engine_set_prompt) */
    struct kvcache *kc;     /* borrowed, NULL: no snapshots on disk */
    const struct reasoning_markers *mk; /* NULL: the model template's (reasoning_markers_detect) */
};
/* A backend on a loaded model and context: renders with cp (chat_prompt_tokens), reuses the
 * context's prefix, restores the longest snapshot of kc first, stops on the built-in format's
 * stop strings, speculative decoding with draft_ctx or the settings' lookup. *out is new. */
int backend_engine_new(const struct backend_engine_params *p, struct backend **out, char *err,
                       size_t err_len);
/* The prompt maker changed (/template, a model loaded): borrowed from now on. */
void backend_engine_set_prompt(struct backend *b, chat_prompt *cp);

/* ---- a remote OpenAI-compatible server (src/remote.h) ---- */
struct remote_endpoint;
/* A backend on ep (its strings copied; the API key stays in memory only). Replies stream from
 * the server's own template; no counting (no fitting), no continuing (F7). */
int backend_remote_new(const struct remote_endpoint *ep, struct backend **out, char *err,
                       size_t err_len);
/* The model to ask for from now on (NULL: the server's default); 0 or -1 (out of memory, or
 * not a remote backend). */
int backend_remote_set_model(struct backend *b, const char *model);
/* The model asked for (NULL: the server's default, or not a remote backend). Borrowed. */
const char *backend_remote_model(const struct backend *b);
/* How the store records its replies' author: "MODEL@URL" ("default@URL" without a model). */
void backend_remote_record(const struct backend *b, char *buf, size_t len);

#endif
