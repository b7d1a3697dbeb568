/* src/session.h — a chat turn, written once for the chat (ui/), `natter run` and `natter
 * serve`: the conversation (struct app_conv), a backend (src/backend.h) and, optionally, a
 * store. session_start fits the conversation in the context (app_conv_fit with the backend's
 * count), saves the new user message, starts the reply; session_frame takes the backend's
 * frames, splits the reasoning from the answer (src/reasoning.h), appends both to the reply in
 * memory and in the store as they stream, and at DONE/ERROR ends the reply (stats, finish
 * reason, store_reply_finish, join).
 *
 * Thread: the one that owns the backend and the store (the chat's UI thread, run's main
 * thread, a serve worker). Errors: -1 with one line in err. Saving never stops a reply: a
 * failed write is reported through save_failed (what, store_errmsg) and counted, the text
 * stays in memory (the chat's NOT SAVED; run exits 1). */
#ifndef NATTER_SESSION_H
#define NATTER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "backend.h"
#include "store.h"

struct session;

struct session_params {
    struct backend *backend;        /* borrowed */
    store *db;                      /* borrowed, NULL: nothing is saved */
    struct app_conv *conv;          /* borrowed: replies are appended to it */
    const struct app_settings *set; /* borrowed: read at each start */
    int fd;                         /* the event pipe's write end (borrowed) */
    const char *model;              /* recorded with replies (a path, an endpoint's model) */
    const char *who;                /* the replies' author shown (app_msg.who), may be NULL */
    /* the reply's parts as they arrive (REASONING_ANSWER / REASONING_THOUGHT), may be NULL */
    void (*emit)(void *ud, int part, const char *s, size_t n);
    /* a write to the store failed: what ("reply", "message", "new conversation"), and why */
    void (*save_failed)(void *ud, const char *what, const char *msg);
    void *ud;
};
/* *out is new (copies of model and who). -1 when out of memory. */
int session_new(const struct session_params *p, struct session **out);
/* Ends a running reply first (cancelled; the frames still in the pipe are dropped by gen id). */
void session_free(struct session *s);
/* Another backend (a model loaded, --remote): the next start uses it. Strings copied. */
void session_set_backend(struct session *s, struct backend *b, const char *model,
                         const char *who);

/* The conversation's messages with keep[i] set (NULL: all; notices never) as chat messages
 * borrowing conv's text, into *out (caller frees); the count, -1 out of memory. */
int session_msgs(const struct app_conv *conv, const unsigned char *keep, struct chat_msg **out);

/* Which messages the next turn gives the model (app_conv_fit over the backend's count) for
 * conv (NULL: the session's); keep: conv->n_msgs bytes. Returns the messages left out, -1 with
 * err, -2 when the last turn alone does not fit (*n_tokens says how many it needs); a backend
 * that cannot count keeps everything (0, *n_tokens -1). */
int session_fit(struct session *s, const struct app_conv *conv, unsigned char *keep,
                int *n_tokens, char *err, size_t err_len);

/* Reads conversation id (a unique prefix will do) from db into conv (cleared first): its id
 * and title, its system prompt as the first message, then the active path with each reply's
 * reasoning, stats, finish reason, author (app_model_short_name) and place in the tree. model
 * (may be NULL): the conversation's model path, "" when it has none. 0, or -1 with err. */
int session_conv_load(store *db, const char *id, struct app_conv *conv, char *model,
                      size_t model_len, char *err, size_t err_len);

/* How a turn starts. */
struct session_turn {
    int save_user;   /* the last message is a new user message: saved before the reply */
    const struct store_conv_params *create; /* conv->id "": the conversation is created with
                                             * these (NULL: the reply is not saved) */
    const char *raw; /* non-NULL: this text as is, no template, no history (run --raw) */
    size_t raw_len;
    /* after the fit, before the reply is added (a note placed above it), may be NULL */
    void (*fitted)(void *ud, int dropped);
    void *ud;
};
struct session_started {
    int dropped;     /* oldest messages left out of the context */
    int n_tokens;    /* the prompt's tokens when counted, else -1 */
    struct backend_started b;
};
/* Starts a reply to conv as it is (its last message the user's): fits it (messages left out
 * get left_out set), saves the user message (a message refused for not fitting is not), adds
 * the reply (an assistant message) and starts the backend. 0, or -1 with err (nothing added). */
int session_start(struct session *s, const struct session_turn *turn, struct session_started *st,
                  char *err, size_t err_len);

/* What a frame did. */
enum session_event { SESSION_EV_NONE = 0, SESSION_EV_TEXT, SESSION_EV_STATS,
                     SESSION_EV_PROGRESS, SESSION_EV_DONE, SESSION_EV_ERROR };
/* One frame read from the pipe; frames of an earlier reply are ignored (NONE). On DONE or
 * ERROR the reply has ended: session_end says how. F7's stop continues the reply instead
 * (TEXT). */
int session_frame(struct session *s, const struct eng_frame *h, const void *payload);

/* The reply in progress (or the last one). */
struct session_live {
    int running;             /* a reply is streaming */
    int msg;                 /* its index in conv, -1 */
    uint32_t gen_id;
    struct eng_stats stats;  /* the last STATS (have_stats) */
    int have_stats;
    int prompt_pm;           /* prompt processing progress, 0..1000 */
    int thinking;            /* its reasoning is streaming */
    int n_before;            /* tokens of its earlier parts (continued after F7) */
    int think_ending;        /* F7 asked for the answer to start */
    int prefilling;          /* a type-ahead prefill was started (until session_prefill_stop) */
    int prefill_n0;          /* the context's tokens before it */
};
const struct session_live *session_live(const struct session *s);

/* How the last reply ended. */
struct session_end {
    int32_t reason;          /* enum eng_done_reason; -1 after an error */
    int32_t code;            /* the ERROR's code, 0 */
    char error[256];         /* its text, "" */
    int save_failures;       /* store writes that failed during the reply */
};
const struct session_end *session_ended(const struct session *s);

/* Type-ahead: the conversation with draft[0..len) as its next user message (fitted as a turn
 * would be) is processed into the context in the background, as far as the draft is sure to
 * give the same tokens (its rendering with one more word shares them); nothing is added to
 * conv. 1 started, 0 nothing to do (or the backend cannot), -1 with err. */
int session_prefill(struct session *s, const char *draft, size_t len, char *err, size_t err_len);
void session_prefill_stop(struct session *s); /* what it processed stays in the context */

/* Saves the reply's pending text (call when idle). 0, or -1 (reported through save_failed). */
int session_flush(struct session *s);
/* Esc: the reply ends soon (DONE CANCELLED: finish "stopped", its text kept). */
void session_cancel(struct session *s);
/* F7: while the reply reasons, stop it and continue it with the end-of-thinking text, so the
 * answer starts. 0, or -1 with err (not thinking, no reply, the family has no marker). */
int session_end_thinking(struct session *s, char *err, size_t err_len);
/* Cancels a running reply and reads rfd (the pipe's read end) until it ended. */
void session_stop_sync(struct session *s, int rfd);

/* The milliseconds since the reply started (its reasoning's length). */
double session_elapsed_ms(const struct session *s);

#endif
