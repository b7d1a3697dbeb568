/* engine/gen.c — generation on its own thread (eng_gen_*) and the event frames it writes
 * (eng_frame_read for the reader). The thread reuses the longest common prefix of the prompt
 * with the context's KV cache, processes the rest in chunks (PROGRESS frames), then samples and
 * decodes token by token, writing TOKEN frames that hold complete UTF-8 only and never any part
 * of a stop string, SPECIAL frames for control tokens (never in the text), STATS now and then,
 * and finally STATS + DONE (or ERROR). With drafts (prompt lookup or a draft model, see
 * engine/draft.c) it decodes a token and its drafts in one batch and keeps the drafts the
 * sampler's own draws confirm (see ENG_DRAFT_MAX in engine.h). End-of-generation tokens end
 * it, and so does their text spelled out by ordinary tokens (see engine.h). eng_gen_start and eng_gen_join are called by
 * the owner thread; eng_gen_cancel and eng_gen_stop from any thread (async-safe). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "draft.h"
#include "gen_text.h"
#include "mapguard.h"

#define GEN_CHUNK 512            /* prompt tokens per eng_decode call (one PROGRESS each) */
#define GEN_STATS_EVERY_MS 500   /* STATS while generating, at most this often */
#define GEN_PAYLOAD_MAX (ENG_FRAME_MAX - (int)sizeof(struct eng_frame))
#define GEN_EOG_TEXTS_MAX 32     /* spelled-out end-of-generation texts watched for */
enum { GEN_STOP_USER = 1, GEN_STOP_EOG = 2 }; /* gen_text tags: the caller's, the vocab's */
_Static_assert(GEN_TEXT_CHUNK == GEN_PAYLOAD_MAX, "a text chunk is one TOKEN frame's payload");
_Static_assert(ENG_FRAME_MAX <= 512, "a frame is written atomically (<= PIPE_BUF)");

struct eng_gen {
    eng_ctx *c;
    const eng_model *m;
    int32_t *toks;               /* (n_toks) the whole prompt, copied */
    int n_toks;
    struct eng_gen_params p;
    int fd;
    uint32_t gen_id;
    volatile int cancel;         /* set by eng_gen_cancel, read by eng_decode and the loop */
    volatile int stop;           /* set by eng_gen_stop, read by the loop between tokens */
    int write_failed;            /* the reader went away */
    int finished;                /* DONE or ERROR was sent */
    pthread_t thread;
    int status;

    struct gen_text text;        /* held back: a split UTF-8 sequence or a stop prefix */
    struct eng_stats st;
    double t_start, t_prompt_end, t_last_stats;
};

struct eng_gen_params eng_gen_default_params(void) {
    struct eng_gen_params p;
    memset(&p, 0, sizeof p);
    p.sample = eng_sample_default_params();
    p.n_predict = -1;
    p.draft_p_min = 0.5f;
    return p;
}

static double gen_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- frames ---- */

/* Writes one frame with one write() (<= PIPE_BUF, so atomic). Waits while the pipe is full,
 * also when fd is non-blocking. Returns 0, or -1 when the reader is gone. */
static int gen_write_frame(struct eng_gen *g, uint16_t type, const void *payload, size_t len) {
    if (g->write_failed) return -1;
    unsigned char buf[ENG_FRAME_MAX];
    if (len > (size_t)GEN_PAYLOAD_MAX) len = GEN_PAYLOAD_MAX;
    struct eng_frame h = {type, (uint16_t)len, g->gen_id};
    memcpy(buf, &h, sizeof h);
    if (len) memcpy(buf + sizeof h, payload, len);
    size_t n = sizeof h + len;
    for (;;) {
        ssize_t w = write(g->fd, buf, n);
        if (w == (ssize_t)n) return 0;
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {g->fd, POLLOUT, 0};
            poll(&pfd, 1, 100);
            continue;
        }
        g->write_failed = 1;   /* EPIPE (SIGPIPE is blocked on this thread) or worse */
        g->cancel = 1;
        return -1;
    }
}

