/* ui/tui.h — the full-screen chat's state shared by its parts: tui.c (start, the poll loop,
 * keys, commands), tui_draw.c (painting from state), tui_input.c (readline through its callback
 * interface), tui_chat.c (the model, generation, store and prompts glue). UI thread only, except
 * the loader job fields marked atomic. */
#ifndef NATTER_UI_TUI_H
#define NATTER_UI_TUI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "engine.h"
#include "layout.h"

enum tui_overlay { OV_NONE = 0, OV_HELP, OV_MODELS, OV_SYSTEM, OV_SETTINGS, OV_SEARCH,
                   OV_RENAME, OV_CONFIRM_DELETE };
enum tui_focus { FOCUS_INPUT = 0, FOCUS_LIST };
/* What a handler asks of the loop (htop's HandlerResult). */
enum { TUI_OK = 0, TUI_REDRAW = 1, TUI_QUIT = 2 };

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
    pthread_t thr;
};

/* Per-message cache of the sanitized, wrapped text (rebuilt when the text or width changes). */
struct tui_wrap {
    char *san;
    size_t san_len, src_len;
    int width;
    struct layout_line *lines;
    int n_lines, cap_lines;
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
    struct tui_wrap *wrap;   /* parallel to conv.msgs */
    int cap_wrap;
    int edit_msg;            /* index of the user message being edited for resending, -1 */

    /* the model */
    eng_model *model;
    eng_ctx *ctx;
    char model_path[4096];
    struct eng_model_info info;
    char tmpl_name[64];
    struct tui_load *load;   /* a load in progress, or NULL */
    int load_pipe[2];

    /* generation */
    eng_gen *gen;
    uint32_t gen_id;
    int gen_msg;             /* index of the streaming reply, -1 */
    struct eng_stats live;   /* last STATS frame */
    int have_live;
    int prompt_pm;           /* prompt processing progress of the reply, 0..1000 */
    int ev_pipe[2];

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
    char notice[256];        /* one line over the input, cleared on the next key */

    char ov_target[64];      /* rename / delete: the conversation id */

    /* start options and the store */
    const char *db_path;
    struct store *db;        /* NULL: conversations are not saved (a notice says why) */
    int store_failed;        /* a save failed: the status bar warns until the next success */
    int sig_pipe[2];
    int quit, quit_signal;
    int no_color;
};

/* Copies src into dst (size n > 0), cut to fit, always NUL-terminated (may cut inside a UTF-8
 * sequence: only for text that is sanitized before display). */
void tui_copy(char *dst, size_t n, const char *src);

/* tui_draw.c */
void tui_draw(struct tui *t);
void tui_wrap_free(struct tui *t);
int tui_transcript_rows(struct tui *t, int width); /* total rows of the transcript */

/* tui_input.c: readline through its callback interface */
int tui_input_init(struct tui *t);
void tui_input_shutdown(void);
/* Feeds one byte to readline. Returns the accepted line (caller frees) or NULL. */
char *tui_input_feed(int byte);
void tui_input_insert(const char *text);
void tui_input_set(const char *text);
const char *tui_input_text(void);
int tui_input_point(void);
void tui_input_history_add(const char *line);
void tui_input_move(int key); /* KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END, KEY_DC, KEY_UP... */

/* tui_chat.c: model, generation, store, prompts */
void tui_chat_init(struct tui *t);
void tui_chat_shutdown(struct tui *t);
int tui_chat_send(struct tui *t, const char *text);    /* a user message, then a reply */
int tui_chat_regen(struct tui *t);
void tui_chat_stop(struct tui *t);                     /* Esc: cancel the reply */
void tui_chat_stop_sync(struct tui *t);                /* cancel and wait for the end */
int tui_chat_on_event(struct tui *t);                  /* a frame is readable on ev_pipe */
void tui_chat_model_load(struct tui *t, const char *path);
int tui_chat_on_load(struct tui *t);                   /* the loader woke us */
void tui_chat_new(struct tui *t);
int tui_chat_open(struct tui *t, const char *id);
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
void tui_items_clear(struct tui *t);
int tui_items_add(struct tui *t, const char *key, const char *label);

#endif
