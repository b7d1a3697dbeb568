/* ui/tui_chat.c — the chat's work behind the keys: loading a model on a background thread
 * (or opening a remote server, --remote) and giving it to the session core (src/session.h),
 * which renders, fits, streams and saves each reply from the backend's frames on ev_pipe; here
 * are what the keys ask of it (send, regenerate, Esc, F7, type-ahead) and the notices it
 * reports, the conversation's tree (regenerated and edited messages as versions beside the old
 * ones, switching versions, deleting a branch, pins), the context ledger (the draft's and the
 * next turn's tokens, counted when idle), and the conversation list, search, rename, delete,
 * export. UI thread only,
 * except load_main() which runs on the loader thread and touches only its struct tui_load. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "remote.h"
#include "export.h"
#include "grow.h"
#include "kvcache.h"
#include "opts.h"
#include "paths.h"
#include "chat_prompt.h"
#include "prompts.h"
#include "session.h"
#include "store.h"
#include "tui.h"

void tui_chat_notice(struct tui *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->notice, sizeof t->notice, fmt, ap);
    va_end(ap);
}

/* A note in the transcript (not saved, never given to the model). */
static void chat_note(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void chat_note(struct tui *t, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    app_conv_add(&t->conv, APP_ROLE_NOTICE, buf, strlen(buf));
}

void tui_copy(char *dst, size_t n, const char *src) {
    size_t l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

void tui_items_clear(struct tui *t) {
    free(t->items);
    t->items = NULL;
    t->n_items = 0;
    t->ov_sel = t->ov_top = 0;
}

int tui_items_add(struct tui *t, const char *key, const char *label) {
    struct tui_item *it = grow_one(t->items, t->n_items, sizeof *it);
    if (!it)
        return -1;
    t->items = it;
    snprintf(it[t->n_items].key, sizeof it->key, "%s", key);
    snprintf(it[t->n_items].label, sizeof it->label, "%s", label);
    t->n_items++;
    return 0;
}

/* ---- the store ---- */

/* A write to the store failed (here or in the session): said, and the status bar keeps
 * saying so until the next save succeeds; the text stays in the transcript. */
static void chat_save_failed(void *ud, const char *what, const char *msg) {
    struct tui *t = ud;
    tui_chat_notice(t, "not saved (%s): %s", what, msg);
    t->store_failed = 1;
}

static void store_warn(struct tui *t, const char *what) {
    chat_save_failed(t, what, t->db ? store_errmsg(t->db) : "no database");
}

static int conv_list_add(const struct store_conv *c, void *ud) {
    struct tui *t = ud;
    struct tui_item *it = grow_one(t->convs, t->n_convs, sizeof *it);
    if (!it)
        return 1;
    t->convs = it;
    snprintf(it[t->n_convs].key, sizeof it->key, "%s", c->id);
    snprintf(it[t->n_convs].label, sizeof it->label, "%s",
             c->title && c->title[0] ? c->title : "(untitled)");
    t->n_convs++;
    return 0;
}

void tui_chat_list_refresh(struct tui *t) {
    free(t->convs);
    t->convs = NULL;
    t->n_convs = 0;
    if (t->db && store_conv_list(t->db, 0, conv_list_add, t) < 0)
        tui_chat_notice(t, "conversation list: %s", store_errmsg(t->db));
    for (int i = 0; i < t->n_convs; i++)
        if (!strcmp(t->convs[i].key, t->conv.id))
            t->conv_sel = i;
}

/* ---- prompts ---- */

/* The built-in format in use, NULL when the model's own Jinja template renders (or nothing
 * renders: no model). */
static const struct prompts_template *chat_template(struct tui *t) {
    return t->cp ? chat_prompt_builtin(t->cp) : NULL;
}

/* (Re)makes the prompt maker for the model: its own Jinja template, or the built-in format
 * /template chose (tmpl_forced). Notices say when the model's template cannot be used. */
static void prompt_make(struct tui *t) {
    chat_prompt_free(t->cp);
    t->cp = NULL;
    if (t->backend)
        backend_engine_set_prompt(t->backend, NULL);
    if (!t->model)
        return;
    char err[256];
    if (chat_prompt_new(t->model, t->tmpl_forced ? t->tmpl_name : NULL, &t->cp, err,
                        sizeof err)) {
        tui_chat_notice(t, "%s", err);
        return;
    }
    if (t->backend)
        backend_engine_set_prompt(t->backend, t->cp);
    tui_copy(t->tmpl_name, sizeof t->tmpl_name, chat_prompt_family(t->cp));
    if (*chat_prompt_notice(t->cp))
        tui_chat_notice(t, "%s", chat_prompt_notice(t->cp));
}

/* The reasoning markers of the loaded model: its template's family, with the markers that are
 * control tokens of its vocabulary matched only as such. */
static void markers_choose(struct tui *t) {
    const char *jinja = t->model ? eng_model_meta_str(t->model, "tokenizer.chat_template") : NULL;
    reasoning_markers_detect(&t->mk, jinja);
    reasoning_markers_vocab(&t->mk, t->model);
    t->think_switch = reasoning_template_switch(jinja);
}

/* A model was loaded: its own template again (a /template choice lasts until then). */
static void template_choose(struct tui *t) {
    markers_choose(t);
    t->tmpl_forced = 0;
    prompt_make(t);
}

/* ---- generation ---- */

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const struct session_live *tui_chat_live(const struct tui *t) {
    return t->sess ? session_live(t->sess) : NULL;
}

int tui_chat_streaming(const struct tui *t) {
    return t->sess && session_live(t->sess)->running;
}

int tui_chat_gen_msg(const struct tui *t) {
    return t->sess ? session_live(t->sess)->msg : -1;
}

int tui_chat_thinking(const struct tui *t) {
    return tui_chat_streaming(t) && session_live(t->sess)->thinking;
}

int tui_chat_think_tokens(struct tui *t, int i) {
    struct app_msg *m = &t->conv.msgs[i];
    if (m->think && m->think_tokens < 0 && t->model && i != tui_chat_gen_msg(t)) {
        int n = eng_tokenize(t->model, m->think, m->think_len, 0, 0, NULL, 0);
        m->think_tokens = n < 0 ? 0 : n;
    }
    return m->think_tokens;
}

/* The store parent for message m of the transcript: the message before it (system prompt
 * and notices aside), STORE_PARENT_ROOT when there is none, 0 (the active path's end) when
 * that one is not saved. */
static int64_t chat_parent_of(const struct tui *t, const struct app_msg *m) {
    for (const struct app_msg *p = m - 1; p >= t->conv.msgs; p--)
        if (p->role == APP_ROLE_USER || p->role == APP_ROLE_ASSISTANT)
            return p->id;
    return STORE_PARENT_ROOT;
}

/* A transcript message's place in the tree, from its store row. */
static void msg_tree_set(struct app_msg *m, const struct store_msg *sm) {
    m->id = sm->id;
    m->parent = sm->parent;
    m->sib = sm->sib;
    m->n_sibs = sm->n_sibs;
    m->pinned = sm->pinned;
}

struct tree_sync {
    struct tui *t;
    int i;
};

static int tree_sync_msg(const struct store_msg *sm, void *ud) {
    struct tree_sync *y = ud;
    struct app_conv *c = &y->t->conv;
    while (y->i < c->n_msgs && c->msgs[y->i].role != APP_ROLE_USER &&
           c->msgs[y->i].role != APP_ROLE_ASSISTANT)
        y->i++;
    if (y->i >= c->n_msgs)
        return 1;
    msg_tree_set(&c->msgs[y->i++], sm);
    return 0;
}

/* The transcript's places in the tree (ids, siblings) from the store's active path. */
static void chat_tree_sync(struct tui *t) {
    struct tree_sync y = {t, 0};
    if (t->db && t->conv.id[0])
        store_msg_each(t->db, t->conv.id, tree_sync_msg, &y);
}

/* Opens the conversation again from the store (after its tree changed), keeping the view. */
static void chat_reload(struct tui *t) {
    char id[sizeof t->conv.id];
    int sel = t->sel_msg, top = t->scroll.top, follow = t->scroll.follow;
    tui_copy(id, sizeof id, t->conv.id);
    tui_chat_open(t, id);
    t->sel_msg = sel < t->conv.n_msgs ? sel : -1;
    t->scroll.top = top;
    t->scroll.follow = follow;
}

/* ---- context snapshots on disk (src/kvcache.h) ---- */

static void chat_cache_note(void *ud, const char *msg) {
    tui_chat_notice(ud, "%s", msg);
}

/* The model just loaded: its snapshots (the context's parameters are part of their key). */
static void chat_cache_open(struct tui *t) {
    kvcache_close(t->kvc);
    t->kvc = NULL;
    kvcache_open(t->model_path, t->model, t->ctx, &t->kvc, chat_cache_note, t);
}

static void chat_cache_wait(struct tui *t) {
    kvcache_wait(t->kvc);
}

#define MODEL_CHANGED_HINT "/model with no name loads it again"

/* session_start's report of the fit, before the reply is added: the note goes above it. */
static void chat_fitted(void *ud, int dropped) {
    if (dropped > 0)
        chat_note(ud, "context full: the %d oldest message%s no longer given to the model "
                  "(the system prompt and pinned messages are kept)", dropped,
                  dropped == 1 ? " is" : "s are");
}

/* Starts a reply to the conversation as it is (its last message is the user's) through the
 * session: fits the context, then, when save_user, saves that user message (a message refused
 * for not fitting is not saved, the conversation is created with its first), then the reply. */
static int chat_generate(struct tui *t, int save_user) {
    tui_chat_prefill_stop(t);   /* what it processed stays in the context */
    if (!t->backend) {
        tui_chat_notice(t, "no model loaded: F2 picks one");
        return -1;
    }
    if (tui_chat_streaming(t))
        return -1;
    if (t->model && eng_model_check(t->model) != ENG_OK) { /* replaced or rewritten on disk */
        tui_chat_notice(t, "%s (" MODEL_CHANGED_HINT ")", eng_last_error());
        return -1;
    }
    if (!t->remote && !t->cp) {
        tui_chat_notice(t, "no chat template to render the conversation with");
        return -1;
    }
    char *sampling = t->db && !t->conv.id[0] ? app_settings_json(&t->set) : NULL;
    struct store_conv_params cp = {
        .model = t->model_path,
        .template_name = t->tmpl_name[0] ? t->tmpl_name : NULL,
        .system_prompt = t->system_prompt,
        .sampling = sampling,
    };
    struct session_turn turn = {.save_user = save_user, .create = &cp, .fitted = chat_fitted,
                                .ud = t};
    struct session_started st;
    char err[512];
    int rc = session_start(t->sess, &turn, &st, err, sizeof err);
    free(sampling);
    if (rc != 0) {
        tui_chat_notice(t, "%s", err);
        return -1;
    }
    if (st.b.n_restored > 0)
        tui_chat_notice(t, "restored %d tokens of this conversation from the cache",
                        st.b.n_restored);
    if (t->db && t->conv.id[0]) {
        if (session_ended(t->sess)->save_failures == 0)
            t->store_failed = 0; /* saving works (again) */
        chat_tree_sync(t);
        if (save_user)
            tui_chat_list_refresh(t);
    }
    t->scroll.follow = 1;
    return 0;
}

/* An edited reply (Edit on an assistant message): saved as a sibling of the one it edits,
 * which stays in the tree. */
static int chat_edit_reply(struct tui *t, int e, const char *text) {
    t->edit_msg = -1;
    if (!t->db || !t->conv.id[0] || !t->conv.msgs[e].id) {
        app_msg_set(&t->conv.msgs[e], text, strlen(text));
        tui_wrap_free(t);
        return 0;
    }
    int64_t id = store_msg_add(t->db, t->conv.id, "assistant", text,
                               chat_parent_of(t, &t->conv.msgs[e]));
    if (id < 0) {
        store_warn(t, "message");
        return -1;
    }
    chat_reload(t);
    tui_chat_notice(t, "edited: a new version of the reply (Alt-Left/Right switch)");
    return 0;
}

int tui_chat_send(struct tui *t, const char *text) {
    if (tui_chat_streaming(t)) {
        tui_chat_notice(t, "a reply is streaming: Esc stops it");
        return -1;
    }
    int edit = t->edit_msg;
    if (edit >= 0 && edit < t->conv.n_msgs && t->conv.msgs[edit].role == APP_ROLE_ASSISTANT)
        return chat_edit_reply(t, edit, text);
    if (!t->backend) {
        tui_chat_notice(t, "no model loaded: F2 picks one");
        tui_input_set(text); /* kept for when one is */
        return -1;
    }
    t->edit_msg = -1;
    if (edit >= 0) { /* an edited message starts a sibling branch; the old one stays saved */
        app_conv_truncate(&t->conv, edit);
        tui_wrap_free(t);
    }
    if (!app_conv_add(&t->conv, APP_ROLE_USER, text, strlen(text)))
        return -1;
    int n = t->conv.n_msgs;
    if (chat_generate(t, 1) != 0) {
        if (t->conv.n_msgs == n && !t->conv.msgs[n - 1].id) { /* refused, so not saved */
            app_conv_truncate(&t->conv, n - 1);
            tui_wrap_free(t);
            if (edit >= 0 && t->conv.id[0])
                chat_reload(t); /* the branch as it was */
            tui_input_set(text); /* nothing typed is lost */
        }
        return -1;
    }
    return 0;
}

int tui_chat_regen(struct tui *t) {
    if (tui_chat_streaming(t)) {
        tui_chat_notice(t, "a reply is streaming: Esc stops it first");
        return -1;
    }
    int u = app_conv_last(&t->conv, APP_ROLE_USER);
    if (u < 0) {
        tui_chat_notice(t, "nothing to regenerate");
        return -1;
    }
    /* the new reply is a sibling of the old one, which stays in the tree */
    app_conv_truncate(&t->conv, u + 1);
    tui_wrap_free(t);
    if (chat_generate(t, 0) != 0 && t->conv.id[0])
        chat_reload(t);
    return 0;
}

/* ---- the tree: siblings, delete, pins ---- */

int tui_chat_target(const struct tui *t) {
    if (t->sel_msg >= 0 && t->sel_msg < t->conv.n_msgs)
        return t->sel_msg;
    int a = app_conv_last(&t->conv, APP_ROLE_ASSISTANT), u = app_conv_last(&t->conv, APP_ROLE_USER);
    return a > u ? a : u;
}

/* The message i when it is saved (a notice says why not), else -1. */
static int chat_saved_msg(struct tui *t, int i) {
    if (tui_chat_streaming(t)) {
        tui_chat_notice(t, "a reply is streaming: Esc stops it first");
        return -1;
    }
    if (i < 0 || !t->db || !t->conv.id[0] || !t->conv.msgs[i].id) {
        tui_chat_notice(t, "no saved message there");
        return -1;
    }
    return i;
}

int tui_chat_sibling(struct tui *t, int delta) {
    int i = chat_saved_msg(t, tui_chat_target(t));
    if (i < 0)
        return -1;
    const struct app_msg *m = &t->conv.msgs[i];
    int64_t sib = 0;
    if (m->n_sibs < 2) {
        tui_chat_notice(t, "this message has no other versions");
        return -1;
    }
    if (store_msg_sibling(t->db, t->conv.id, m->id, delta, &sib) < 0 ||
        (sib != m->id && store_msg_activate(t->db, t->conv.id, sib) < 0)) {
        store_warn(t, "branch");
        return -1;
    }
    int role = m->role;
    chat_reload(t);
    for (int k = 0; k < t->conv.n_msgs; k++) /* the selection stays on that message's place */
        if (t->conv.msgs[k].id == sib && role == t->conv.msgs[k].role && t->sel_msg >= 0)
            t->sel_msg = k;
    return 0;
}

int tui_chat_delete_msg(struct tui *t, int64_t msg) {
    if (!t->db || !t->conv.id[0] || tui_chat_streaming(t))
        return -1;
    int n = store_msg_delete(t->db, t->conv.id, msg);
    if (n < 0) {
        store_warn(t, "delete");
        return -1;
    }
    t->sel_msg = -1;
    chat_reload(t);
    tui_chat_notice(t, "deleted %d message%s", n, n == 1 ? "" : "s");
    return 0;
}

int tui_chat_pin(struct tui *t) {
    int i = chat_saved_msg(t, tui_chat_target(t));
    if (i < 0)
        return -1;
    struct app_msg *m = &t->conv.msgs[i];
    if (store_msg_set_pinned(t->db, t->conv.id, m->id, !m->pinned) < 0) {
        store_warn(t, "pin");
        return -1;
    }
    m->pinned = !m->pinned;
    tui_chat_notice(t, m->pinned ? "pinned: never left out of the context"
                                 : "unpinned");
    return 0;
}

void tui_chat_stop(struct tui *t) {
    if (t->sess)
        session_cancel(t->sess);
}

void tui_chat_end_thinking(struct tui *t) {
    char err[128];
    if (!t->sess || session_end_thinking(t->sess, err, sizeof err) != 0) {
        tui_chat_notice(t, "%s", t->sess ? err : "no reply is streaming");
        return;
    }
    tui_chat_notice(t, "ending the thinking: the answer starts");
}

/* Handles one frame through the session. Returns TUI_REDRAW when something visible changed. */
static int chat_frame(struct tui *t, const struct eng_frame *h, const unsigned char *p) {
    const int i = tui_chat_gen_msg(t);
    const int ev = session_frame(t->sess, h, p);
    const struct session_end *e = session_ended(t->sess);
    if (ev == SESSION_EV_NONE)
        return TUI_OK; /* a stale frame from an earlier reply, or the prefill's */
    if (ev == SESSION_EV_DONE && e->reason == ENG_DONE_CTX_FULL)
        tui_chat_notice(t, "the context is full: the reply was cut");
    else if (ev == SESSION_EV_DONE && e->error[0]) /* F7 could not continue */
        tui_chat_notice(t, "cannot end the thinking: %s", e->error);
    else if (ev == SESSION_EV_ERROR && e->code == ENG_E_CHANGED) /* the reply so far is kept */
        tui_chat_notice(t, "%s (" MODEL_CHANGED_HINT ")", e->error);
    else if (ev == SESSION_EV_ERROR)
        tui_chat_notice(t, "generation error: %s", e->error);
    if ((ev == SESSION_EV_DONE || ev == SESSION_EV_ERROR) && i >= 0 && t->conv.msgs[i].think)
        tui_chat_think_tokens(t, i);
    return TUI_REDRAW;
}

int tui_chat_on_event(struct tui *t) {
    struct eng_frame h;
    unsigned char payload[ENG_FRAME_MAX + 1];
    int res = TUI_OK;
    /* Take what is there now (bounded, so keys are never starved). */
    for (int k = 0; k < 256; k++) {
        struct pollfd pfd = {t->ev_pipe[0], POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
            break;
        if (eng_frame_read(t->ev_pipe[0], &h, payload) != 1)
            break;
        res |= chat_frame(t, &h, payload);
    }
    return res;
}

void tui_chat_flush(struct tui *t) {
    if (t->sess)
        session_flush(t->sess);
}

void tui_chat_stop_sync(struct tui *t) {
    tui_chat_prefill_stop(t);
    chat_cache_wait(t);
    if (t->sess)
        session_stop_sync(t->sess, t->ev_pipe[0]);
}

/* ---- the context ledger ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* What the ledger depends on: the draft, the messages (text, pins), the model and context,
 * the thinking setting. */
static uint64_t ledger_sig(const struct tui *t) {
    const char *d = tui_input_text();
    uint64_t h = fnv(14695981039346656037ull, d, strlen(d));
    for (int i = 0; i < t->conv.n_msgs; i++) {
        const struct app_msg *m = &t->conv.msgs[i];
        int v[3] = {m->role, m->pinned, (int)m->len};
        h = fnv(h, v, sizeof v);
        h = fnv(h, &m->think_len, sizeof m->think_len);
    }
    const void *ptrs[2] = {t->model, t->cp};
    h = fnv(h, ptrs, sizeof ptrs);
    int v[4] = {t->set.think, t->set.n_predict, t->model ? eng_ctx_n_ctx(t->ctx) : 0,
                t->edit_msg};
    return fnv(h, v, sizeof v) | 1; /* never 0: 0 is "not counted" */
}

int tui_chat_ledger_stale(const struct tui *t) {
    return !tui_chat_streaming(t) && !t->load && ledger_sig(t) != t->ledger_sig;
}

int tui_chat_ledger(struct tui *t) {
    if (!tui_chat_ledger_stale(t))
        return 0;
    t->ledger_sig = ledger_sig(t);
    t->ledger_draft = t->ledger_next = -1;
    t->ledger_out = 0;
    for (int i = 0; i < t->conv.n_msgs; i++)
        t->conv.msgs[i].left_out = 0;
    if (!t->model || !t->cp)
        return 1;
    const char *d = tui_input_text();
    if (d[0] == '/' && d[1] != '/') /* a command, not a message */
        d = "";
    t->ledger_draft = eng_tokenize(t->model, d, strlen(d), 0, 0, NULL, 0);
    /* the next turn: the conversation (up to the message being edited) with the draft as its
     * new message, counted on a view of the transcript that shares its messages */
    int n = t->edit_msg >= 0 && t->edit_msg < t->conv.n_msgs ? t->edit_msg : t->conv.n_msgs;
    int n_tok = 0, r = -1;
    struct app_conv whole = t->conv, view = {.n_msgs = n, .cap_msgs = n + 1};
    view.msgs = malloc((size_t)(n + 1) * sizeof *view.msgs);
    unsigned char *keep = malloc((size_t)n + 1);
    if (view.msgs && keep) {
        if (n)
            memcpy(view.msgs, whole.msgs, (size_t)n * sizeof *view.msgs);
        if (app_conv_add(&view, APP_ROLE_USER, d, strlen(d))) {
            char err[256];
            r = session_fit(t->sess, &view, keep, &n_tok, err, sizeof err);
            free(view.msgs[n].text);
        }
    }
    if (r != -1)
        t->ledger_next = n_tok;
    if (r > 0) {
        t->ledger_out = r;
        for (int i = 0; i < n; i++)
            t->conv.msgs[i].left_out = !keep[i] && t->conv.msgs[i].role != APP_ROLE_NOTICE;
    }
    free(view.msgs);
    free(keep);
    return 1;
}

/* ---- type-ahead prefill ---- */

#define PREFILL_REST_S 0.25       /* the draft rests this long before it is processed */

void tui_chat_prefill_stop(struct tui *t) {
    if (t->sess)
        session_prefill_stop(t->sess);
}

int tui_chat_prefill_wait_ms(const struct tui *t) {
    if (!t->draft_seen || t->draft_t < 0 || tui_chat_streaming(t))
        return -1;
    double left = t->draft_t + PREFILL_REST_S - mono_now();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

void tui_chat_prefill_tick(struct tui *t, const char *draft) {
    if (!draft || !t->backend || tui_chat_streaming(t) || t->load || t->edit_msg >= 0 ||
        draft[0] == '/') {
        free(t->draft_seen);
        t->draft_seen = NULL;
        return;
    }
    if (!t->draft_seen || strcmp(t->draft_seen, draft)) {   /* typing: wait for a rest */
        free(t->draft_seen);
        t->draft_seen = strdup(draft);
        t->draft_t = mono_now();
        return;
    }
    if (tui_chat_prefill_wait_ms(t) != 0)
        return;   /* still typing, or this text was handled */
    t->draft_t = -1;
    size_t len = strlen(draft);
    while (len > 0 && draft[len - 1] != ' ' && draft[len - 1] != '\n')
        len--;
    if (len == 0 || (t->prefill_text && strlen(t->prefill_text) == len &&
                     !memcmp(t->prefill_text, draft, len)))
        return;
    free(t->prefill_text);
    t->prefill_text = strndup(draft, len);
    char err[256];   /* (quietly: the turn itself says what is wrong) */
    session_prefill(t->sess, draft, len, err, sizeof err); /* what still matches is kept */
}

/* ---- models ---- */

static void load_progress(float frac, void *ud) {
    struct tui_load *l = ud;
    int pm = (int)(frac * 1000);
    if (pm < 0)
        pm = 0;
    if (pm > 1000)
        pm = 1000;
    if (pm - atomic_load(&l->permille) >= 10 || pm == 1000) {
        atomic_store(&l->permille, pm);
        ssize_t w = write(l->wake_fd, "p", 1);
        (void)w; /* a full pipe already holds a wake-up */
    }
}

/* The loader thread: loads the model and makes its context; touches only *l. */
static void *load_main(void *arg) {
    struct tui_load *l = arg;
    struct eng_model_params mp = eng_model_default_params();
    mp.progress = load_progress;
    mp.progress_ud = l;
    l->rc = eng_model_load(l->path, &mp, &l->model);
    if (l->rc == ENG_OK) {
        l->rc = eng_ctx_new(l->model, &l->cp, &l->ctx);
        if (l->rc != ENG_OK) {
            eng_model_free(l->model);
            l->model = NULL;
        }
    }
    if (l->rc != ENG_OK)
        snprintf(l->err, sizeof l->err, "%s", eng_last_error());
    if (l->rc == ENG_OK && l->draft_path[0]) {   /* a draft model: used if it fits */
        struct eng_model_params dp = eng_model_default_params();
        struct eng_ctx_params dcp = l->cp;
        dcp.n_ctx = eng_ctx_n_ctx(l->ctx);
        if (eng_model_load(l->draft_path, &dp, &l->draft) != ENG_OK ||
            eng_draft_compatible(l->model, l->draft) != ENG_OK ||
            eng_ctx_new(l->draft, &dcp, &l->draft_ctx) != ENG_OK) {
            snprintf(l->draft_err, sizeof l->draft_err, "%s", eng_last_error());
            eng_model_free(l->draft);
            l->draft = NULL;
        }
    }
    atomic_store(&l->done, 1);
    ssize_t w = write(l->wake_fd, "d", 1);
    (void)w;
    return NULL;
}

/* The remote server's model is now name: the session records replies as "MODEL@URL". */
static void remote_model_set(struct tui *t, const char *name) {
    if (tui_chat_streaming(t)) {
        tui_chat_notice(t, "a reply is streaming: Esc stops it first");
        return;
    }
    if (backend_remote_set_model(t->backend, name) != 0) {
        tui_chat_notice(t, "out of memory");
        return;
    }
    char who[64];
    backend_remote_record(t->backend, t->model_path, sizeof t->model_path);
    app_model_short_name(t->model_path, who, sizeof who);
    session_set_backend(t->sess, t->backend, t->model_path, who);
    snprintf(t->info.name, sizeof t->info.name, "%s", who);
    if (t->db && t->conv.id[0] && store_conv_set_model(t->db, t->conv.id, t->model_path) < 0)
        store_warn(t, "model");
    tui_chat_notice(t, "remote model %s", t->model_path);
}

int tui_chat_remote_open(struct tui *t, const char *arg, const char *model) {
    struct config cfg;
    struct remote_endpoint ep;
    char err[600], url[4096] = "", name[512] = "";
    int rc = -1;
    memset(&cfg, 0, sizeof cfg);
    if (arg) {
        if (config_load(&cfg, NULL, err, sizeof err) != 0 ||
            config_remote_resolve(&cfg, arg, &ep, err, sizeof err) != 0) {
            tui_chat_notice(t, "--remote: %s", err);
            goto out;
        }
    } else { /* a conversation's "MODEL@URL" */
        const char *at = strstr(model, "@http");
        snprintf(name, sizeof name, "%.*s", at ? (int)(at - model) : 0, model);
        snprintf(url, sizeof url, "%s", at ? at + 1 : "");
        const char *key = getenv("NATTER_API_KEY");
        ep = (struct remote_endpoint){url, strcmp(name, "default") ? name : NULL,
                                      key && *key ? key : NULL, 0};
        model = NULL;
    }
    if (model)
        ep.model = model;
    if (backend_remote_new(&ep, &t->backend, err, sizeof err) != 0) {
        tui_chat_notice(t, "%s", err);
        goto out;
    }
    t->remote = 1;
    remote_model_set(t, ep.model);
    rc = 0;
out:
    config_free(&cfg);
    return rc;
}

void tui_chat_model_load(struct tui *t, const char *path) {
    char found[4096], err[512];
    if (t->remote) { /* a name the server knows */
        remote_model_set(t, path);
        return;
    }
    if (paths_model_find(path, found, sizeof found, err, sizeof err) != 0) {
        tui_chat_notice(t, "%s", err); /* a file, a name or a prefix of one */
        return;
    }
    path = found;
    if (t->load) {
        tui_chat_notice(t, "a model is already loading");
        return;
    }
    struct tui_load *l = calloc(1, sizeof *l);
    if (!l)
        return;
    char full[PATH_MAX];
    /* the absolute path: what the store records and the next start loads again */
    tui_copy(l->path, sizeof l->path, realpath(path, full) ? full : path);
    l->cp = eng_ctx_default_params();
    opts_to_params(&t->set, NULL, &l->cp);
    if (t->draft_path)
        tui_copy(l->draft_path, sizeof l->draft_path, t->draft_path);
    l->wake_fd = t->load_pipe[1];
    atomic_init(&l->permille, 0);
    atomic_init(&l->done, 0);
    if (pthread_create(&l->thr, NULL, load_main, l) != 0) {
        tui_chat_notice(t, "cannot start the loader thread");
        free(l);
        return;
    }
    t->load = l;
}

int tui_chat_on_load(struct tui *t) {
    char buf[64];
    while (read(t->load_pipe[0], buf, sizeof buf) > 0) {
    }
    struct tui_load *l = t->load;
    if (!l || !atomic_load(&l->done))
        return TUI_REDRAW; /* progress */
    pthread_join(l->thr, NULL);
    t->load = NULL;
    if (l->rc != ENG_OK) {
        tui_chat_notice(t, "cannot load %s: %s", l->path, l->err);
        free(l);
        return TUI_REDRAW;
    }
    tui_chat_stop_sync(t);
    backend_free(t->backend);  /* made again on the new model below */
    t->backend = NULL;
    session_set_backend(t->sess, NULL, NULL, NULL);
    chat_prompt_free(t->cp);
    t->cp = NULL;
    if (t->model) {
        eng_ctx_free(t->ctx);
        eng_model_free(t->model);
    }
    eng_ctx_free(t->draft_ctx);
    eng_model_free(t->draft);
    t->model = l->model;
    t->ctx = l->ctx;
    t->draft = l->draft;
    t->draft_ctx = l->draft_ctx;
    snprintf(t->model_path, sizeof t->model_path, "%s", l->path);
    chat_cache_open(t);
    eng_model_info_get(t->model, &t->info);
    template_choose(t);
    struct backend_engine_params bp = {t->model, t->ctx, t->draft_ctx, t->cp, t->kvc, &t->mk};
    char berr[256], who[128];
    if (backend_engine_new(&bp, &t->backend, berr, sizeof berr) != 0)
        tui_chat_notice(t, "%s", berr);
    else if (t->sess)
        session_set_backend(t->sess, t->backend, t->model_path,
                            app_model_short_name(t->model_path, who, sizeof who));
    if (t->db && (store_setting_set(t->db, STORE_SETTING_LAST_MODEL, t->model_path) < 0 ||
                  (t->conv.id[0] &&
                   (store_conv_set_model(t->db, t->conv.id, t->model_path) < 0 ||
                    store_conv_set_template(t->db, t->conv.id, t->tmpl_name) < 0))))
        store_warn(t, "model"); /* the notice below then waits for the next one */
    if (!t->notice[0] && l->draft_err[0])
        tui_chat_notice(t, "draft model %s not used: %s", l->draft_path, l->draft_err);
    else if (!t->notice[0]) {
        char name[128];
        tui_chat_notice(t, "loaded %s (%s, template %s%s)",
                        layout_model_name(t->model_path, 0, name, sizeof name), t->info.arch,
                        t->tmpl_name, t->draft ? ", with a draft model" : "");
    }
    free(l);
    return TUI_REDRAW;
}

static int models_add(const char *path, void *ud) {
    struct tui *t = ud;
    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = 1;
    eng_model *m = NULL;
    char label[256];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (eng_model_load(path, &mp, &m) == ENG_OK) {
        struct eng_model_info in;
        eng_model_info_get(m, &in);
        snprintf(label, sizeof label, "%-34s %-8s %-16s %7.1f MiB", base, in.arch,
                 in.ftype[0] ? in.ftype : in.types, (double)in.file_size / (1 << 20));
        eng_model_free(m);
    } else {
        snprintf(label, sizeof label, "%-34s (unreadable: %s)", base, eng_last_error());
    }
    tui_items_add(t, path, label);
    return 0;
}

/* The remote server's models (GET /v1/models) as the picker's rows. */
static void remote_models(struct tui *t) {
    char **names = NULL, err[512];
    int n = 0;
    if (backend_models(t->backend, &names, &n, err, sizeof err) != 0) {
        tui_chat_notice(t, "models: %s", err);
        return;
    }
    const char *cur = backend_remote_model(t->backend);
    for (int i = 0; i < n; i++) {
        tui_items_add(t, names[i], names[i]); /* drawn sanitized */
        if (cur && !strcmp(cur, names[i]))
            t->ov_sel = i;
    }
    backend_models_free(names, n);
}

void tui_chat_models(struct tui *t, int rescan) {
    tui_items_clear(t);
    if (t->remote) {
        remote_models(t);
        return;
    }
    if (rescan || !t->models) {
        paths_models_each(models_add, t);
        free(t->models);
        t->models = t->items;
        t->n_models = t->n_items;
        t->items = NULL;
        t->n_items = 0;
    }
    for (int i = 0; i < t->n_models; i++)
        tui_items_add(t, t->models[i].key, t->models[i].label);
    for (int i = 0; i < t->n_items; i++) {
        char full[PATH_MAX];
        if (realpath(t->items[i].key, full) && !strcmp(full, t->model_path))
            t->ov_sel = i;
    }
}

/* ---- system prompts ---- */

void tui_chat_systems(struct tui *t) {
    tui_items_clear(t);
    tui_items_add(t, "", "(none)");
    for (int i = 0; i < prompts_system_count(); i++) {
        const struct prompts_system *s = prompts_system_at(i);
        char label[256];
        snprintf(label, sizeof label, "%-14s %s", s->name, s->title);
        tui_items_add(t, s->name, label);
        if (t->system_prompt && !strcmp(t->system_prompt, s->text))
            t->ov_sel = i + 1;
    }
}

void tui_chat_think_changed(struct tui *t) {
    if (t->db && store_setting_set(t->db, STORE_SETTING_THINK, t->set.think ? "on" : "off") < 0)
        store_warn(t, "setting");
    if (t->set.think)
        tui_chat_notice(t, "thinking on: the model may reason before it answers (F6 shows it)");
    else if (t->mk.harmony)
        tui_chat_notice(t, "thinking off: this model's template (harmony) has reasoning levels, "
                        "not a switch; its replies stay as they are");
    else {
        const struct prompts_template *tp = chat_template(t);
        int opens = tp && tp->generation &&
                    reasoning_prompt_inside(&t->mk, tp->generation, strlen(tp->generation));
        int sw = t->cp && chat_prompt_is_jinja(t->cp) ? chat_prompt_has_think_switch(t->cp)
                                                      : t->think_switch;
        if (sw || opens || !t->model)
            tui_chat_notice(t, "thinking off: the model is asked to answer at once");
        else
            tui_chat_notice(t, "thinking off: this model's template has no thinking switch; "
                            "its replies stay as they are");
    }
}

void tui_chat_set_template(struct tui *t, const char *name) {
    const struct prompts_template *tp = name[0] ? prompts_template_find(name) : NULL;
    if (!tp) {
        char list[768] = ""; /* every name: the notice wraps */
        size_t len = 0;
        for (int i = 0; i < prompts_template_count() && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "",
                                    prompts_template_at(i)->name);
        if (name[0])
            tui_chat_notice(t, "no chat template '%s'; there are: %s", name, list);
        else
            tui_chat_notice(t, "template %s; there are: %s", t->tmpl_name[0] ? t->tmpl_name : "-",
                            list);
        return;
    }
    tui_copy(t->tmpl_name, sizeof t->tmpl_name, tp->name);
    t->tmpl_forced = 1;
    prompt_make(t);
    if (t->db && t->conv.id[0] && store_conv_set_template(t->db, t->conv.id, t->tmpl_name) < 0)
        store_warn(t, "chat template");
    tui_chat_notice(t, "chat template %s (until another model loads)", tp->name);
}

int tui_chat_set_system(struct tui *t, const char *name_or_text) {
    if (tui_chat_streaming(t)) { /* the transcript's first message would move under the reply */
        tui_chat_notice(t, "a reply is streaming: Esc stops it first");
        return -1;
    }
    if (app_system_is_none(name_or_text)) /* "none", "off", "" */
        name_or_text = "";
    const struct prompts_system *s = name_or_text[0] ? prompts_system_find(name_or_text) : NULL;
    const char *text = s ? s->text : name_or_text;
    free(t->system_prompt);
    t->system_prompt = text[0] ? strdup(text) : NULL;
    snprintf(t->system_name, sizeof t->system_name, "%s", s ? s->name : text[0] ? "custom" : "");
    /* the transcript shows it first */
    if (t->conv.n_msgs > 0 && t->conv.msgs[0].role == APP_ROLE_SYSTEM) {
        if (t->system_prompt) {
            app_msg_set(&t->conv.msgs[0], text, strlen(text));
        } else {
            free(t->conv.msgs[0].text);
            memmove(t->conv.msgs, t->conv.msgs + 1, (size_t)(t->conv.n_msgs - 1) *
                                                       sizeof *t->conv.msgs);
            t->conv.n_msgs--;
            /* (no reply streams here: the session keeps its index) */
        }
    } else if (t->system_prompt && !tui_chat_streaming(t)) {
        if (app_conv_add(&t->conv, APP_ROLE_SYSTEM, text, strlen(text))) {
            struct app_msg m = t->conv.msgs[t->conv.n_msgs - 1];
            memmove(t->conv.msgs + 1, t->conv.msgs, (size_t)(t->conv.n_msgs - 1) *
                                                       sizeof *t->conv.msgs);
            t->conv.msgs[0] = m;
        }
    }
    tui_wrap_free(t);
    if (t->db && t->conv.id[0] && store_conv_set_system(t->db, t->conv.id, t->system_prompt) < 0)
        store_warn(t, "system prompt");
    if (!s && text[0] && prompts_name_valid(text, strlen(text)))
        tui_chat_notice(t, "no system prompt named %s: using the text as the prompt (F3 lists "
                        "them)", text);
    else
        tui_chat_notice(t, "system prompt: %s", t->system_name[0] ? t->system_name : "none");
    return 0;
}

/* ---- conversations ---- */

void tui_chat_new(struct tui *t) {
    tui_chat_stop_sync(t);
    app_conv_clear(&t->conv);
    tui_wrap_free(t);
    t->edit_msg = -1;
    t->sel_msg = -1;
    t->scroll.top = 0;
    t->scroll.follow = 1;
    if (t->set_session) { /* the session's sampling settings, not the conversation's */
        char changed[8];
        app_settings_from_json(&t->set, t->set_session, strlen(t->set_session), changed,
                               sizeof changed);
        free(t->set_session);
        t->set_session = NULL;
    }
    /* the start's -s (or none), not the prompt of the conversation left */
    free(t->system_prompt);
    t->system_prompt = NULL;
    t->system_name[0] = '\0';
    if (t->system_arg)
        tui_chat_set_system(t, t->system_arg);
}

int tui_chat_open(struct tui *t, const char *id) {
    if (!t->db)
        return -1;
    char full[STORE_ID_LEN + 1];
    if (store_conv_resolve(t->db, id, full) < 0) {
        tui_chat_notice(t, "%s", store_errmsg(t->db));
        return -1;
    }
    tui_chat_stop_sync(t);
    tui_wrap_free(t);
    t->edit_msg = -1;
    t->sel_msg = -1;
    char err[256];
    if (session_conv_load(t->db, full, &t->conv, NULL, 0, err, sizeof err) < 0)
        tui_chat_notice(t, "%s", err);
    free(t->system_prompt);
    t->system_prompt = t->conv.n_msgs > 0 && t->conv.msgs[0].role == APP_ROLE_SYSTEM
                           ? strdup(t->conv.msgs[0].text) : NULL;
    char restored[256] = ""; /* its sampling settings, as it was last used */
    if (!t->set_session) /* the session's, for the next new chat */
        t->set_session = app_settings_json(&t->set);
    struct store_conv c;
    memset(&c, 0, sizeof c);
    if (store_conv_get(t->db, full, &c) == 0 && c.sampling)
        app_settings_from_json(&t->set, c.sampling, strlen(c.sampling), restored,
                               sizeof restored);
    store_conv_clear(&c);
    if (restored[0])
        tui_chat_notice(t, "this conversation's settings: %s (F4)", restored);
    t->scroll.follow = 1;
    tui_chat_list_refresh(t);
    return 0;
}

int tui_chat_open_hit(struct tui *t, const char *key) {
    char id[STORE_ID_LEN + 1];
    long long msg = 0;
    if (sscanf(key, "%8s %lld", id, &msg) < 1)
        return -1;
    char full[STORE_ID_LEN + 1];
    if (msg > 0 && t->db && store_conv_resolve(t->db, id, full) == 0 &&
        store_msg_activate(t->db, full, msg) < 0)
        store_warn(t, "branch");
    return tui_chat_open(t, id);
}

int tui_chat_rename(struct tui *t, const char *id, const char *title) {
    if (!t->db || !id[0]) {
        tui_chat_notice(t, "nothing to rename: the chat is saved with its first message");
        return -1;
    }
    if (store_conv_rename(t->db, id, title) < 0) {
        tui_chat_notice(t, "rename: %s", store_errmsg(t->db));
        return -1;
    }
    if (!strcmp(id, t->conv.id))
        snprintf(t->conv.title, sizeof t->conv.title, "%s", title);
    tui_chat_list_refresh(t);
    return 0;
}

int tui_chat_delete(struct tui *t, const char *id) {
    if (!t->db || !id[0])
        return -1;
    if (!strcmp(id, t->conv.id))
        tui_chat_stop_sync(t);
    if (store_conv_delete(t->db, id) < 0) {
        tui_chat_notice(t, "delete: %s", store_errmsg(t->db));
        return -1;
    }
    if (!strcmp(id, t->conv.id))
        tui_chat_new(t);
    tui_chat_list_refresh(t);
    tui_chat_notice(t, "deleted");
    return 0;
}

int tui_chat_export(struct tui *t, const char *path) {
    if (!t->db || !t->conv.id[0]) {
        tui_chat_notice(t, "nothing to export yet");
        return -1;
    }
    char def[64], err[4400];
    if (!path || !*path) {
        snprintf(def, sizeof def, "natter-%s.json", t->conv.id);
        path = def;
    }
    if (export_json_file(t->db, t->conv.id, path, err, sizeof err) != 0) {
        tui_chat_notice(t, "export: %s", err);
        return -1;
    }
    tui_chat_notice(t, "exported to %s", path);
    return 0;
}

static int search_add(const struct store_hit *h, void *ud) {
    struct tui *t = ud;
    char label[256];
    const char *title = h->title && h->title[0] ? h->title : h->id;
    int w;
    size_t n = layout_fit(title, strlen(title), 20, &w); /* a column of 20 cells */
    snprintf(label, sizeof label, "%.*s%*s %s", (int)n, title, 20 - w, "",
             h->snippet ? h->snippet : "");
    for (char *p = label; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* "ID MSG": opening a hit in another version shows that version */
    char key[64];
    snprintf(key, sizeof key, "%s %lld", h->id, h->active ? 0LL : (long long)h->msg_id);
    return tui_items_add(t, key, label) != 0;
}

void tui_chat_search(struct tui *t, const char *query) {
    tui_items_clear(t);
    if (!t->db || !*query)
        return;
    if (store_search(t->db, query, 100, search_add, t) < 0)
        tui_chat_notice(t, "search: %s", store_errmsg(t->db));
}

/* ---- start and end ---- */

void tui_chat_init(struct tui *t) {
    char path[4096], err[512];
    if (paths_db(t->db_path, path, sizeof path) && store_open(path, &t->db, err, sizeof err) < 0) {
        t->db = NULL;
        tui_chat_notice(t, "conversations will not be saved: %s", err);
    }
    prompts_load();
    struct session_params sp = {.db = t->db, .conv = &t->conv, .set = &t->set,
                                .fd = t->ev_pipe[1], .save_failed = chat_save_failed, .ud = t};
    if (session_new(&sp, &t->sess) != 0)
        tui_chat_notice(t, "out of memory");
    tui_chat_list_refresh(t);
    char v[16], e[128];
    if (t->db && !t->think_flag &&
        store_setting_get(t->db, STORE_SETTING_THINK, v, sizeof v) == 0)
        app_settings_set(&t->set, "think", v, e, sizeof e); /* the last /think */
}

void tui_chat_shutdown(struct tui *t) {
    tui_chat_stop_sync(t);
    if (t->load) { /* let the loader finish; it cannot be interrupted */
        pthread_join(t->load->thr, NULL);
        if (t->load->model) {
            eng_ctx_free(t->load->ctx);
            eng_model_free(t->load->model);
        }
        eng_ctx_free(t->load->draft_ctx);
        eng_model_free(t->load->draft);
        free(t->load);
        t->load = NULL;
    }
    session_free(t->sess);
    t->sess = NULL;
    backend_free(t->backend);
    t->backend = NULL;
    chat_prompt_free(t->cp);
    t->cp = NULL;
    kvcache_close(t->kvc);
    t->kvc = NULL;
    free(t->draft_seen);
    free(t->prefill_text);
    t->draft_seen = t->prefill_text = NULL;
    if (t->model) {
        eng_ctx_free(t->ctx);
        eng_model_free(t->model);
    }
    t->ctx = NULL;
    t->model = NULL;
    eng_ctx_free(t->draft_ctx);
    eng_model_free(t->draft);
    t->draft_ctx = NULL;
    t->draft = NULL;
    store_close(t->db);
    t->db = NULL;
    prompts_free();
}