int eng_frame_read(int fd, struct eng_frame *hdr, void *payload) {
    unsigned char *dst = (unsigned char *)hdr;
    size_t want = sizeof *hdr, got = 0;
    for (int part = 0; part < 2; part++) {
        while (got < want) {
            ssize_t r = read(fd, dst + got, want - got);
            if (r > 0) {
                got += (size_t)r;
                continue;
            }
            if (r == 0) {
                if (part == 0 && got == 0) return 0;
                errno = EPROTO;
                return -1;   /* a frame cut short */
            }
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && (part == 1 || got > 0)) {
                struct pollfd pfd = {fd, POLLIN, 0};
                poll(&pfd, 1, 100);
                continue;
            }
            return -1;
        }
        if (part == 0) {
            if (hdr->len > GEN_PAYLOAD_MAX) {
                errno = EPROTO;
                return -1;
            }
            dst = payload;
            want = hdr->len;
            got = 0;
        }
    }
    return 1;
}

static void gen_send_stats(struct eng_gen *g) {
    double now = gen_now();
    struct eng_stats *st = &g->st;
    st->n_past = eng_ctx_n_past(g->c);
    st->n_ctx = eng_ctx_n_ctx(g->c);
    double tp = g->t_prompt_end - g->t_start;
    st->prompt_tps = st->n_prompt > 0 && tp > 0 ? (float)(st->n_prompt / tp) : 0.0f;
    double tg = now - g->t_prompt_end;
    st->gen_tps = st->n_gen > 0 && tg > 0 ? (float)(st->n_gen / tg) : 0.0f;
    st->kv_bytes = eng_ctx_kv_bytes(g->c);
    st->rss_bytes = eng_rss_bytes();
    g->t_last_stats = now;
    gen_write_frame(g, ENG_EV_STATS, st, sizeof *st);
}

static int gen_finish(struct eng_gen *g, int reason) {
    g->finished = 1;
    /* the end of a reply: where the next turn resumes a recurrent model's state from, even
     * when its template renders the reply differently (a checkpoint; no-op otherwise) */
    eng_ctx_checkpoint(g->c);
    gen_send_stats(g);
    int32_t r = reason;
    gen_write_frame(g, ENG_EV_DONE, &r, sizeof r);
    return ENG_OK;
}

static int gen_fail(struct eng_gen *g, int code, const char *msg) {
    g->finished = 1;
    unsigned char buf[GEN_PAYLOAD_MAX];
    int32_t c32 = code;
    memcpy(buf, &c32, sizeof c32);
    size_t n = strlen(msg);
    if (n > sizeof buf - sizeof c32) n = sizeof buf - sizeof c32;
    memcpy(buf + sizeof c32, msg, n);
    gen_write_frame(g, ENG_EV_ERROR, buf, sizeof c32 + n);
    return code;
}

/* gen_text's output: TOKEN frames */
static void gen_emit_token(void *ud, const char *s, size_t n) {
    gen_write_frame(ud, ENG_EV_TOKEN, s, n);
}

/* A control token's SPECIAL frame: int32 id, then its text (cut to fit the frame). */
static void gen_emit_special(struct eng_gen *g, int32_t tok, const char *text, size_t n) {
    unsigned char buf[GEN_PAYLOAD_MAX];
    memcpy(buf, &tok, sizeof tok);
    if (n > sizeof buf - sizeof tok) n = sizeof buf - sizeof tok;
    memcpy(buf + sizeof tok, text, n);
    gen_write_frame(g, ENG_EV_SPECIAL, buf, sizeof tok + n);
}

/* The texts of the vocabulary's end-of-generation control tokens become stop strings tagged
 * GEN_STOP_EOG (a model may spell its end marker with ordinary tokens before the real one).
 * Only control tokens: an end token whose text is ordinary text (".", "\n") must not stop every
 * sentence. 0, or -1 if out of memory. */
static int gen_watch_eog_texts(struct eng_gen *g) {
    int n_vocab = eng_vocab_size(g->m), n_found = 0;
    char piece[256];
    for (int32_t tok = 0; tok < n_vocab && n_found < GEN_EOG_TEXTS_MAX; tok++) {
        if (!eng_token_is_eog(g->m, tok)) continue;
        if (eng_token_to_piece(g->m, tok, piece, (int)sizeof piece, 0) != 0) continue;
        int n = eng_token_to_piece(g->m, tok, piece, (int)sizeof piece, 1);
        if (n < 2 || n > (int)sizeof piece) continue;
        if (gen_text_stop_tag(&g->text, piece, (size_t)n)) continue; /* already a stop string */
        if (gen_text_add_stop(&g->text, piece, (size_t)n, GEN_STOP_EOG) != 0) return -1;
        n_found++;
    }
    return 0;
}

