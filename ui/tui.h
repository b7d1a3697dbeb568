/* ui/tui.h — the full-screen chat's state shared by its parts: tui.c (start, the poll loop,
 * keys, commands), tui_draw.c (painting from state), tui_input.c (readline through its callback
 * interface), tui_chat.c (the model, generation, store and prompts glue).
 *
 * Threads: the UI (main) thread only, except the loader job's fields marked atomic.
 * Ownership: struct tui owns every pointer in it (freed by tui_chat_shutdown and
 * tui_wrap_free); const char * results are borrowed (valid until the next call that changes
 * what they point at); "caller frees" says otherwise.
 * Results, one convention each kind (errors reach the user as a notice, never only a code):
 * - key handlers and the loop's event callbacks (tui_chat_on_event, tui_chat_on_load) return
 *   TUI_* flags, OR-ed: TUI_OK, TUI_REDRAW, TUI_QUIT, TUI_PASS;
 * - actions (tui_chat_send, _open, _export...) return 0, or -1 after a notice saying what
 *   failed (tui_chat_notice; a failed save also sets store_failed: NOT SAVED);
 * - predicates (tui_chat_streaming, _thinking, _ledger_stale) return 1 or 0; counts and
 *   indexes are >= 0, -1 meaning "none" as each says. */
#ifndef NATTER_UI_TUI_H
#define NATTER_UI_TUI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "engine.h"
#include "layout.h"
#include "markdown.h"
#include "reasoning.h"

struct session;
struct session_live;
struct backend;

enum tui_overlay { OV_NONE = 0, OV_HELP, OV_MODELS, OV_SYSTEM, OV_SETTINGS, OV_SEARCH,
                   OV_RENAME, OV_CONFIRM_DELETE, OV_CONFIRM_DELETE_MSG, OV_CONFIRM_SYSTEM };
enum tui_focus { FOCUS_INPUT = 0, FOCUS_LIST };
/* What a handler asks of the loop (htop's HandlerResult), as flags: TUI_PASS says the key is
 * not this handler's, and the caller offers it to the next. */
enum { TUI_OK = 0, TUI_REDRAW = 1, TUI_QUIT = 2, TUI_PASS = 4 };

/* A background model load: the thread fills the result fields, then sets done and writes one
 * byte to wake_fd. */
struct tui_load {
    char path[4096];
    struct eng_ctx_params cp;
    int wake_fd;
    atomic_int permille; /* progress 0..1000 */
    atomic_int done;
    int rc;
    char err[256];
    eng_model *model;
    eng_ctx *ctx;
    char draft_path[4096];   /* "" or the draft model to load with it */
    char draft_err[300];     /* why the draft model is not used ("" when it is) */
    eng_model *draft;
    eng_ctx *draft_ctx;
    pthread_t thr;
};

/* Per-message cache of the sanitized, wrapped text (rebuilt when the text or width changes),
 * and of a reply's rendered Markdown (md_src: the source length it was rendered from,
 * md_width: the width, 0 when not rendered yet). */
struct tui_wrap {
    char *san;
    size_t san_len, src_len;
    int width;
    struct layout_line *lines;
    int n_lines, cap_lines;
    struct md_doc md;
    long md_src;
    int md_width;
    int md_streaming; /* rendered while streaming (its open spans closed: md_stream_tail) */
};

/* One row of a picker or list. */
struct tui_item {
    char key[4096];  /* path, id, name */
    char label[256]; /* shown */
};

struct tui {
    /* the conversation and settings (state, no drawing) */
    struct app_conv conv;
    struct app_settings set;
    char *system_prompt;     /* owned, NULL: none */
    char system_name[64];
    const char *system_arg;  /* -s NAME|TEXT (argv) or NULL: what a new chat (Ctrl-N) starts with */
    char *set_session;       /* while an opened conversation's sampling settings are in use: the
                              * session's, as app_settings_json (owned; a new chat gets them
                              * back), else NULL */
    struct tui_wrap *wrap;   /* parallel to conv.msgs */
    struct tui_wrap *wrap_think; /* the same for each reply's reasoning */
    int cap_wrap;
    int edit_msg;            /* index of the message being edited, -1 */
    int sel_msg;             /* the selected message, -1: none (the tree keys then act on the
                              * last): Alt-Up/Down for the tree keys, F8 for copying */
    int sel_scroll;          /* the selection moved: the view scrolls to it */

    /* the context ledger: what the next turn would give the model, counted when idle */
    uint64_t ledger_sig;     /* the state it was counted for (draft, messages, model) */
    int ledger_draft;        /* the draft's tokens, -1: not counted */
    int ledger_next;         /* the next turn's prompt tokens, -1: unknown */
    int ledger_out;          /* messages the next turn leaves out */

