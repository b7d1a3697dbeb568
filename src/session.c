/* src/session.c — a chat turn (session.h): fit, save the user message, start the backend,
 * split and save the reply as its frames arrive, end it. The thread that owns the session. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct session {
    struct session_params p;
    char *model, *who;
    struct reasoning split;
    struct reasoning_markers no_markers; /* a backend whose replies come split */
    struct session_live live;
    struct session_end end;
    double t0;
    int saving;        /* the reply has a store row */
};

static double session_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void session_save_failed(struct session *s, const char *what) {
    s->end.save_failures++;
    if (s->p.save_failed)
        s->p.save_failed(s->p.ud, what, s->p.db ? store_errmsg(s->p.db) : "no database");
}

static char *session_strdup(const char *t) { return t ? strdup(t) : NULL; }

int session_new(const struct session_params *p, struct session **out) {
    struct session *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return -1;
    s->p = *p;
    s->live.msg = -1;
    s->end.reason = -1;
    reasoning_markers_family(&s->no_markers, "none");
    session_set_backend(s, p->backend, p->model, p->who);
    if ((p->model && !s->model) || (p->who && !s->who)) {
        session_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void session_set_backend(struct session *s, struct backend *b, const char *model,
                         const char *who) {
    char *m = session_strdup(model), *w = session_strdup(who);
    free(s->model);
    free(s->who);
    s->model = m;
    s->who = w;
    s->p.backend = b;
    s->p.model = m;
    s->p.who = w;
}

void session_free(struct session *s) {
    if (!s)
        return;
    if (s->live.running && s->p.backend) {
        backend_cancel(s->p.backend);
        backend_join(s->p.backend);
    }
    free(s->model);
    free(s->who);
    free(s);
}

int session_msgs(const struct app_conv *conv, const unsigned char *keep, struct chat_msg **out) {
    struct chat_msg *cm = malloc((size_t)(conv->n_msgs + 1) * sizeof *cm);
    int n = 0;
    *out = cm;
    if (!cm)
        return -1;
    for (int i = 0; i < conv->n_msgs; i++) {
        const struct app_msg *m = &conv->msgs[i];
        if (m->role == APP_ROLE_NOTICE || (keep && !keep[i]))
            continue;
        const int a = m->role == APP_ROLE_ASSISTANT;
        cm[n++] = (struct chat_msg){app_role_name(m->role), m->text, m->len,
                                    a ? m->think : NULL, a ? m->think_len : 0};
    }
    return n;
}

/* app_conv_fit's count: the backend's tokens for the messages of keep. */
struct session_count {
    struct session *s;
    const struct app_conv *conv;
    char *err;
    size_t err_len;
};

static int session_count_cb(const unsigned char *keep, void *ud) {
    struct session_count *c = ud;
    struct chat_msg *cm = NULL;
    int n = session_msgs(c->conv, keep, &cm);
    if (n < 0) {
        snprintf(c->err, c->err_len, "out of memory");
        return -1;
    }
    struct backend_request rq = {cm, n, NULL, 0, c->s->p.set, NULL, 0, NULL, 0, 0};
    int r = backend_count(c->s->p.backend, &rq, c->err, c->err_len);
    free(cm);
    return r < 0 ? -1 : r;
}

int session_fit(struct session *s, const struct app_conv *conv, unsigned char *keep,
                int *n_tokens, char *err, size_t err_len) {
    if (!conv)
        conv = s->p.conv;
    const int n_ctx = backend_n_ctx(s->p.backend);
    if (n_ctx <= 0 || !s->p.backend->ops->count) {
        for (int i = 0; i < conv->n_msgs; i++)
            keep[i] = conv->msgs[i].role != APP_ROLE_NOTICE;
        *n_tokens = -1;
        return 0;
    }
    struct session_count c = {s, conv, err, err_len};
    int r = app_conv_fit(conv, n_ctx, app_reply_room(s->p.set->n_predict, n_ctx), keep,
                         session_count_cb, &c, n_tokens);
    if (r == -2)
        snprintf(err, err_len, "the message does not fit in the context (%d tokens, %d max)",
                 *n_tokens, n_ctx);
    return r;
}

/* The store parent for message m: the message before it (system prompt and notices aside),
 * STORE_PARENT_ROOT when there is none, 0 (the active path's end) when that one is not saved. */
static int64_t session_parent_of(const struct app_conv *c, const struct app_msg *m) {
    for (const struct app_msg *p = m - 1; p >= c->msgs; p--)
        if (p->role == APP_ROLE_USER || p->role == APP_ROLE_ASSISTANT)
            return p->id;
    return STORE_PARENT_ROOT;
}

/* The splitter's output: the reply's answer or reasoning, in memory and the store. */
static void session_emit(void *ud, int part, const char *t, size_t n) {
    struct session *s = ud;
    if (s->live.msg < 0)
        return;
    struct app_msg *m = &s->p.conv->msgs[s->live.msg];
    if (part == REASONING_THOUGHT) {
        if (app_msg_append_think(m, t, n) != 0 && s->p.save_failed)
            s->p.save_failed(s->p.ud, "reply", "out of memory");
        if (s->saving && store_reply_append_reasoning(s->p.db, t, n) < 0)
            session_save_failed(s, "reply");
    } else {
        if (app_msg_append(m, t, n) != 0 && s->p.save_failed)
            s->p.save_failed(s->p.ud, "reply", "out of memory");
        if (s->saving && store_reply_append(s->p.db, t, n) < 0)
            session_save_failed(s, "reply");
    }
    if (s->p.emit)
        s->p.emit(s->p.ud, part, t, n);
}

/* The conversation in the store, created when it is not yet; 0 or -1 (reported). */
static int session_conv_saved(struct session *s, const struct session_turn *turn) {
    struct app_conv *c = s->p.conv;
    if (c->id[0])
        return 0;
    if (!turn->create)
        return -1;
    char id[STORE_ID_LEN + 1];
    if (store_conv_new(s->p.db, turn->create, id) < 0) {
        session_save_failed(s, "new conversation");
        return -1;
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    return 0;
}

int session_start(struct session *s, const struct session_turn *turn, struct session_started *st,
                  char *err, size_t err_len) {
    struct app_conv *c = s->p.conv;
    memset(st, 0, sizeof *st);
    st->n_tokens = -1;
    s->end = (struct session_end){.reason = -1};
    if (!s->p.backend) {
        snprintf(err, err_len, "no model loaded");
        return -1;
    }
    if (s->live.running) {
        snprintf(err, err_len, "a reply is streaming");
        return -1;
    }
    int u = app_conv_last(c, APP_ROLE_USER);
    if (u < 0 && !turn->raw) {
        snprintf(err, err_len, "nothing to reply to");
        return -1;
    }
    unsigned char *keep = malloc((size_t)c->n_msgs + 1);
    struct chat_msg *cm = NULL;
    int n = 0;
    if (!keep) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int dropped = turn->raw ? 0 : session_fit(s, c, keep, &st->n_tokens, err, err_len);
    if (dropped >= 0 && !turn->raw && (n = session_msgs(c, keep, &cm)) < 0) {
        snprintf(err, err_len, "out of memory");
        dropped = -1;
    }
    for (int i = 0; i < c->n_msgs; i++)
        c->msgs[i].left_out = dropped > 0 && !keep[i] && c->msgs[i].role != APP_ROLE_NOTICE;
    free(keep);
    if (dropped < 0) {
        free(cm);
        return -1;
    }
    st->dropped = dropped;
    if (turn->fitted)
        turn->fitted(turn->ud, dropped);
    const int save = s->p.db && session_conv_saved(s, turn) == 0;
    if (save && turn->save_user && u >= 0) {
        struct app_msg *um = &c->msgs[u];
        int64_t id = store_msg_add_len(s->p.db, c->id, "user", um->text, um->len, NULL, 0,
                                       session_parent_of(c, um));
        if (id < 0)
            session_save_failed(s, "message");
        um->id = id > 0 ? id : 0;
    }
    struct app_msg *m = app_conv_add(c, APP_ROLE_ASSISTANT, "", 0);
    if (!m) {
        free(cm);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (s->who)
        snprintf(m->who, sizeof m->who, "%s", s->who);
    s->live = (struct session_live){.msg = c->n_msgs - 1, .gen_id = s->live.gen_id + 1};
    struct backend_request rq = {cm, n, turn->raw, turn->raw_len, s->p.set, NULL, 0, NULL, 0, 0};
    int rc = backend_start(s->p.backend, &rq, s->p.fd, s->live.gen_id, &st->b, err, err_len);
    free(cm);
    if (rc != 0) {
        app_conv_truncate(c, s->live.msg);
        s->live.msg = -1;
        return -1;
    }
    const struct reasoning_markers *mk = backend_markers(s->p.backend);
    reasoning_init(&s->split, mk ? mk : &s->no_markers, st->b.inside, session_emit, s);
    s->live.running = 1;
    s->t0 = session_now();
    s->saving = 0;
    if (save) {
        struct app_msg *r = &c->msgs[s->live.msg];
        int64_t id = store_reply_begin_at(s->p.db, c->id, s->model, session_parent_of(c, r));
        if (id < 0)
            session_save_failed(s, "reply");
        r->id = id > 0 ? id : 0;
        s->saving = id > 0;
    }
    return 0;
}

const struct session_live *session_live(const struct session *s) { return &s->live; }
const struct session_end *session_ended(const struct session *s) { return &s->end; }

double session_elapsed_ms(const struct session *s) { return (session_now() - s->t0) * 1000.0; }

/* The reply's reasoning ended now (or the reply did): how long it took. */
static void session_think_done(struct session *s, struct app_msg *m) {
    if (m->think && m->think_ms < 0)
        m->think_ms = session_elapsed_ms(s);
}

/* The reply ended with reason (enum eng_done_reason, -1: an error): stats, store, join. */
static void session_finish(struct session *s, int32_t reason) {
    struct app_msg *m = s->live.msg >= 0 ? &s->p.conv->msgs[s->live.msg] : NULL;
    s->end.reason = reason;
    if (m) {
        reasoning_finish(&s->split);
        session_think_done(s, m);
        snprintf(m->finish, sizeof m->finish, "%s", reason < 0 ? "error"
                                                               : app_finish_name(reason));
        m->stopped = reason == ENG_DONE_CANCELLED;
        if (s->live.have_stats) {
            const struct eng_stats *l = &s->live.stats;
            m->has_stats = 1;
            m->n_tokens = l->n_gen + s->live.n_before;
            m->n_prompt = l->n_prompt;
            m->n_reused = l->n_reused;
            m->prompt_tps = l->prompt_tps;
            m->gen_tps = l->gen_tps;
            m->ttft_ms = l->ttft_ms;
            m->n_drafted = l->n_drafted;
            m->n_accepted = l->n_accepted;
        }
        if (s->saving) {
            struct store_reply_stats st = {m->has_stats ? m->n_tokens : -1,
                                           m->has_stats ? m->prompt_tps : -1,
                                           m->has_stats ? m->gen_tps : -1};
            if (store_reply_finish(s->p.db, app_finish_store(m->finish), &st) < 0)
                session_save_failed(s, "reply");
            s->saving = 0;
        }
    }
    backend_join(s->p.backend);
    s->live.running = 0;
    s->live.think_ending = 0;
    s->live.msg = -1;
}

/* F7's second half, on the stopped reply's DONE: the reply goes on after the end marker. */
static void session_think_continue(struct session *s) {
    char end[2 * REASONING_MARKER_LEN + 64], err[256];
    const struct reasoning_markers *mk = backend_markers(s->p.backend);
    size_t end_len = mk ? reasoning_end_text(mk, end, sizeof end) : 0;
    int before = s->live.n_before + (s->live.have_stats ? s->live.stats.n_gen : 0);
    backend_join(s->p.backend);
    int n_predict = s->p.set->n_predict; /* the reply's length limit counts both parts */
    if (n_predict > 0)
        n_predict = n_predict > before ? n_predict - before : 1;
    s->live.n_before = before;
    s->live.think_ending = 0;
    s->live.have_stats = 0;
    s->live.gen_id++;
    if (backend_resume(s->p.backend, end, end_len, s->p.set, n_predict, s->p.fd,
                       s->live.gen_id, err, sizeof err) != 0) {
        s->end.code = ENG_E_ARG;
        snprintf(s->end.error, sizeof s->end.error, "%s", err);
        session_finish(s, ENG_DONE_CANCELLED);
        return;
    }
    session_think_done(s, &s->p.conv->msgs[s->live.msg]);
}

int session_frame(struct session *s, const struct eng_frame *h, const void *payload) {
    const unsigned char *p = payload;
    if (!s->live.running || h->gen_id != s->live.gen_id)
        return SESSION_EV_NONE; /* a stale frame from an earlier reply */
    struct app_msg *m = &s->p.conv->msgs[s->live.msg];
    switch (h->type) {
    case ENG_EV_TOKEN:
        reasoning_text(&s->split, (const char *)p, h->len);
        break;
    case ENG_EV_SPECIAL:
        if (h->len >= 4) /* a control token: never shown, maybe a marker */
            reasoning_special(&s->split, (const char *)p + 4, h->len - 4u);
        break;
    case BACKEND_EV_REASONING:
        session_emit(s, REASONING_THOUGHT, (const char *)p, h->len);
        return SESSION_EV_TEXT;
    case ENG_EV_STATS:
        if (h->len >= sizeof s->live.stats) {
            memcpy(&s->live.stats, p, sizeof s->live.stats);
            s->live.have_stats = 1;
        }
        return SESSION_EV_STATS;
    case ENG_EV_PROGRESS: {
        int32_t stage = -1;
        float frac = 0;
        if (h->len >= sizeof stage + sizeof frac) {
            memcpy(&stage, p, sizeof stage);
            memcpy(&frac, p + sizeof stage, sizeof frac);
        }
        if (stage == ENG_PROGRESS_PROMPT)
            s->live.prompt_pm = frac <= 0 ? 0 : frac >= 1 ? 1000 : (int)(frac * 1000);
        return SESSION_EV_PROGRESS;
    }
    case ENG_EV_DONE: {
        int32_t r = ENG_DONE_EOG;
        if (h->len >= sizeof r)
            memcpy(&r, p, sizeof r);
        if (r == ENG_DONE_CANCELLED && s->live.think_ending) {
            session_think_continue(s);
            return s->live.running ? SESSION_EV_TEXT : SESSION_EV_DONE;
        }
        session_finish(s, r);
        return SESSION_EV_DONE;
    }
    case ENG_EV_ERROR: {
        int32_t code = 0;
        if (h->len >= sizeof code)
            memcpy(&code, p, sizeof code);
        int ml = h->len > sizeof code ? (int)(h->len - sizeof code) : 0;
        s->end.code = code;
        snprintf(s->end.error, sizeof s->end.error, "%.*s", ml, (const char *)p + sizeof code);
        session_finish(s, -1); /* the reply so far is kept, marked (error) */
        return SESSION_EV_ERROR;
    }
    default:
        return SESSION_EV_NONE;
    }
    s->live.thinking = reasoning_thinking(&s->split);
    if (!s->live.thinking)
        session_think_done(s, m);
    return SESSION_EV_TEXT;
}

int session_prefill(struct session *s, const char *draft, size_t len, char *err, size_t err_len) {
    struct app_conv *c = s->p.conv;
    const int n_msgs = c->n_msgs;
    session_prefill_stop(s);
    if (s->live.running || !s->p.backend || !s->p.backend->ops->prefill)
        return 0;
    struct app_msg *u = app_conv_add(c, APP_ROLE_USER, draft, len);
    unsigned char *keep = u ? malloc((size_t)c->n_msgs) : NULL;
    struct chat_msg *m1 = NULL, *m2 = NULL;
    int n_tok = 0, rc = -1, n1 = -1, n2 = -1;
    snprintf(err, err_len, "out of memory");
    if (keep && session_fit(s, c, keep, &n_tok, err, err_len) >= 0 &&
        app_msg_append(&c->msgs[n_msgs], "zq", 2) == 0 && (n1 = session_msgs(c, keep, &m1)) > 0)
        n2 = session_msgs(c, keep, &m2); /* the draft with a word more */
    if (n1 > 0 && n2 > 0) {
        m1[n1 - 1].content_len = len; /* the draft itself: the same text, before the word */
        struct backend_request a = {m1, n1, NULL, 0, s->p.set, NULL, 0, NULL, 0, 0};
        struct backend_request a2 = {m2, n2, NULL, 0, s->p.set, NULL, 0, NULL, 0, 0};
        const int n_ctx = backend_n_ctx(s->p.backend);
        rc = backend_prefill(s->p.backend, &a, &a2, app_reply_room(s->p.set->n_predict, n_ctx),
                             s->p.fd, &s->live.prefill_n0, err, err_len);
        s->live.prefilling = rc == 1;
    }
    free(m1);
    free(m2);
    free(keep);
    app_conv_truncate(c, n_msgs);
    return rc;
}

void session_prefill_stop(struct session *s) {
    if (s->p.backend)
        backend_prefill_stop(s->p.backend);
    s->live.prefilling = 0;
}

int session_flush(struct session *s) {
    if (!s->saving || store_reply_flush(s->p.db) >= 0)
        return 0;
    session_save_failed(s, "reply");
    return -1;
}

void session_cancel(struct session *s) {
    s->live.think_ending = 0; /* Esc wins over a pending F7 */
    if (s->live.running)
        backend_cancel(s->p.backend);
}

int session_end_thinking(struct session *s, char *err, size_t err_len) {
    char end[2 * REASONING_MARKER_LEN + 64];
    const struct reasoning_markers *mk = backend_markers(s->p.backend);
    if (!s->live.running || !s->live.thinking) {
        snprintf(err, err_len, s->live.running ? "the reply is not thinking"
                                               : "no reply is streaming");
        return -1;
    }
    if (!mk || !reasoning_end_text(mk, end, sizeof end) || !s->p.backend->ops->resume) {
        snprintf(err, err_len, "this reply's thinking cannot be ended");
        return -1;
    }
    s->live.think_ending = 1;
    backend_stop(s->p.backend); /* at a token boundary: the context holds all that was shown */
    return 0;
}

void session_stop_sync(struct session *s, int rfd) {
    if (!s->live.running)
        return;
    session_cancel(s);
    struct eng_frame h;
    unsigned char payload[ENG_FRAME_MAX + 1];
    while (s->live.running && eng_frame_read(rfd, &h, payload) == 1)
        session_frame(s, &h, payload);
    if (s->live.running) /* the pipe failed: still end the reply */
        session_finish(s, ENG_DONE_CANCELLED);
}

static int session_load_msg(const struct store_msg *sm, void *ud) {
    struct app_conv *c = ud;
    int role = app_role_parse(sm->role);
    struct app_msg *m = app_conv_add(c, role < 0 ? APP_ROLE_NOTICE : role, sm->content,
                                     sm->content_len);
    if (!m || (sm->reasoning && app_msg_append_think(m, sm->reasoning, sm->reasoning_len)))
        return 1;
    m->id = sm->id;
    m->parent = sm->parent;
    m->sib = sm->sib;
    m->n_sibs = sm->n_sibs;
    m->pinned = sm->pinned;
    if (role == APP_ROLE_ASSISTANT) {
        if (sm->model && sm->model[0])
            app_model_short_name(sm->model, m->who, sizeof m->who);
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

int session_conv_load(store *db, const char *id, struct app_conv *conv, char *model,
                      size_t model_len, char *err, size_t err_len) {
    char full[STORE_ID_LEN + 1];
    struct store_conv c;
    memset(&c, 0, sizeof c);
    if (store_conv_resolve(db, id, full) < 0 || store_conv_get(db, full, &c) < 0) {
        snprintf(err, err_len, "%s", store_errmsg(db));
        return -1;
    }
    app_conv_clear(conv);
    snprintf(conv->id, sizeof conv->id, "%s", c.id);
    snprintf(conv->title, sizeof conv->title, "%s", c.title ? c.title : "");
    if (model)
        snprintf(model, model_len, "%s", c.model ? c.model : "");
    int bad = c.system_prompt && c.system_prompt[0] &&
              !app_conv_add(conv, APP_ROLE_SYSTEM, c.system_prompt, strlen(c.system_prompt));
    store_conv_clear(&c);
    int r = bad ? 1 : store_msg_each(db, full, session_load_msg, conv);
    if (r < 0)
        snprintf(err, err_len, "%s", store_errmsg(db));
    else if (r > 0)
        snprintf(err, err_len, "out of memory");
    return r ? -1 : 0;
}