/* ---- the thread ---- */

static int gen_decode_error(struct eng_gen *g, int rc) {
    if (rc == ENG_E_CANCELLED || g->cancel) {
        gen_text_flush(&g->text);
        return gen_finish(g, ENG_DONE_CANCELLED);
    }
    if (rc == ENG_E_CTX_FULL) {
        gen_text_flush(&g->text);
        return gen_finish(g, ENG_DONE_CTX_FULL);
    }
    if (rc == ENG_E_CHANGED) { /* the text so far came from the intact model: it is the reply */
        gen_text_flush(&g->text);
        gen_send_stats(g);       /* with its figures */
    }
    return gen_fail(g, rc, eng_last_error());
}

/* Makes the KV cache hold the prompt: keeps the common prefix, decodes the rest in chunks. */
static int gen_prompt(struct eng_gen *g) {
    eng_ctx *c = g->c;
    int n_ctx = eng_ctx_n_ctx(c);
    if (g->n_toks > n_ctx) {
        char msg[160];
        snprintf(msg, sizeof msg, "the prompt (%d tokens) does not fit the context (%d)",
                 g->n_toks, n_ctx);
        return gen_fail(g, ENG_E_CTX_FULL, msg);
    }
    const int32_t *have = eng_ctx_tokens(c);
    int n_have = eng_ctx_n_past(c), keep = 0;
    while (keep < n_have && keep < g->n_toks && have[keep] == g->toks[keep]) keep++;
    if (keep == g->n_toks && !g->p.prefill_only)
        keep--; /* the last prompt token is decoded again for its logits */
    eng_ctx_truncate(c, keep);
    keep = eng_ctx_n_past(c);   /* recurrent models go back to a checkpoint: maybe fewer */
    g->st.n_reused = keep;

    int n_new = g->n_toks - keep;
    struct { int32_t stage; float frac; } prog = {ENG_PROGRESS_PROMPT, 0.0f};
    gen_write_frame(g, ENG_EV_PROGRESS, &prog, sizeof prog);
    /* a recurrent model's state cannot be rewound: its checkpoints are where a later turn can
     * resume, so the prompt's last token (the one a next rendering most often tokenizes
     * otherwise, merged with what follows) gets a decode of its own, after a checkpoint */
    const int split = eng_ctx_rs_bytes(c, NULL) > 0 && n_new > 2;
    const int chunk = g->p.prompt_chunk > 0 ? g->p.prompt_chunk : GEN_CHUNK;
    for (int done = 0; done < n_new;) {
        if (g->cancel || g->stop) return gen_decode_error(g, ENG_E_CANCELLED);
        int nb = n_new - done < chunk ? n_new - done : chunk;
        if (split && done + nb == n_new && nb > 1)
            nb--;
        int rc = eng_decode(c, g->toks + keep + done, nb, 0);
        if (rc != ENG_OK) return gen_decode_error(g, rc);
        done += nb;
        g->st.n_prompt = done;
        prog.frac = (float)done / (float)n_new;
        gen_write_frame(g, ENG_EV_PROGRESS, &prog, sizeof prog);
    }
    return ENG_OK;
}

/* Takes a sampled token as the reply's next: text, SPECIAL frame or the end. Returns 1 when the
 * generation ended (*rc its status), else 0. The token is not decoded here. */