    /* the model */
    eng_model *model;
    eng_ctx *ctx;
    const char *draft_path;  /* --draft MODEL (argv) or NULL */
    eng_model *draft;        /* the draft model for speculative decoding, or NULL */
    eng_ctx *draft_ctx;
    char model_path[4096];
    struct eng_model_info info;
    char tmpl_name[64];      /* the template shown: a built-in format's name, or the family the
                              * model's own Jinja template was detected as */
    int tmpl_forced;         /* /template chose a built-in format (else the model's own) */
    struct chat_prompt *cp;  /* renders and tokenizes the conversation (src/chat_prompt.h) */
    struct reasoning_markers mk; /* the model's reasoning markers (its template's family) */
    int think_switch;        /* the model's template has an enable_thinking switch */
    struct tui_load *load;   /* a load in progress, or NULL */
    int load_pipe[2];
    struct kvcache *kvc;     /* the model's context snapshots on disk (src/kvcache.h), or NULL */
    /* type-ahead prefill (tui_chat_prefill_tick) */
    char *draft_seen;        /* the input as last seen (owned) and when it last changed */
    double draft_t;          /* (monotonic s; -1: that text was handled) */
    char *prefill_text;      /* the stable prefix last given to a prefill (owned) */

    /* generation: the chat-session core (src/session.h) over the engine backend */
    struct session *sess;    /* owns the streaming reply; created by tui_chat_init */
    struct backend *backend; /* on model/ctx (NULL: no model), made again at each load; or
                              * the remote server's (--remote) */
    int remote;              /* the backend is a remote server (model_path: "MODEL@URL") */
    const char *remote_arg;  /* --remote URL|NAME (argv) or NULL */
    int ev_pipe[2];
    int show_think;          /* F6: every reply's reasoning unfolded */
    int sel_copy;            /* F8: sel_msg is selected for copying (select_key's keys) */

    /* the view */
    int rows, cols;
    struct layout_scroll scroll;
    int view_rows;           /* transcript rows last drawn */
    int trans_w;             /* transcript width last drawn */
    int show_list, focus;
    int list_w;
    int overlay;
    int ov_sel, ov_top;
    char ov_buf[512];        /* the overlay's text field (search, rename, setting value) */
    size_t ov_len;
    int ov_editing;          /* settings: editing a value */
    struct tui_item *items;  /* the overlay's rows */
    int n_items;
    struct tui_item *models; /* the model picker's rows, scanned once (F2 r rescans) */
    int n_models;
    struct tui_item *convs;  /* the conversation list */
    int n_convs, conv_sel, conv_top;
    char notice[1024];       /* over the input (wrapped upwards), cleared on the next key */

    char ov_target[64];      /* rename / delete: the conversation id */
    int64_t ov_msg;          /* delete a message: its store id */
    char *ov_system;         /* OV_CONFIRM_SYSTEM: the /system argument waiting for y (owned) */

    /* start options and the store */
    const char *db_path;
    struct store *db;        /* NULL: conversations are not saved (a notice says why) */
    int store_failed;        /* a save failed: the status bar warns until the next success */
    int sig_pipe[2];
    int quit, quit_signal;
    int no_color;
    int hyperlinks;          /* links are OSC 8 hyperlinks too (hyperlink.h decides) */
    int think_flag;          /* --think was given: it wins over the saved setting */
};

/* Copies src into dst (size n > 0), cut to fit, always NUL-terminated (may cut inside a UTF-8
 * sequence: only for text that is sanitized before display). */
void tui_copy(char *dst, size_t n, const char *src);

/* tui_draw.c: paints the whole screen from t (an allocation that fails leaves a message
 * unwrapped, drawn on the next pass); frees the wrap caches. */
void tui_draw(struct tui *t);
void tui_wrap_free(struct tui *t);
int tui_transcript_rows(struct tui *t, int width); /* total rows of the transcript */
int tui_msg_top(struct tui *t, int i, int width);   /* the row message i starts at */

/* tui_input.c: readline through its callback interface (one input line per process). init
 * loads the history file (an unreadable one starts empty); shutdown appends this session's
 * lines to it and reports a failed write on stderr, after the screen is restored. */
void tui_input_init(struct tui *t);
/* 0, or -1 when the history could not be saved (the message is on stderr). */
int tui_input_shutdown(void);
/* Feeds one byte to readline. Returns the accepted line (caller frees) or NULL. */
char *tui_input_feed(int byte);
void tui_input_insert(const char *text);
void tui_input_set(const char *text);
const char *tui_input_text(void); /* borrowed: readline's buffer, until the next change */
int tui_input_point(void);
void tui_input_set_point(int point);
void tui_input_history_add(const char *line);
void tui_input_move(int key); /* KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END, KEY_DC, KEY_UP... */

