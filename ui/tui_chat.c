/* ui/tui_chat.c — the chat's work behind the keys: loading a model on a background thread,
 * rendering the conversation with its chat template (src/prompts) and streaming a reply from the
 * engine's generation thread (frames on ev_pipe), its reasoning split from its answer as it
 * streams (src/reasoning), ending the thinking early (F7), saving everything in the store as it
 * grows (src/store), the conversation's tree (regenerated and edited messages as versions
 * beside the old ones, switching versions, deleting a branch, pins), the context ledger (the
 * draft's and the next turn's tokens, counted when idle), and the conversation list, search,
 * rename, delete, export. UI thread only,
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

#include "kvcache.h"
#include "opts.h"
#include "paths.h"
#include "chat_prompt.h"
#include "prompts.h"
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
    struct tui_item *it = realloc(t->items, (size_t)(t->n_items + 1) * sizeof *it);
    if (!it)
        return -1;
    t->items = it;
    snprintf(it[t->n_items].key, sizeof it->key, "%s", key);
    snprintf(it[t->n_items].label, sizeof it->label, "%s", label);
    t->n_items++;
    return 0;
}

/* ---- the store ---- */

static void store_warn(struct tui *t, const char *what) {
    tui_chat_notice(t, "not saved (%s): %s", what, t->db ? store_errmsg(t->db) : "no database");
    t->store_failed = 1; /* the status bar keeps saying so */
}

