/* src/backend.c — the backend interface's checks (backend.h) and the in-process engine
 * backend: a conversation made into tokens once (chat_prompt_tokens), the longest snapshot
 * restored (src/kvcache.h), generated on the engine's own thread (eng_gen_start), which
 * writes the frames. Called from the thread that owns the backend; cancel/stop from any. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fdio.h"
#include "kvcache.h"
#include "opts.h"

static int backend_fail(char *err, size_t err_len, const char *what) {
    if (err && err_len)
        snprintf(err, err_len, "%s", what);
    return -1;
}

int backend_count(struct backend *b, const struct backend_request *rq, char *err,
                  size_t err_len) {
    return b->ops->count ? b->ops->count(b, rq, err, err_len) : -2;
}

int backend_n_ctx(const struct backend *b) { return b->ops->n_ctx ? b->ops->n_ctx(b) : 0; }

const struct reasoning_markers *backend_markers(const struct backend *b) {
    return b->ops->markers ? b->ops->markers(b) : NULL;
}

int backend_start(struct backend *b, const struct backend_request *rq, int fd, uint32_t gen_id,
                  struct backend_started *st, char *err, size_t err_len) {
    if (b->running)
        return backend_fail(err, err_len, "a reply is already running");
    memset(st, 0, sizeof *st);
    if (b->ops->start(b, rq, fd, gen_id, st, err, err_len) != 0)
        return -1;
    b->running = 1;
    return 0;
}

int backend_resume(struct backend *b, const char *text, size_t len,
                   const struct app_settings *set, int n_predict, int fd, uint32_t gen_id,
                   char *err, size_t err_len) {
    if (!b->ops->resume)
        return backend_fail(err, err_len, "this backend cannot continue a reply");
    if (b->running)
        return backend_fail(err, err_len, "a reply is already running");
    if (b->ops->resume(b, text, len, set, n_predict, fd, gen_id, err, err_len) != 0)
        return -1;
    b->running = 1;
    return 0;
}

int backend_prefill(struct backend *b, const struct backend_request *a,
                    const struct backend_request *a2, int room, int fd, int *n0, char *err,
                    size_t err_len) {
    if (!b->ops->prefill || b->running)
        return 0;
    return b->ops->prefill(b, a, a2, room, fd, n0, err, err_len);
}

void backend_prefill_stop(struct backend *b) {
    if (b->ops->prefill_stop)
        b->ops->prefill_stop(b);
}

void backend_cancel(struct backend *b) {
    if (b->running)
        b->ops->cancel(b);
}

void backend_stop(struct backend *b) {
    if (b->running)
        (b->ops->stop ? b->ops->stop : b->ops->cancel)(b);
}

int backend_join(struct backend *b) {
    if (!b->running)
        return 0;
    b->running = 0;
    return b->ops->join(b);
}

int backend_models(struct backend *b, char ***names, int *n, char *err, size_t err_len) {
    *names = NULL;
    *n = 0;
    if (!b->ops->models)
        return backend_fail(err, err_len, "this backend has no list of models");
    return b->ops->models(b, names, n, err, err_len);
}

void backend_models_free(char **names, int n) {
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void backend_free(struct backend *b) {
    if (!b)
        return;
    backend_cancel(b);
    backend_join(b);
    b->ops->free(b);
}

/* ---- the engine ---- */

struct backend_engine {
    struct backend base;
    eng_model *m;
    eng_ctx *c, *dc;
    chat_prompt *cp;
    kvcache *kc;
    struct reasoning_markers mk;
    eng_gen *gen;
    eng_gen *prefill;   /* a type-ahead prefill running on c, or NULL */
};

static struct backend_engine *be_of(const struct backend *b) {
    return (struct backend_engine *)b;
}

/* The request's tokens: raw text as llama-cli tokenizes it, or the conversation through the
 * chat template. */