/* tui_chat.c: model, generation, store, prompts */
void tui_chat_init(struct tui *t);
void tui_chat_shutdown(struct tui *t);
int tui_chat_send(struct tui *t, const char *text);    /* a user message, then a reply */
int tui_chat_regen(struct tui *t);
/* The conversation's tree: the message the keys act on (the selected one, else the last
 * reply), switching it to its previous/next sibling (delta -1/+1; the view shows that
 * branch), deleting a message and everything below it, pinning. */
int tui_chat_target(const struct tui *t);
int tui_chat_sibling(struct tui *t, int delta);
int tui_chat_delete_msg(struct tui *t, int64_t msg);
int tui_chat_pin(struct tui *t);
/* The context ledger: when the draft, the conversation or the model changed since the last
 * count, counts the draft's tokens and the next turn's prompt and marks the messages it would
 * leave out. Returns 1 when it counted (redraw), 0 when nothing changed. Call when idle. */
int tui_chat_ledger(struct tui *t);
/* 1 when tui_chat_ledger has something to count. */
int tui_chat_ledger_stale(const struct tui *t);
void tui_chat_stop(struct tui *t);                     /* Esc: cancel the reply */
void tui_chat_stop_sync(struct tui *t);                /* cancel and wait for the end */
/* Type-ahead prefill. tick: the loop's call after each pass with the input's text (NULL when
 * the input is not in use): once the text has rested for a moment, the conversation with the
 * draft's stable prefix (up to its last space) is processed into the context in small batches
 * in the background, so Enter leaves only the last words to compute; an edit starts again from
 * what still matches. Never while a reply streams, for a model with recurrent layers (its
 * checkpoints are kept for the turns) or for a prompt that would not fit. wait_ms: how long
 * the loop may sleep before tick has work (-1: nothing pending). stop: cancels and joins. */
void tui_chat_prefill_tick(struct tui *t, const char *draft);
int tui_chat_prefill_wait_ms(const struct tui *t);
void tui_chat_prefill_stop(struct tui *t);
/* F7: while the reply reasons, stop it and continue it with the end-of-thinking text, so the
 * answer starts (the KV cache keeps everything before). */
void tui_chat_end_thinking(struct tui *t);
/* After the think setting changed (/think, F4): saved for the next start, and noted. */
void tui_chat_think_changed(struct tui *t);
/* The reply's reasoning is being streamed now. */
int tui_chat_thinking(const struct tui *t);
/* A reply is streaming; its index in conv (-1: none); the session's live figures (NULL before
 * tui_chat_init). */
int tui_chat_streaming(const struct tui *t);
int tui_chat_gen_msg(const struct tui *t);
const struct session_live *tui_chat_live(const struct tui *t);
/* --remote URL|NAME (an endpoint of the config file), model: the model to ask for (NULL: the
 * endpoint's); or a record "MODEL@URL" of a conversation (arg NULL). 0, or -1 with a notice. */
int tui_chat_remote_open(struct tui *t, const char *arg, const char *model);
/* When idle: the streaming reply's pending text saved (a failure is noted, NOT SAVED shown). */
void tui_chat_flush(struct tui *t);
/* Tokens of message i's reasoning (counted once with the loaded model), -1 unknown. */
int tui_chat_think_tokens(struct tui *t, int i);
int tui_chat_on_event(struct tui *t);                  /* a frame is readable on ev_pipe */
void tui_chat_model_load(struct tui *t, const char *path);
int tui_chat_on_load(struct tui *t);                   /* the loader woke us */
void tui_chat_new(struct tui *t);
int tui_chat_open(struct tui *t, const char *id);
/* Opens a search hit (its item key): a hit in another version makes that version shown. */
int tui_chat_open_hit(struct tui *t, const char *key);
void tui_chat_list_refresh(struct tui *t);
int tui_chat_rename(struct tui *t, const char *id, const char *title);
int tui_chat_delete(struct tui *t, const char *id);
int tui_chat_export(struct tui *t, const char *path);
void tui_chat_search(struct tui *t, const char *query); /* fills t->items */
void tui_chat_models(struct tui *t, int rescan);       /* fills t->items */
void tui_chat_systems(struct tui *t);                  /* fills t->items */
int tui_chat_set_system(struct tui *t, const char *name_or_text);
/* Uses chat template NAME for the model loaded now (detection chose one at load); "" lists them. */
void tui_chat_set_template(struct tui *t, const char *name);
void tui_chat_notice(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* t->items, the overlay's rows: emptied; one appended (key and label copied, cut to fit):
 * 0, or -1 when out of memory (the list stays as it was). */
void tui_items_clear(struct tui *t);
int tui_items_add(struct tui *t, const char *key, const char *label);

#endif