static int conv_list_add(const struct store_conv *c, void *ud) {
    struct tui *t = ud;
    struct tui_item *it = realloc(t->convs, (size_t)(t->n_convs + 1) * sizeof *it);
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

/* Makes sure the open conversation exists in the store (created on its first message). */
static int conv_ensure_saved(struct tui *t) {
    if (t->conv.id[0] || !t->db)
        return t->conv.id[0] ? 0 : -1;
    char *sampling = app_settings_json(&t->set);
    struct store_conv_params p = {
        .model = t->model ? t->model_path : NULL,
        .template_name = t->tmpl_name[0] ? t->tmpl_name : NULL,
        .system_prompt = t->system_prompt,
        .sampling = sampling,
    };
    char id[STORE_ID_LEN + 1];
    int rc = store_conv_new(t->db, &p, id);
    free(sampling);
    if (rc < 0) {
        store_warn(t, "new conversation");
        return -1;
    }
    snprintf(t->conv.id, sizeof t->conv.id, "%s", id);
    return 0;
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
    if (!t->model)
        return;
    char err[256];
    if (chat_prompt_new(t->model, t->tmpl_forced ? t->tmpl_name : NULL, &t->cp, err,
                        sizeof err)) {
        tui_chat_notice(t, "%s", err);
        return;
    }
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

static const char *role_name(int role) {
    return role == APP_ROLE_SYSTEM ? "system" : role == APP_ROLE_USER ? "user" : "assistant";
}

/* Renders the messages with keep[i] set with the model's template and tokenizes them, the
 * messages' text as plain text; with thinking off, the prompt asks the model not to think (the
 * template's own switch, else reasoning_prompt_no_think). Returns the token count (*out
 * malloc'd, unless out is NULL) or -1 with a notice (none when quiet); *inside: the prompt
 * leaves the reply inside its reasoning. */
static int chat_tokens(struct tui *t, const unsigned char *keep, int32_t **out, int *inside,
                       int quiet) {
    int upto = t->conv.n_msgs;
    struct chat_msg *cm = malloc((size_t)(upto + 1) * sizeof *cm);
    int n = 0;
    if (!cm)
        return -1;
    for (int i = 0; i < upto; i++) {
        const struct app_msg *m = &t->conv.msgs[i];
        if (m->role == APP_ROLE_NOTICE || !keep[i])
            continue;
        cm[n++] = (struct chat_msg){role_name(m->role), m->text, m->len,
                                    m->role == APP_ROLE_ASSISTANT ? m->think : NULL,
                                    m->role == APP_ROLE_ASSISTANT ? m->think_len : 0};
    }
    char *text = NULL, err[512];
    unsigned char *mask = NULL;
    size_t tlen = 0;
    struct chat_prompt_opts o = {1, t->set.think ? 1 : 0};
    int rc = chat_prompt_render(t->cp, cm, n, &o, &text, &tlen, &mask, err, sizeof err);
    free(cm);
    if (rc) {
        if (!quiet)
            tui_chat_notice(t, "%s", err);
        return -1;
    }
    const size_t before = tlen;
    /* a template without a switch: close a reasoning the prompt opened (built-in formats: as
     * reasoning.h does for them) */
    const int has_switch = chat_prompt_is_jinja(t->cp) ? chat_prompt_has_think_switch(t->cp)
                                                       : t->think_switch;
    if (!t->set.think && !(chat_prompt_is_jinja(t->cp) && has_switch) &&
        reasoning_prompt_no_think(&t->mk, chat_prompt_is_jinja(t->cp) ? 0 : has_switch, &text,
                                  &tlen) < 0) {
        free(text);
        free(mask);
        tui_chat_notice(t, "out of memory");
        return -1;
    }
    if (tlen != before) {   /* the added text is the template's own */
        unsigned char *nm = realloc(mask, tlen ? tlen : 1);
        if (!nm) {
            free(text);
            free(mask);
            tui_chat_notice(t, "out of memory");
            return -1;
        }
        mask = nm;
        if (tlen > before)
            memset(mask + before, 0, tlen - before);
    }
    if (inside)
        *inside = reasoning_prompt_inside(&t->mk, text, tlen);
    int32_t *toks = NULL;
    int nt = chat_prompt_tokenize(t->cp, text, tlen, mask, &toks, err, sizeof err);
    free(text);
    free(mask);
    if (nt < 0) {
        if (!quiet)
            tui_chat_notice(t, "%s", err);
        return -1;
    }
    if (out)
        *out = toks;
    else
        free(toks);
    return nt;
}

/* app_conv_fit's count: the prompt's tokens for a keep mask. */
struct fit_count {
    struct tui *t;
    int quiet;
};

static int fit_count(const unsigned char *keep, void *ud) {
    struct fit_count *f = ud;
    return chat_tokens(f->t, keep, NULL, NULL, f->quiet);
}

/* The reply's room: its length limit, at most a quarter of the context. */
static int reply_room(struct tui *t, int n_ctx) {
    return app_reply_room(t->set.n_predict, n_ctx);
}

/* ---- generation ---- */

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The splitter's output: the streaming reply's answer or reasoning, in memory and the store. */
static void chat_emit(void *ud, int part, const char *s, size_t n) {
    struct tui *t = ud;
    if (t->gen_msg < 0)
        return;
    struct app_msg *m = &t->conv.msgs[t->gen_msg];
    int saving = t->db && t->conv.id[0] && store_reply_active(t->db); /* begin may have failed */
    if (part == REASONING_THOUGHT) {
        app_msg_append_think(m, s, n);
        if (saving && store_reply_append_reasoning(t->db, s, n) < 0)
            store_warn(t, "reply");
    } else {
        app_msg_append(m, s, n);
        if (saving && store_reply_append(t->db, s, n) < 0)
            store_warn(t, "reply");
    }
}

/* The reply's reasoning ended now (or the reply did): how long it took. */
static void think_done(struct tui *t, struct app_msg *m) {
    if (m->think && m->think_ms < 0)
        m->think_ms = (mono_now() - t->gen_t0) * 1000.0;
}

int tui_chat_thinking(const struct tui *t) {
    return t->gen && t->gen_msg >= 0 && reasoning_thinking(&t->split);
}

int tui_chat_think_tokens(struct tui *t, int i) {
    struct app_msg *m = &t->conv.msgs[i];
    if (m->think && m->think_tokens < 0 && t->model && i != t->gen_msg) {
        int n = eng_tokenize(t->model, m->think, m->think_len, 0, 0, NULL, 0);
        m->think_tokens = n < 0 ? 0 : n;
    }
    return m->think_tokens;
}

/* The generation parameters of the session's settings, with the draft model if one is loaded. */
static struct eng_gen_params chat_gen_params(const struct tui *t) {
    struct eng_gen_params gp = eng_gen_default_params();
    opts_to_params(&t->set, &gp, NULL);
    gp.draft = t->draft_ctx;
    return gp;
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

/* Before a reply: the longest cached prefix of its prompt when the context holds less of it
 * (a conversation opened, a branch switched, natter started again). */
static void chat_cache_restore(struct tui *t, const int32_t *toks, int n) {
    int got = kvcache_restore(t->kvc, t->ctx, toks, n);
    if (got > 0)
        tui_chat_notice(t, "restored %d tokens of this conversation from the cache", got);
}

/* After a reply: the context as it is now, for the next start or another branch, written on
 * a thread of its own (the keys go on); whatever uses the context next waits for it
 * (chat_cache_wait). */
static void chat_cache_save(struct tui *t) {
    if (t->ctx)
        kvcache_save_async(t->kvc, t->ctx);
}

static void chat_cache_wait(struct tui *t) {
    kvcache_wait(t->kvc);
}

#define MODEL_CHANGED_HINT "/model with no name loads it again"

/* Starts a reply to the conversation as it is (its last message is the user's): fits the
 * context (app_conv_fit), then, when save_user, saves that user message (a message refused for
 * not fitting is not saved), then the reply, under the message before it in the tree. */
static int chat_generate(struct tui *t, int save_user) {
    tui_chat_prefill_stop(t);   /* what it processed stays in the context */
    if (!t->model) {
        tui_chat_notice(t, "no model loaded: F2 picks one");
        return -1;
    }
    if (t->gen)
        return -1;
    if (eng_model_check(t->model) != ENG_OK) { /* one stat: replaced or rewritten on disk */
        tui_chat_notice(t, "%s (" MODEL_CHANGED_HINT ")", eng_last_error());
        return -1;
    }
    if (!t->cp) {
        tui_chat_notice(t, "no chat template to render the conversation with");
        return -1;
    }
    const struct prompts_template *tp = chat_template(t);
    int n_ctx = eng_ctx_n_ctx(t->ctx), inside = 0, n = 0;
    unsigned char *keep = malloc((size_t)t->conv.n_msgs + 1);
    if (!keep)
        return -1;
    struct fit_count fc = {t, 0};
    int dropped = app_conv_fit(&t->conv, n_ctx, reply_room(t, n_ctx), keep, fit_count, &fc, &n);
    if (dropped == -2)
        tui_chat_notice(t, "the message does not fit in the context (%d tokens, %d max)", n,
                        n_ctx);
    int32_t *toks = NULL;
    if (dropped >= 0)
        n = chat_tokens(t, keep, &toks, &inside, 0);
    for (int i = 0; i < t->conv.n_msgs; i++)
        t->conv.msgs[i].left_out = dropped > 0 && !keep[i] && t->conv.msgs[i].role != APP_ROLE_NOTICE;
    free(keep);
    if (dropped < 0 || n < 0) {
        free(toks);
        return -1;
    }
    if (dropped)
        chat_note(t, "context full: the %d oldest message%s no longer given to the model "
                  "(the system prompt and pinned messages are kept)", dropped,
                  dropped == 1 ? " is" : "s are");
    if (save_user && conv_ensure_saved(t) == 0) {
        struct app_msg *u = &t->conv.msgs[app_conv_last(&t->conv, APP_ROLE_USER)];
        int64_t id = store_msg_add(t->db, t->conv.id, "user", u->text, chat_parent_of(t, u));
        if (id < 0)
            store_warn(t, "message");
        else
            t->store_failed = 0; /* saving works (again) */
        u->id = id > 0 ? id : 0;
        tui_chat_list_refresh(t);
    }

    struct eng_gen_params gp = chat_gen_params(t);
    if (tp) {   /* a built-in format's stop strings; a Jinja template's turns end on EOG tokens */
        gp.stop = (const char *const *)tp->stop;
        gp.n_stop = tp->n_stop;
    }
    struct app_msg *m = app_conv_add(&t->conv, APP_ROLE_ASSISTANT, "", 0);
    if (!m) {
        free(toks);
        return -1;
    }
    layout_model_name(t->model_path, 0, m->who, sizeof m->who); /* as msg_load names it */
    t->gen_msg = t->conv.n_msgs - 1;
    t->have_live = 0;
    t->prompt_pm = 0;
    t->gen_id++;
    reasoning_init(&t->split, &t->mk, inside, chat_emit, t);
    t->gen_t0 = mono_now();
    t->think_ending = 0;
    t->gen_n_before = 0;
    chat_prompt_log(toks, n);
    chat_cache_restore(t, toks, n);
    int rc = eng_gen_start(t->ctx, toks, n, &gp, t->ev_pipe[1], t->gen_id, &t->gen);
    free(toks);
    if (rc < 0) {
        tui_chat_notice(t, "generation failed: %s", eng_last_error());
        app_conv_truncate(&t->conv, t->gen_msg);
        t->gen_msg = -1;
        t->gen = NULL;
        return -1;
    }
    if (t->db && t->conv.id[0]) {
        int64_t id = store_reply_begin_at(t->db, t->conv.id, t->model_path,
                                          chat_parent_of(t, &t->conv.msgs[t->gen_msg]));
        if (id < 0)
            store_warn(t, "reply");
        t->conv.msgs[t->gen_msg].id = id > 0 ? id : 0;
        chat_tree_sync(t);
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
    if (t->gen) {
        tui_chat_notice(t, "a reply is streaming: Esc stops it");
        return -1;
    }
    int edit = t->edit_msg;
    if (edit >= 0 && edit < t->conv.n_msgs && t->conv.msgs[edit].role == APP_ROLE_ASSISTANT)
        return chat_edit_reply(t, edit, text);
    if (!t->model) {
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
    if (t->gen) {
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
    if (t->gen) {
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
    if (!t->db || !t->conv.id[0] || t->gen)
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
    t->think_ending = 0; /* Esc wins over a pending F7 */
    if (t->gen)
        eng_gen_cancel(t->gen);
}

static const char *done_reason(int32_t r) {
    switch (r) {
    case ENG_DONE_EOG: return "eog";
    case ENG_DONE_STOP: return "stop";
    case ENG_DONE_CANCELLED: return "stopped";
    default: return "length";
    }
}

/* The reply ended (DONE or ERROR): what the splitter held, stats, store, join. */
static void chat_finish(struct tui *t, const char *reason) {
    struct app_msg *m = t->gen_msg >= 0 ? &t->conv.msgs[t->gen_msg] : NULL;
    if (m) {
        reasoning_finish(&t->split);
        think_done(t, m);
        snprintf(m->finish, sizeof m->finish, "%s", reason);
        m->stopped = !strcmp(reason, "stopped");
        if (t->have_live) {
            m->has_stats = 1;
            m->n_tokens = t->live.n_gen + t->gen_n_before;
            m->n_prompt = t->live.n_prompt;
            m->n_reused = t->live.n_reused;
            m->prompt_tps = t->live.prompt_tps;
            m->gen_tps = t->live.gen_tps;
            m->ttft_ms = t->live.ttft_ms;
            m->n_drafted = t->live.n_drafted;
            m->n_accepted = t->live.n_accepted;
        }
        if (t->db && t->conv.id[0] && store_reply_active(t->db)) {
            struct store_reply_stats st = {m->has_stats ? m->n_tokens : -1,
                                           m->has_stats ? m->prompt_tps : -1,
                                           m->has_stats ? m->gen_tps : -1};
            const char *sr = !strcmp(reason, "eog") ? "stop" : reason;
            if (store_reply_finish(t->db, sr, &st) < 0)
                store_warn(t, "reply");
        }
    }
    if (t->gen) {
        eng_gen_join(t->gen);
        chat_cache_save(t);
    }
    t->gen = NULL;
    int i = t->gen_msg;
    t->gen_msg = -1;
    t->think_ending = 0;
    if (m && m->think)
        tui_chat_think_tokens(t, i);
}

void tui_chat_end_thinking(struct tui *t) {
    if (!tui_chat_thinking(t)) {
        tui_chat_notice(t, t->gen ? "the reply is not thinking" : "no reply is streaming");
        return;
    }
    char end[2 * REASONING_MARKER_LEN + 64];
    if (!reasoning_end_text(&t->mk, end, sizeof end))
        return;
    t->think_ending = 1;
    eng_gen_stop(t->gen); /* at a token boundary: the KV cache holds all that was shown */
    tui_chat_notice(t, "ending the thinking: the answer starts");
}

/* F7's second half, on the stopped reply's DONE: the prompt, the reply so far (the context's
 * tokens, exactly what was generated) and the end-of-thinking tokens, given back to the engine
 * as one prompt, so only the new tokens are processed; the splitter sees the end marker as if
 * the model had written it. The reply, its store row and its splitter go on. */
static void chat_think_continue(struct tui *t) {
    char end[2 * REASONING_MARKER_LEN + 64];
    size_t end_len = reasoning_end_text(&t->mk, end, sizeof end);
    int gen_before = t->gen_n_before + (t->have_live ? t->live.n_gen : 0);
    eng_gen_join(t->gen);
    t->gen = NULL;
    int n_past = eng_ctx_n_past(t->ctx);
    int n_end = eng_tokenize(t->model, end, end_len, 0, 1, NULL, 0);
    int32_t *toks = n_end > 0 ? malloc((size_t)(n_past + n_end) * sizeof *toks) : NULL;
    if (!toks || eng_tokenize(t->model, end, end_len, 0, 1, toks + n_past, n_end) != n_end) {
        free(toks);
        tui_chat_notice(t, "cannot end the thinking: %s", eng_last_error());
        chat_finish(t, "stopped");
        return;
    }
    memcpy(toks, eng_ctx_tokens(t->ctx), (size_t)n_past * sizeof *toks);
    for (int i = 0; i < n_end; i++) { /* the marker through the splitter, token by token */
        char piece[256];
        int32_t tok = toks[n_past + i];
        int k = eng_token_to_piece(t->model, tok, piece, (int)sizeof piece, 0);
        if (k == 0 && (k = eng_token_to_piece(t->model, tok, piece, (int)sizeof piece, 1)) > 0)
            reasoning_special(&t->split, piece, (size_t)(k < (int)sizeof piece ? k : 256));
        else if (k > 0)
            reasoning_text(&t->split, piece, (size_t)(k < (int)sizeof piece ? k : 256));
    }
    think_done(t, &t->conv.msgs[t->gen_msg]);
    struct eng_gen_params gp = chat_gen_params(t);
    const struct prompts_template *tp = chat_template(t);
    if (tp) {
        gp.stop = (const char *const *)tp->stop;
        gp.n_stop = tp->n_stop;
    }
    if (gp.n_predict > 0) /* the reply's length limit counts both parts */
        gp.n_predict = gp.n_predict > gen_before ? gp.n_predict - gen_before : 1;
    t->gen_n_before = gen_before;
    t->think_ending = 0;
    t->have_live = 0;
    t->gen_id++;
    int rc = eng_gen_start(t->ctx, toks, n_past + n_end, &gp, t->ev_pipe[1], t->gen_id, &t->gen);
    free(toks);
    if (rc < 0) {
        t->gen = NULL;
        tui_chat_notice(t, "generation failed: %s", eng_last_error());
        chat_finish(t, "error");
    }
}

/* Handles one frame. Returns TUI_REDRAW when something visible changed. */
static int chat_frame(struct tui *t, const struct eng_frame *h, const unsigned char *p) {
    if (h->gen_id != t->gen_id || !t->gen)
        return TUI_OK; /* a stale frame from an earlier reply */
    struct app_msg *m = &t->conv.msgs[t->gen_msg];
    switch (h->type) {
    case ENG_EV_TOKEN:
    case ENG_EV_SPECIAL:
        if (h->type == ENG_EV_TOKEN)
            reasoning_text(&t->split, (const char *)p, h->len);
        else if (h->len >= 4) /* a control token: never shown, maybe a marker */
            reasoning_special(&t->split, (const char *)p + 4, h->len - 4u);
        if (!reasoning_thinking(&t->split))
            think_done(t, m);
        return TUI_REDRAW;
    case ENG_EV_STATS:
        if (h->len >= sizeof t->live) {
            memcpy(&t->live, p, sizeof t->live);
            t->have_live = 1;
        }
        return TUI_REDRAW;
    case ENG_EV_DONE: {
        int32_t r = ENG_DONE_EOG;
        if (h->len >= sizeof r)
            memcpy(&r, p, sizeof r);
        if (r == ENG_DONE_CANCELLED && t->think_ending) {
            chat_think_continue(t);
            return TUI_REDRAW;
        }
        if (r == ENG_DONE_CTX_FULL)
            tui_chat_notice(t, "the context is full: the reply was cut");
        chat_finish(t, done_reason(r));
        return TUI_REDRAW;
    }
    case ENG_EV_ERROR: {
        int32_t code = 0;
        if (h->len >= sizeof code)
            memcpy(&code, p, sizeof code);
        int ml = h->len > sizeof code ? (int)(h->len - sizeof code) : 0;
        if (code == ENG_E_CHANGED) /* the reply so far is kept, marked (error) */
            tui_chat_notice(t, "%.*s (" MODEL_CHANGED_HINT ")", ml, (const char *)p + sizeof code);
        else
            tui_chat_notice(t, "generation error: %.*s", ml, (const char *)p + sizeof code);
        chat_finish(t, "error");
        return TUI_REDRAW;
    }
    case ENG_EV_PROGRESS: {
        int32_t stage = -1;
        float frac = 0;
        if (h->len >= sizeof stage + sizeof frac) {
            memcpy(&stage, p, sizeof stage);
            memcpy(&frac, p + sizeof stage, sizeof frac);
        }
        if (stage == ENG_PROGRESS_PROMPT)
            t->prompt_pm = frac <= 0 ? 0 : frac >= 1 ? 1000 : (int)(frac * 1000);
        return TUI_REDRAW;
    }
    default:
        return TUI_OK;
    }
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

void tui_chat_stop_sync(struct tui *t) {
    tui_chat_prefill_stop(t);
    chat_cache_wait(t);
    if (!t->gen)
        return;
    t->think_ending = 0;
    eng_gen_cancel(t->gen);
    struct eng_frame h;
    unsigned char payload[ENG_FRAME_MAX + 1];
    while (t->gen && eng_frame_read(t->ev_pipe[0], &h, payload) == 1)
        chat_frame(t, &h, payload);
    if (t->gen) /* the pipe failed: still end the reply */
        chat_finish(t, "stopped");
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
    return !t->gen && !t->load && ledger_sig(t) != t->ledger_sig;
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
    int n_tok = 0, n_ctx = eng_ctx_n_ctx(t->ctx), r = -1;
    struct app_conv whole = t->conv, view = {.n_msgs = n, .cap_msgs = n + 1};
    view.msgs = malloc((size_t)(n + 1) * sizeof *view.msgs);
    unsigned char *keep = malloc((size_t)n + 1);
    if (view.msgs && keep) {
        if (n)
            memcpy(view.msgs, whole.msgs, (size_t)n * sizeof *view.msgs);
        if (app_conv_add(&view, APP_ROLE_USER, d, strlen(d))) {
            struct fit_count fc = {t, 1};
            t->conv = view;
            r = app_conv_fit(&t->conv, n_ctx, reply_room(t, n_ctx), keep, fit_count, &fc, &n_tok);
            t->conv = whole;
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

#define PREFILL_GEN_ID 0          /* never a reply's (those count from 1): its frames are dropped */
#define PREFILL_REST_S 0.25       /* the draft rests this long before it is processed */
#define PREFILL_CHUNK 16          /* tokens per decode call: a cancel waits for one layer of it */

void tui_chat_prefill_stop(struct tui *t) {
    if (!t->prefill)
        return;
    eng_gen_cancel(t->prefill);
    eng_gen_join(t->prefill);   /* its frames are still in ev_pipe: chat_frame drops them */
    t->prefill = NULL;
}

int tui_chat_prefill_wait_ms(const struct tui *t) {
    if (!t->draft_seen || t->draft_t < 0 || t->gen)
        return -1;
    double left = t->draft_t + PREFILL_REST_S - mono_now();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* The tokens of the conversation with text as a new user message into *out (caller frees):
 * their count, or -1. The message is added for the rendering and removed again. */
static int prefill_tokens(struct tui *t, const char *text, size_t len, int32_t **out) {
    const int n_msgs = t->conv.n_msgs, gen_msg = t->gen_msg;
    if (!app_conv_add(&t->conv, APP_ROLE_USER, text, len))
        return -1;
    /* the messages the turn would give the model (as chat_generate fits them), quietly */
    int n = -1, inside = 0, n_fit = 0;
    const int n_ctx = eng_ctx_n_ctx(t->ctx);
    unsigned char *keep = malloc((size_t)t->conv.n_msgs + 1);
    struct fit_count fc = {t, 1};
    if (keep && app_conv_fit(&t->conv, n_ctx, reply_room(t, n_ctx), keep, fit_count, &fc,
                             &n_fit) >= 0)
        n = chat_tokens(t, keep, out, &inside, 1);
    free(keep);
    app_conv_truncate(&t->conv, n_msgs);
    t->gen_msg = gen_msg;
    return n;
}

/* Starts processing the tokens the draft's stable prefix s (len bytes) is sure to give: the
 * common prefix of the conversation rendered with s and with s and a word more, less one. */
static void prefill_start(struct tui *t, const char *s, size_t len) {
    chat_cache_wait(t);   /* the context is read by a snapshot being written */
    char *more = malloc(len + 3);
    if (!more)
        return;
    memcpy(more, s, len);
    memcpy(more + len, "zq", 3);
    int32_t *a = NULL, *b = NULL;
    int na = prefill_tokens(t, s, len, &a), nb = na > 0 ? prefill_tokens(t, more, len + 2, &b) : -1;
    free(more);
    int n = 0;
    while (n < na && n < nb && a[n] == b[n])
        n++;
    n--;   /* the last common token may still merge with what follows */
    const int n_ctx = eng_ctx_n_ctx(t->ctx);
    const int room = t->set.n_predict > 0 && t->set.n_predict < n_ctx / 4 ? t->set.n_predict
                                                                         : n_ctx / 4;
    const int32_t *have = eng_ctx_tokens(t->ctx);
    int same = 0, n_have = eng_ctx_n_past(t->ctx);
    while (same < n_have && same < n && have[same] == a[same])
        same++;
    if (n > same && n + room <= n_ctx) {   /* something new (after an edit: from where it differs) */
        struct eng_gen_params gp = eng_gen_default_params();
        gp.prefill_only = 1;
        gp.prompt_chunk = PREFILL_CHUNK;
        chat_cache_restore(t, a, n);   /* a conversation just opened: its snapshot first */
        t->prefill_n0 = eng_ctx_n_past(t->ctx);
        if (eng_gen_start(t->ctx, a, n, &gp, t->ev_pipe[1], PREFILL_GEN_ID, &t->prefill) != ENG_OK)
            t->prefill = NULL;
    }
    free(a);
    free(b);
}

void tui_chat_prefill_tick(struct tui *t, const char *draft) {
    if (!draft || !t->model || !t->cp || t->gen || t->load || t->edit_msg >= 0 ||
        draft[0] == '/' || eng_ctx_rs_bytes(t->ctx, NULL) > 0) {
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
    tui_chat_prefill_stop(t);   /* what it did that still matches is kept */
    prefill_start(t, draft, len);
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

struct model_find {
    const char *name;
    char path[4096];
};

static int model_find_cb(const char *path, void *ud) {
    struct model_find *f = ud;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(f->name);
    if (strcmp(base, f->name) && !(strncmp(base, f->name, n) == 0 && !strcmp(base + n, ".gguf")))
        return 0;
    tui_copy(f->path, sizeof f->path, path);
    return 1;
}

void tui_chat_model_load(struct tui *t, const char *path) {
    struct model_find f = {path, ""};
    if (!strchr(path, '/') && access(path, R_OK) != 0 && paths_models_each(model_find_cb, &f))
        path = f.path; /* a name from the model search path, with or without .gguf */
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
    chat_prompt_free(t->cp);   /* made again for the new model below */
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
    if (t->db) {
        store_setting_set(t->db, STORE_SETTING_LAST_MODEL, t->model_path);
        if (t->conv.id[0]) {
            store_conv_set_model(t->db, t->conv.id, t->model_path);
            store_conv_set_template(t->db, t->conv.id, t->tmpl_name);
        }
    }
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

void tui_chat_models(struct tui *t, int rescan) {
    tui_items_clear(t);
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
            if (t->gen_msg > 0)
                t->gen_msg--;
        }
    } else if (t->system_prompt && !t->gen) {
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

static int msg_load(const struct store_msg *sm, void *ud) {
    struct tui *t = ud;
    int role = !strcmp(sm->role, "user") ? APP_ROLE_USER
             : !strcmp(sm->role, "assistant") ? APP_ROLE_ASSISTANT
             : !strcmp(sm->role, "system") ? APP_ROLE_SYSTEM : APP_ROLE_NOTICE;
    struct app_msg *m = app_conv_add(&t->conv, role, sm->content, sm->content_len);
    if (!m || (sm->reasoning && app_msg_append_think(m, sm->reasoning, sm->reasoning_len)))
        return 1;
    msg_tree_set(m, sm);
    if (role == APP_ROLE_ASSISTANT) {
        if (sm->model && sm->model[0]) /* the file's base name, without .gguf */
            layout_model_name(sm->model, 0, m->who, sizeof m->who);
        snprintf(m->finish, sizeof m->finish, "%s", sm->finish ? sm->finish : "");
        m->stopped = sm->finish && !strcmp(sm->finish, "stopped");
        if (sm->n_tokens >= 0 && sm->gen_tps >= 0) {
            m->has_stats = 1;
            m->n_tokens = sm->n_tokens;
            m->n_prompt = -1;
            m->prompt_tps = (float)sm->prompt_tps;
            m->gen_tps = (float)sm->gen_tps;
            m->ttft_ms = -1;
        }
    }
    return 0;
}

int tui_chat_open(struct tui *t, const char *id) {
    if (!t->db)
        return -1;
    char full[STORE_ID_LEN + 1];
    if (store_conv_resolve(t->db, id, full) < 0) {
        tui_chat_notice(t, "%s", store_errmsg(t->db));
        return -1;
    }
    struct store_conv c;
    memset(&c, 0, sizeof c);
    if (store_conv_get(t->db, full, &c) < 0) {
        tui_chat_notice(t, "%s", store_errmsg(t->db));
        return -1;
    }
    tui_chat_stop_sync(t);
    app_conv_clear(&t->conv);
    tui_wrap_free(t);
    t->edit_msg = -1;
    t->sel_msg = -1;
    snprintf(t->conv.id, sizeof t->conv.id, "%s", c.id);
    snprintf(t->conv.title, sizeof t->conv.title, "%s", c.title ? c.title : "");
    free(t->system_prompt);
    t->system_prompt = c.system_prompt && c.system_prompt[0] ? strdup(c.system_prompt) : NULL;
    if (t->system_prompt)
        app_conv_add(&t->conv, APP_ROLE_SYSTEM, t->system_prompt, strlen(t->system_prompt));
    char restored[256] = ""; /* its sampling settings, as it was last used */
    if (!t->set_session) /* the session's, for the next new chat */
        t->set_session = app_settings_json(&t->set);
    if (c.sampling)
        app_settings_from_json(&t->set, c.sampling, strlen(c.sampling), restored,
                               sizeof restored);
    store_conv_clear(&c);
    if (store_msg_each(t->db, full, msg_load, t) < 0)
        tui_chat_notice(t, "%s", store_errmsg(t->db));
    else if (restored[0])
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
    char def[64], *json = NULL;
    if (!path || !*path) {
        snprintf(def, sizeof def, "natter-%s.json", t->conv.id);
        path = def;
    }
    if (store_export_json(t->db, t->conv.id, &json) < 0) {
        tui_chat_notice(t, "export: %s", store_errmsg(t->db));
        return -1;
    }
    FILE *f = fopen(path, "w");
    int ok = f && fputs(json, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    free(json);
    if (!ok) {
        tui_chat_notice(t, "export: %s: %s", path, strerror(errno));
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