static int be_tokens(struct backend_engine *e, const struct backend_request *rq, int32_t **toks,
                     int *inside, char *err, size_t err_len) {
    *inside = 0;
    if (rq->toks) { /* made by the caller as below */
        if (!(*toks = malloc((size_t)(rq->n_toks > 0 ? rq->n_toks : 1) * sizeof **toks)))
            return backend_fail(err, err_len, "out of memory");
        memcpy(*toks, rq->toks, (size_t)rq->n_toks * sizeof **toks);
        *inside = rq->inside;
        return rq->n_toks;
    }
    if (rq->prompt) {
        *inside = reasoning_prompt_inside(&e->mk, rq->prompt, rq->prompt_len);
        return chat_tokenize(e->m, rq->prompt, rq->prompt_len, 1, 1, NULL, toks, err, err_len);
    }
    if (!e->cp) {
        *toks = NULL;
        return backend_fail(err, err_len, "no chat template to render the conversation with");
    }
    struct chat_prompt_opts o = {1, rq->set->think ? 1 : 0};
    return chat_prompt_tokens(e->cp, rq->msgs, rq->n_msgs, &o, &e->mk, toks, NULL, NULL, inside,
                              err, err_len);
}

static void be_prefill_stop(struct backend *b) {
    struct backend_engine *e = be_of(b);
    if (!e->prefill)
        return;
    eng_gen_cancel(e->prefill);
    eng_gen_join(e->prefill); /* its frames may still be in the pipe: gen id 0, dropped */
    e->prefill = NULL;
}

#define BE_PREFILL_CHUNK 16 /* tokens per decode call: a cancel waits for one layer of it */

static int be_prefill(struct backend *b, const struct backend_request *a,
                      const struct backend_request *a2, int room, int fd, int *n0, char *err,
                      size_t err_len) {
    struct backend_engine *e = be_of(b);
    be_prefill_stop(b);
    if (eng_ctx_rs_bytes(e->c, NULL) > 0) /* recurrent state: its checkpoints are the turns' */
        return 0;
    kvcache_wait(e->kc); /* the context is read by a snapshot being written */
    int32_t *t1 = NULL, *t2 = NULL;
    int inside, rc = -1;
    int n1 = be_tokens(e, a, &t1, &inside, err, err_len);
    int n2 = n1 > 0 ? be_tokens(e, a2, &t2, &inside, err, err_len) : -1;
    if (n1 < 0 || n2 < 0)
        goto out;
    int n = 0;
    while (n < n1 && n < n2 && t1[n] == t2[n])
        n++;
    n--; /* the last common token may still merge with what follows */
    const int32_t *have = eng_ctx_tokens(e->c);
    int same = 0, n_have = eng_ctx_n_past(e->c);
    while (same < n_have && same < n && have[same] == t1[same])
        same++;
    rc = 0;
    if (n > same && n + room <= eng_ctx_n_ctx(e->c)) { /* something new (after an edit: from
                                                        * where it differs) */
        struct eng_gen_params gp = eng_gen_default_params();
        gp.prefill_only = 1;
        gp.prompt_chunk = BE_PREFILL_CHUNK;
        kvcache_restore(e->kc, e->c, t1, n); /* a conversation just opened: its snapshot first */
        *n0 = eng_ctx_n_past(e->c);
        if (eng_gen_start(e->c, t1, n, &gp, fd, 0, &e->prefill) == ENG_OK)
            rc = 1;
        else
            e->prefill = NULL;
    }
out:
    free(t1);
    free(t2);
    return rc;
}

static int be_count(struct backend *b, const struct backend_request *rq, char *err,
                    size_t err_len) {
    int32_t *toks = NULL;
    int inside;
    int n = be_tokens(be_of(b), rq, &toks, &inside, err, err_len);
    free(toks);
    return n;
}

static int be_n_ctx(const struct backend *b) { return eng_ctx_n_ctx(be_of(b)->c); }