static int gen_take(struct eng_gen *g, int32_t tok, int *rc) {
    char piece[GEN_TEXT_PIECE_MAX];
    if (g->st.n_gen == 0) g->st.ttft_ms = (float)((gen_now() - g->t_start) * 1000.0);
    if (eng_token_is_eog(g->m, tok)) {
        gen_text_flush(&g->text);
        *rc = gen_finish(g, ENG_DONE_EOG);
        return 1;
    }
    g->st.n_gen++;
    int n = eng_token_to_piece(g->m, tok, piece, (int)sizeof piece, 0);
    if (n > (int)sizeof piece) n = (int)sizeof piece;
    if (n == 0 && (n = eng_token_to_piece(g->m, tok, piece, (int)sizeof piece, 1)) > 0) {
        /* a control token: the text so far goes first, then its SPECIAL frame */
        if (n > (int)sizeof piece) n = (int)sizeof piece;
        gen_text_flush(&g->text);
        if (gen_text_stop_tag(&g->text, piece, (size_t)n) == GEN_STOP_USER) {
            *rc = gen_finish(g, ENG_DONE_STOP);
            return 1;
        }
        gen_emit_special(g, tok, piece, (size_t)n);
    } else if (n > 0) {
        int tag = gen_text_push(&g->text, piece, (size_t)n);
        if (tag) {
            *rc = gen_finish(g, tag == GEN_STOP_EOG ? ENG_DONE_EOG : ENG_DONE_STOP);
            return 1;
        }
    }
    if (g->p.n_predict > 0 && g->st.n_gen >= g->p.n_predict) {
        gen_text_flush(&g->text);
        *rc = gen_finish(g, ENG_DONE_LENGTH);
        return 1;
    }
    return 0;
}

/* Drafts that may follow tok (not yet decoded), at most max. */
static int gen_draft(struct eng_gen *g, int32_t tok, int32_t *out, int max) {
    const int32_t *hist = eng_ctx_tokens(g->c);
    int n_hist = eng_ctx_n_past(g->c);
    if (g->p.draft) {
        int n = draft_model(g->p.draft, hist, n_hist, tok, out, max, g->p.draft_p_min);
        if (n < 0) {   /* the draft model failed (its context full, say): go on without it */
            g->p.draft = NULL;
            n = 0;
        }
        if (n > 0 || !g->p.lookup) return n;
    }
    return draft_lookup(hist, n_hist, tok, out, max);
}

static int gen_run(struct eng_gen *g) {
    eng_ctx *c = g->c;
    g->t_start = gen_now();
    /* once per turn: a model file replaced or rewritten since it was loaded is not used */
    if (eng_model_check(g->m) != ENG_OK)
        return gen_fail(g, ENG_E_CHANGED, eng_last_error());
    int rc = gen_prompt(g);
    g->t_prompt_end = gen_now();
    if (rc != ENG_OK || g->finished) return rc; /* e.g. cancelled during the prompt */
    if (g->p.prefill_only) return gen_finish(g, ENG_DONE_LENGTH);

    eng_sampler *s = NULL;
    rc = eng_sampler_new(&g->p.sample, eng_vocab_size(g->m), &s);
    if (rc != ENG_OK) return gen_fail(g, rc, "cannot create the sampler");
    int max_draft = 0;   /* speculative decoding needs a cache that can be rewound */
    if (eng_ctx_rs_bytes(c, NULL) == 0 && (g->p.lookup > 0 || g->p.draft)) {
        max_draft = g->p.draft ? (g->p.n_draft > 0 ? g->p.n_draft : 8) : 0;
        if (g->p.lookup > max_draft) max_draft = g->p.lookup;
        if (max_draft > ENG_DRAFT_MAX) max_draft = ENG_DRAFT_MAX;
    }
    int32_t batch[ENG_DRAFT_MAX + 1];
    int li = -1;          /* the logits row the next token is drawn from */
    int have_next = 0;    /* the next token was drawn already (a draft's correction) */
    int32_t tok = 0;
    for (;;) {
        if (g->cancel || g->stop) {
            rc = gen_decode_error(g, ENG_E_CANCELLED);
            break;
        }
        if (!have_next) {
            const float *logits = eng_logits(c, li);
            if (!logits) {
                rc = gen_fail(g, ENG_E_ARG, "no logits after decoding");
                break;
            }
            tok = eng_sampler_sample(s, logits, eng_ctx_tokens(c), eng_ctx_n_past(c));
        }
        have_next = 0;
        li = -1;
        if (gen_take(g, tok, &rc)) break;
        const int base = eng_ctx_n_past(c);
        if (base >= eng_ctx_n_ctx(c)) {
            gen_text_flush(&g->text);
            rc = gen_finish(g, ENG_DONE_CTX_FULL);
            break;
        }
        /* drafts: no more than the context and the length limit leave room for */
        int nd = max_draft;
        if (nd > eng_ctx_n_ctx(c) - base - 1) nd = eng_ctx_n_ctx(c) - base - 1;
        if (g->p.n_predict > 0 && nd > g->p.n_predict - g->st.n_gen)
            nd = g->p.n_predict - g->st.n_gen;
        nd = nd > 0 ? gen_draft(g, tok, batch + 1, nd) : 0;
        batch[0] = tok;
        rc = eng_decode(c, batch, nd + 1, nd > 0);
        if (rc != ENG_OK) {
            rc = gen_decode_error(g, rc);
            break;
        }
        /* verify: at each position draw as plain decoding would; keep drafts while they match */
        int ended = 0, i = 0;
        g->st.n_drafted += nd;
        for (; i < nd; i++) {
            if (g->cancel || g->stop) break;
            int32_t t = eng_sampler_sample(s, eng_logits(c, i), eng_ctx_tokens(c), base + 1 + i);
            if (t != batch[1 + i]) {
                tok = t;   /* the correction is the next token */
                have_next = 1;
                break;
            }
            g->st.n_accepted++;
            if ((ended = gen_take(g, t, &rc)) != 0) break;
        }
        if (nd > 0) {
            if (i == nd) li = nd;   /* all kept: the next token comes from the last row */
            else eng_ctx_truncate(c, base + 1 + i);   /* the cache holds what was taken */
        }
        if (ended) break;
        if ((gen_now() - g->t_last_stats) * 1000.0 >= GEN_STATS_EVERY_MS) gen_send_stats(g);
    }
    eng_sampler_free(s);
    return rc;
}

static void *gen_thread_main(void *arg) {
    struct eng_gen *g = arg;
    mapguard_thread_unblock(); /* every signal but the faults' (mapguard.h) */
    g->t_last_stats = gen_now();
    g->status = gen_run(g);
    eng_ctx_set_cancel(g->c, NULL);
    if (g->p.draft) eng_ctx_set_cancel(g->p.draft, NULL);
    return NULL;
}

static void gen_free(struct eng_gen *g) {
    if (!g) return;
    gen_text_free(&g->text);
    free(g->toks);
    free(g);
}

int eng_gen_start(eng_ctx *c, const int32_t *toks, int n, const struct eng_gen_params *p,
                  int fd, uint32_t gen_id, eng_gen **out) {
    *out = NULL;
    if (!c || !toks || n <= 0 || !p || fd < 0 || p->n_stop < 0 || (p->n_stop > 0 && !p->stop) ||
        p->lookup < 0 || p->draft == c)
        return ENG_E_ARG;
    struct eng_gen *g = calloc(1, sizeof *g);
    if (!g) return ENG_E_NOMEM;
    g->c = c;
    g->m = eng_ctx_model(c);
    g->p = *p;
    g->p.stop = NULL;
    g->fd = fd;
    g->gen_id = gen_id;
    g->n_toks = n;
    g->toks = malloc((size_t)n * sizeof *g->toks);
    if (!g->toks || gen_text_init(&g->text, p->stop, p->n_stop, gen_emit_token, g) != 0 ||
        gen_watch_eog_texts(g) != 0) {
        gen_free(g);
        return ENG_E_NOMEM;
    }
    memcpy(g->toks, toks, (size_t)n * sizeof *toks);
    g->st.n_ctx = eng_ctx_n_ctx(c);
    eng_ctx_set_cancel(c, &g->cancel);
    if (g->p.draft) eng_ctx_set_cancel(g->p.draft, &g->cancel);

    /* the thread takes no signals (but the faults it unblocks itself): they go to the
     * application's threads, and a write to a closed pipe gives EPIPE here instead of killing
     * the process */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&g->thread, NULL, gen_thread_main, g);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        eng_ctx_set_cancel(c, NULL);
        if (g->p.draft) eng_ctx_set_cancel(g->p.draft, NULL);
        gen_free(g);
        return ENG_E_THREAD;
    }
    *out = g;
    return ENG_OK;
}

void eng_gen_cancel(eng_gen *g) {
    if (g) g->cancel = 1;
}

void eng_gen_stop(eng_gen *g) {
    if (g) g->stop = 1;
}

int eng_gen_join(eng_gen *g) {
    if (!g) return ENG_E_ARG;
    pthread_join(g->thread, NULL);
    int rc = g->status;
    gen_free(g);
    return rc;
}