static const struct reasoning_markers *be_markers(const struct backend *b) {
    return &be_of(b)->mk;
}

/* The generation parameters of the settings: sampling, length, speculative options, and the
 * built-in format's stop strings (a Jinja template's turns end on the vocabulary's EOG). */
static struct eng_gen_params be_gen_params(const struct backend_engine *e,
                                           const struct app_settings *set, int raw) {
    struct eng_gen_params gp = eng_gen_default_params();
    opts_to_params(set, &gp, NULL);
    gp.draft = e->dc;
    const struct prompts_template *bt = e->cp && !raw ? chat_prompt_builtin(e->cp) : NULL;
    if (bt) {
        gp.stop = (const char *const *)bt->stop;
        gp.n_stop = bt->n_stop;
    }
    return gp;
}

static double be_ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-6;
}

/* Starts the generation thread on toks (freed here). 0, or -1 with err. */
static int be_gen(struct backend_engine *e, int32_t *toks, int n, const struct eng_gen_params *gp,
                  int fd, uint32_t gen_id, char *err, size_t err_len) {
    int rc = eng_gen_start(e->c, toks, n, gp, fd, gen_id, &e->gen);
    free(toks);
    if (rc != ENG_OK) {
        e->gen = NULL;
        snprintf(err, err_len, "generation failed: %s", eng_last_error());
        return -1;
    }
    return 0;
}

static int be_start(struct backend *b, const struct backend_request *rq, int fd, uint32_t gen_id,
                    struct backend_started *st, char *err, size_t err_len) {
    struct backend_engine *e = be_of(b);
    be_prefill_stop(b); /* what it processed stays in the context */
    if (eng_model_check(e->m) != ENG_OK) /* one stat: replaced or rewritten on disk */
        return backend_fail(err, err_len, eng_last_error());
    int32_t *toks = NULL;
    int n = be_tokens(e, rq, &toks, &st->inside, err, err_len);
    if (n < 0)
        return -1;
    if (n == 0) {
        free(toks);
        return backend_fail(err, err_len, "the prompt is empty");
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st->n_restored = kvcache_restore(e->kc, e->c, toks, n);
    st->restore_ms = be_ms_since(&t0);
    chat_prompt_log(toks, n);
    struct eng_gen_params gp = be_gen_params(e, rq->set, rq->prompt != NULL);
    const char **stops = NULL; /* the template's and the request's (the engine copies them) */
    if (rq->n_stop > 0) {
        if (!(stops = malloc((size_t)(gp.n_stop + rq->n_stop) * sizeof *stops))) {
            free(toks);
            return backend_fail(err, err_len, "out of memory");
        }
        for (int i = 0; i < gp.n_stop; i++)
            stops[i] = gp.stop[i];
        for (int i = 0; i < rq->n_stop; i++)
            stops[gp.n_stop + i] = rq->stop[i];
        gp.stop = stops;
        gp.n_stop += rq->n_stop;
    }
    int rc = be_gen(e, toks, n, &gp, fd, gen_id, err, err_len);
    free(stops);
    return rc;
}

/* One frame written as the generation thread writes them (whole, atomic). */
static int be_frame(int fd, uint16_t type, uint32_t gen_id, const void *a, size_t na,
                    const void *p, size_t n) {
    unsigned char buf[ENG_FRAME_MAX];
    struct eng_frame h = {type, (uint16_t)(na + n), gen_id};
    if (sizeof h + na + n > sizeof buf)
        return -1;
    memcpy(buf, &h, sizeof h);
    if (na)
        memcpy(buf + sizeof h, a, na);
    if (n)
        memcpy(buf + sizeof h + na, p, n);
    return fdio_write_all(fd, buf, sizeof h + na + n);
}

static int be_resume(struct backend *b, const char *text, size_t len,
                     const struct app_settings *set, int n_predict, int fd, uint32_t gen_id,
                     char *err, size_t err_len) {
    struct backend_engine *e = be_of(b);
    be_prefill_stop(b);
    kvcache_wait(e->kc); /* the snapshot being written reads the context */
    int n_past = eng_ctx_n_past(e->c);
    int n_end = eng_tokenize(e->m, text, len, 0, 1, NULL, 0);
    int32_t *toks = n_end > 0 ? malloc((size_t)(n_past + n_end) * sizeof *toks) : NULL;
    if (!toks || eng_tokenize(e->m, text, len, 0, 1, toks + n_past, n_end) != n_end) {
        free(toks);
        snprintf(err, err_len, "cannot continue the reply: %s",
                 n_end < 0 ? eng_last_error() : "out of memory");
        return -1;
    }
    memcpy(toks, eng_ctx_tokens(e->c), (size_t)n_past * sizeof *toks);
    for (int i = 0; i < n_end; i++) { /* the text as the model's own frames, token by token */
        char piece[256];
        int32_t tok = toks[n_past + i];
        int k = eng_token_to_piece(e->m, tok, piece, (int)sizeof piece, 0);
        int special = k == 0;
        if (special)
            k = eng_token_to_piece(e->m, tok, piece, (int)sizeof piece, 1);
        if (k > (int)sizeof piece - 8)
            k = (int)sizeof piece - 8;
        if (k > 0 && (special ? be_frame(fd, ENG_EV_SPECIAL, gen_id, &tok, sizeof tok, piece,
                                         (size_t)k)
                              : be_frame(fd, ENG_EV_TOKEN, gen_id, NULL, 0, piece, (size_t)k))) {
            free(toks);
            return backend_fail(err, err_len, "cannot write to the event pipe");
        }
    }
    struct eng_gen_params gp = be_gen_params(e, set, 0);
    gp.n_predict = n_predict;
    return be_gen(e, toks, n_past + n_end, &gp, fd, gen_id, err, err_len);
}

static void be_cancel(struct backend *b) { eng_gen_cancel(be_of(b)->gen); }
static void be_stop(struct backend *b) { eng_gen_stop(be_of(b)->gen); }

static int be_join(struct backend *b) {
    struct backend_engine *e = be_of(b);
    int rc = eng_gen_join(e->gen);
    e->gen = NULL;
    if (rc == ENG_OK || rc == ENG_E_CANCELLED) /* the context for the next start, on disk */
        kvcache_save_async(e->kc, e->c);
    return rc;
}

static void be_free(struct backend *b) {
    be_prefill_stop(b);
    free(be_of(b));
}

static const struct backend_ops be_ops = {
    .kind = "engine",
    .count = be_count,
    .n_ctx = be_n_ctx,
    .markers = be_markers,
    .start = be_start,
    .resume = be_resume,
    .prefill = be_prefill,
    .prefill_stop = be_prefill_stop,
    .cancel = be_cancel,
    .stop = be_stop,
    .join = be_join,
    .free = be_free,
};

int backend_engine_new(const struct backend_engine_params *p, struct backend **out, char *err,
                       size_t err_len) {
    *out = NULL;
    if (!p->model || !p->ctx)
        return backend_fail(err, err_len, "no model loaded");
    struct backend_engine *e = calloc(1, sizeof *e);
    if (!e)
        return backend_fail(err, err_len, "out of memory");
    e->base.ops = &be_ops;
    e->m = p->model;
    e->c = p->ctx;
    e->dc = p->draft_ctx;
    e->cp = p->cp;
    e->kc = p->kc;
    if (p->mk) {
        e->mk = *p->mk;
    } else {
        reasoning_markers_detect(&e->mk, eng_model_meta_str(p->model, "tokenizer.chat_template"));
        reasoning_markers_vocab(&e->mk, p->model);
    }
    *out = &e->base;
    return 0;
}

void backend_engine_set_prompt(struct backend *b, chat_prompt *cp) { be_of(b)->cp = cp; }
