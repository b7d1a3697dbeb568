/* src/serve.c — `natter serve`'s HTTP server (serve.h): libmicrohttpd with a thread per
 * connection, the routes, the bounded queue, the worker threads (one per context) and the
 * jobs between them.
 *
 * A request's life: its connection thread reads the body (at most max_body bytes: 413), checks
 * it (src/serve_req.h: 400), renders and tokenizes the prompt (under the server's render lock:
 * the prompt maker is not thread-safe), refuses a prompt the context cannot hold (400
 * context_length_exceeded), and queues a job (a full queue: 503 with Retry-After). The job goes
 * to the idle context whose cached tokens share the longest prefix with its prompt (the engine
 * reuses that prefix); the context's worker runs the generation and writes the response's
 * bytes into the job (SSE chunks as they come, or the whole body at the end) while the
 * connection thread waits on the job and sends them, watching its socket: a client that hung
 * up cancels the job, queued or running. A job is freed by whichever side lets go of it last. */
#include "serve.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "backend.h"
#include "json_write.h"
#include "opts.h"
#include "reasoning.h"
#include "serve_out.h"
#include "serve_req.h"

struct serve;

struct job {
    struct serve *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;                 /* the connection's and the queue's/worker's */
    struct serve_req req;
    struct serve_out out;
    int32_t *toks;            /* the prompt's tokens (job_prompt), given to the backend */
    int n_toks;
    int inside;               /* the prompt opened the reply's reasoning */
    struct app_settings set;  /* the server's settings with the request's sampling fields */
    atomic_int cancel;        /* the client is gone (or the server stops) */
    /* under mu: */
    struct json_buf body;     /* the bytes to send: SSE chunks as they come, or the whole body */
    size_t sent;              /* stream: bytes of body handed to the daemon */
    struct json_buf text, think; /* whole replies: the answer and the reasoning so far */
    int done;                 /* body is complete */
    int status;               /* HTTP status of a whole reply (200, or an error's) */
    int conn_fd;              /* the client's socket, for the hang-up check */
};

struct slot {
    struct serve *srv;
    eng_ctx *ctx;
    struct backend *be;       /* the engine backend on ctx: renders, tokenizes, generates */
    pthread_t th;
    int started;
    int pfd[2];
    uint32_t gen_id;
    struct job *job;          /* under srv->mu: the job given to it, NULL: idle */
    struct reasoning rsn;
};

struct serve {
    eng_model *model;
    chat_prompt *cp;
    struct serve_params p;
    char *model_name;
    char *api_key;
    const struct reasoning_markers *mk; /* the engine backend's, from the model's template */
    struct app_settings set;  /* the defaults of a request's fields */
    int n_ctx;
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t render_mu;
    pthread_mutex_t mu;       /* the queue, the slots' jobs, stopping */
    pthread_cond_t cv;        /* a slot got a job, or the server stops */
    struct job **queue;       /* FIFO ring */
    int q_head, q_len;
    struct slot *slots;
    int n_slots;
    int stopping;             /* no new jobs; queued ones answered 503 */
    atomic_int in_flight;     /* requests whose response is not yet sent (serve_completed) */
    int quit;                 /* the workers end */
    unsigned long long seq;
};

/* ---- jobs ---- */

static void job_unref(struct job *j) {
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left)
        return;
    serve_req_free(&j->req);
    free(j->toks);
    free(j->body.p);
    free(j->text.p);
    free(j->think.p);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

/* Ends j with an error in OpenAI's shape (a stream gets it as its last event). */
static void job_fail_locked(struct job *j, const struct serve_err *e) {
    struct json_buf eb = {0};
    serve_err_json(e, &eb);
    if (j->req.stream) {
        serve_out_chunk_error(&j->body, eb.p ? eb.p : "", eb.len);
    } else {
        j->body.len = 0;
        json_put(&j->body, eb.p ? eb.p : "", eb.len);
        j->status = e->status;
    }
    free(eb.p);
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
}

/* 1 when the client closed its end of the connection. */
static int conn_gone(int fd) {
    if (fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
        return 1;
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Waits (j->mu held) up to 100 ms for news. 1 (and j cancelled) when its client is gone. */
static int job_wait_locked(struct job *j) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 100 * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&j->cv, &j->mu, &t);
    if (j->done || !conn_gone(j->conn_fd))
        return 0;
    j->cancel = 1;
    return 1;
}

/* ---- the queue and the slots (under srv->mu) ---- */

static int common_prefix(const int32_t *a, int na, const int32_t *b, int nb) {
    int i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

/* Gives queued jobs to idle slots, FIFO, each to the idle slot sharing the longest prefix. */
static void dispatch_locked(struct serve *s) {
    while (s->q_len > 0) {
        struct job *j = s->queue[s->q_head];
        if (j->cancel) { /* its client left while it waited */
            s->q_head = (s->q_head + 1) % s->p.queue_max;
            s->q_len--;
            job_unref(j);
            continue;
        }
        struct slot *best = NULL;
        int best_n = -1;
        for (int i = 0; i < s->n_slots; i++) {
            struct slot *sl = &s->slots[i];
            if (sl->job)
                continue;
            int n = common_prefix(eng_ctx_tokens(sl->ctx), eng_ctx_n_past(sl->ctx), j->toks,
                                  j->n_toks);
            if (n > best_n) {
                best_n = n;
                best = sl;
            }
        }
        if (!best)
            return;
        s->q_head = (s->q_head + 1) % s->p.queue_max;
        s->q_len--;
        best->job = j;
        pthread_cond_broadcast(&s->cv);
    }
}

/* Queues j (taking the worker's reference). 0, -1 when the queue is full, -2 when the server
 * stops. */
static int serve_enqueue(struct serve *s, struct job *j) {
    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->q_len >= s->p.queue_max) {
        const int rc = s->stopping ? -2 : -1;
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    s->queue[(s->q_head + s->q_len) % s->p.queue_max] = j;
    s->q_len++;
    dispatch_locked(s);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- the worker: one generation at a time on its context ---- */

static void job_emit(void *ud, int part, const char *s, size_t n) {
    struct job *j = ud;
    pthread_mutex_lock(&j->mu);
    if (j->req.stream)
        serve_out_chunk_text(&j->body, &j->out, part == REASONING_THOUGHT, s, n);
    else
        json_put(part == REASONING_THOUGHT ? &j->think : &j->text, s, n);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static const char *finish_name(int32_t reason) {
    return reason == ENG_DONE_LENGTH || reason == ENG_DONE_CTX_FULL ? "length"
         : reason == ENG_DONE_CANCELLED ? "cancelled" : "stop";
}

/* One line on stderr per generation: what ran, how it ended (for the operator and the tests). */
static void job_log(const struct job *j, const char *how, const struct eng_stats *st) {
    fprintf(stderr, "natter: serve: %s %s: prompt %d tokens (+%d cached), generated %d\n",
            j->out.id, how, st ? st->n_prompt : 0, st ? st->n_reused : 0, st ? st->n_gen : 0);
}

static void job_finish(struct job *j, int32_t reason, const struct eng_stats *st) {
    const char *fin = finish_name(reason);
    job_log(j, fin, st);
    pthread_mutex_lock(&j->mu);
    if (j->req.stream) {
        serve_out_chunk_end(&j->body, &j->out, fin, st, j->req.include_usage);
    } else {
        serve_out_body(&j->body, &j->out, j->text.p ? j->text.p : "", j->text.len,
                       j->think.p, j->think.len, fin, st);
        j->status = 200;
    }
    if (j->body.oom || j->text.oom || j->think.oom) {
        struct serve_err e;
        serve_err_set(&e, 500, "server_error", NULL, NULL, "out of memory");
        j->body.oom = 0;
        job_fail_locked(j, &e);
    }
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* Ends j with a 500: msg, and the engine's code (0: none). */
static void job_error(struct job *j, int code, const char *msg) {
    struct serve_err e;
    serve_err_set(&e, 500, "server_error", NULL, NULL, "%s%s%s%s", msg, code ? " (" : "",
                  code ? eng_strerror(code) : "", code ? ")" : "");
    job_log(j, "error", NULL);
    pthread_mutex_lock(&j->mu);
    job_fail_locked(j, &e);
    pthread_mutex_unlock(&j->mu);
}

/* The request as the backend takes it: its messages (or prompt), settings and stop strings.
 * *msgs is new (caller frees). */
static struct backend_request job_request(const struct job *j, struct chat_msg **msgs) {
    const struct serve_req *r = &j->req;
    struct chat_msg *cm = r->n_msgs ? calloc((size_t)r->n_msgs, sizeof *cm) : NULL;
    for (int i = 0; cm && i < r->n_msgs; i++)
        cm[i] = (struct chat_msg){r->msgs[i].role, r->msgs[i].content, r->msgs[i].len, NULL, 0};
    *msgs = cm;
    return (struct backend_request){cm, cm ? r->n_msgs : 0, r->prompt, r->prompt_len, &j->set,
                                    (const char *const *)r->stop, r->n_stop, j->toks, j->n_toks,
                                    j->inside};
}

static void slot_run(struct slot *sl, struct job *j) {
    struct serve *s = sl->srv;
    struct chat_msg *cm = NULL;
    struct backend_request rq = job_request(j, &cm);
    struct backend_started bs;
    char err[512];
    if (j->req.kind == SERVE_CHAT && !cm) {
        job_error(j, 0, "out of memory");
        return;
    }
    /* the prompt's tokens were made by job_prompt: the backend renders nothing */
    int rc = backend_start(sl->be, &rq, sl->pfd[1], ++sl->gen_id, &bs, err, sizeof err);
    free(cm);
    if (rc != 0) {
        job_error(j, 0, err);
        return;
    }
    const int split = j->req.kind == SERVE_CHAT;
    reasoning_init(&sl->rsn, s->mk, bs.inside, job_emit, j);
    struct eng_stats st;
    memset(&st, 0, sizeof st);
    unsigned char payload[ENG_FRAME_MAX];
    struct eng_frame h;
    for (;;) {
        if (j->cancel)
            backend_cancel(sl->be); /* idempotent: the DONE that follows says cancelled */
        struct pollfd p = {.fd = sl->pfd[0], .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (eng_frame_read(sl->pfd[0], &h, payload) != 1) {
            backend_cancel(sl->be);
            job_error(j, ENG_E_IO, "the event pipe ended early");
            break;
        }
        if (h.gen_id != sl->gen_id)
            continue;
        if (h.type == ENG_EV_TOKEN) {
            if (split)
                reasoning_text(&sl->rsn, (const char *)payload, h.len);
            else if (h.len)
                job_emit(j, REASONING_ANSWER, (const char *)payload, h.len);
        } else if (h.type == BACKEND_EV_REASONING && h.len) {
            job_emit(j, REASONING_THOUGHT, (const char *)payload, h.len);
        } else if (h.type == ENG_EV_SPECIAL && h.len >= 4) {
            if (split)
                reasoning_special(&sl->rsn, (const char *)payload + 4, h.len - 4u);
        } else if (h.type == ENG_EV_STATS && h.len == sizeof st) {
            memcpy(&st, payload, sizeof st);
        } else if (h.type == ENG_EV_DONE) {
            int32_t reason = ENG_DONE_EOG;
            if (h.len >= sizeof reason)
                memcpy(&reason, payload, sizeof reason);
            if (split)
                reasoning_finish(&sl->rsn);
            job_finish(j, reason, &st);
            break;
        } else if (h.type == ENG_EV_ERROR && h.len >= 4) {
            int32_t code;
            memcpy(&code, payload, sizeof code);
            char msg[ENG_FRAME_MAX];
            snprintf(msg, sizeof msg, "%.*s", (int)h.len - 4, (const char *)payload + 4);
            job_error(j, code, *msg ? msg : "generation failed");
            break;
        }
    }
    backend_join(sl->be);
}

static void *slot_main(void *arg) {
    struct slot *sl = arg;
    struct serve *s = sl->srv;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!sl->job && !s->quit)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!sl->job)
            break;
        struct job *j = sl->job;
        pthread_mutex_unlock(&s->mu);
        if (!j->cancel)
            slot_run(sl, j);
        job_unref(j);
        pthread_mutex_lock(&s->mu);
        sl->job = NULL;
        dispatch_locked(s);
        pthread_cond_broadcast(&s->cv); /* serve_stop waits for idle slots */
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the prompt ---- */

/* j's prompt tokens, made as the backend will make them (chat_prompt_tokens, or the raw
 * prompt as `natter run --raw` reads it) into j->toks: for the choice of the context whose
 * cache shares the longest prefix, and to refuse a prompt the context cannot hold. 0, or -1
 * with e (400 for what the request did: a template that refuses it, a prompt too long). */
static int job_prompt(struct serve *s, struct job *j, struct serve_err *e) {
    char err[512];
    const struct serve_req *r = &j->req;
    int n;
    if (r->kind == SERVE_COMPLETION) {
        n = chat_tokenize(s->model, r->prompt, r->prompt_len, 1, 1, NULL, &j->toks, err,
                          sizeof err);
        j->inside = reasoning_prompt_inside(s->mk, r->prompt, r->prompt_len);
    } else {
        struct chat_msg *cm = NULL;
        struct backend_request rq = job_request(j, &cm);
        if (!cm) {
            serve_err_set(e, 500, "server_error", NULL, NULL, "out of memory");
            return -1;
        }
        struct chat_prompt_opts o = {1, j->set.think ? 1 : 0};
        pthread_mutex_lock(&s->render_mu); /* the prompt maker is not thread-safe */
        n = chat_prompt_tokens(s->cp, rq.msgs, rq.n_msgs, &o, s->mk, &j->toks, NULL, NULL,
                               &j->inside, err, sizeof err);
        pthread_mutex_unlock(&s->render_mu);
        free(cm);
    }
    const char *param = r->kind == SERVE_CHAT ? "messages" : "prompt";
    if (n < 0) {
        serve_err_set(e, 400, "invalid_request_error", param, NULL, "%s%s",
                      r->kind == SERVE_CHAT ? "the chat template cannot render these messages: "
                                            : "", err);
        return -1;
    }
    if (n == 0) {
        serve_err_set(e, 400, "invalid_request_error", param, NULL, "the prompt is empty");
        return -1;
    }
    if (n >= s->n_ctx) {
        serve_err_set(e, 400, "invalid_request_error", param, "context_length_exceeded",
                      "this model's context is %d tokens, the prompt takes %d: shorten it or "
                      "start natter serve with a larger --ctx", s->n_ctx, n);
        return -1;
    }
    j->n_toks = n;
    return 0;
}

/* ---- HTTP ---- */

struct conn {
    struct json_buf body;
    int too_big;
    int kind;                 /* the POST route's enum serve_kind */
    int responded;            /* answered from the headers: the body is dropped */
};

static enum MHD_Result send_json(struct MHD_Connection *c, int status, const char *json,
                                 size_t len, const char *hdr, const char *hdr_val) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (hdr)
        MHD_add_response_header(r, hdr, hdr_val);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_err(struct MHD_Connection *c, const struct serve_err *e,
                                const char *hdr, const char *hdr_val) {
    struct json_buf b = {0};
    serve_err_json(e, &b);
    enum MHD_Result rc = b.oom ? MHD_NO : send_json(c, e->status, b.p, b.len, hdr, hdr_val);
    free(b.p);
    return rc;
}

/* The constant-time comparison of the Authorization header with "Bearer KEY". */
static int auth_ok(const struct serve *s, struct MHD_Connection *c) {
    if (!s->api_key)
        return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    const size_t n = strlen(h), k = strlen(s->api_key);
    unsigned char diff = n != k;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(h[i] ^ s->api_key[i % (k ? k : 1)]);
    return diff == 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    struct job *j = cls;
    pthread_mutex_lock(&j->mu);
    int gone = 0;
    while (j->sent == j->body.len && !j->done && !gone)
        gone = job_wait_locked(j);
    ssize_t n;
    if (j->sent < j->body.len && !gone) {
        size_t k = j->body.len - j->sent < max ? j->body.len - j->sent : max;
        memcpy(buf, j->body.p + j->sent, k);
        j->sent += k;
        n = (ssize_t)k;
    } else {
        n = j->done ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    pthread_mutex_unlock(&j->mu);
    return n;
}

static void stream_free(void *cls) {
    struct job *j = cls;
    j->cancel = 1; /* a no-op when it ended; else the client is gone */
    job_unref(j);
}

static enum MHD_Result handle_post(struct serve *s, struct MHD_Connection *c, struct conn *cs) {
    struct serve_err e;
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        serve_err_set(&e, 500, "server_error", NULL, NULL, "out of memory");
        return send_err(c, &e, NULL, NULL);
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->srv = s;
    j->refs = 1;
    j->conn_fd = -1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        j->conn_fd = ci->connect_fd;
    enum MHD_Result rc;
    j->set = s->set;
    if (serve_req_parse(cs->kind, cs->body.p ? cs->body.p : "", cs->body.len, &s->set.sample,
                        s->set.n_predict, &j->req, &e) != 0) {
        rc = send_err(c, &e, NULL, NULL);
        job_unref(j);
        return rc;
    }
    j->set.sample = j->req.sample;
    j->set.n_predict = j->req.n_predict;
    if (j->req.think >= 0)
        j->set.think = j->req.think;
    if (job_prompt(s, j, &e) != 0) {
        rc = send_err(c, &e, NULL, NULL);
        job_unref(j);
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    serve_out_init(&j->out, j->req.kind, s->model_name, ++s->seq);
    pthread_mutex_unlock(&s->mu);
    if (j->req.stream && j->req.kind == SERVE_CHAT)
        serve_out_chunk_role(&j->body, &j->out);
    j->refs = 2;
    const int q = serve_enqueue(s, j);
    if (q != 0) {
        j->refs = 1;
        serve_err_set(&e, 503, "server_error", NULL, "server_busy", q == -2
                      ? "the server is shutting down"
                      : "all %d contexts are busy and %d requests wait: try again later",
                      s->n_slots, s->p.queue_max);
        rc = send_err(c, &e, "Retry-After", "1");
        job_unref(j);
        return rc;
    }
    if (j->req.stream) {
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
                                                                   stream_read, j, stream_free);
        if (!r) {
            j->cancel = 1;
            job_unref(j);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        rc = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    pthread_mutex_lock(&j->mu);
    int gone = 0;
    while (!j->done && !gone)
        gone = job_wait_locked(j);
    if (j->done && !j->body.oom)
        rc = send_json(c, j->status, j->body.p ? j->body.p : "", j->body.len, NULL, NULL);
    else
        rc = MHD_NO; /* the client is gone: close the connection */
    pthread_mutex_unlock(&j->mu);
    job_unref(j);
    return rc;
}

static enum MHD_Result serve_handle(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    struct serve *s = cls;
    struct serve_err e;
    struct conn *cs = *con_cls;
    if (cs && cs->responded) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (!cs) { /* the headers: route, method, key, size */
        if (!(cs = calloc(1, sizeof *cs)))
            return MHD_NO;
        *con_cls = cs;
        atomic_fetch_add(&s->in_flight, 1); /* until serve_completed: the stop waits for it */
        cs->responded = 1; /* unless it goes on to read the body */
        static const struct {
            const char *path, *method;
            int kind; /* enum serve_kind for POST routes, -1 GET /v1/models, -2 GET /health */
        } routes[] = {
            {"/v1/chat/completions", "POST", SERVE_CHAT},
            {"/chat/completions", "POST", SERVE_CHAT},
            {"/v1/completions", "POST", SERVE_COMPLETION},
            {"/completions", "POST", SERVE_COMPLETION},
            {"/v1/models", "GET", -1},
            {"/models", "GET", -1},
            {"/health", "GET", -2},
        };
        int found = -1;
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
            if (!strcmp(url, routes[i].path))
                found = (int)i;
        if (found < 0) {
            serve_err_set(&e, 404, "invalid_request_error", NULL, "not_found",
                          "no route %s %s (natter serves POST /v1/chat/completions, POST "
                          "/v1/completions, GET /v1/models, GET /health)", method, url);
            return send_err(c, &e, NULL, NULL);
        }
        if (strcmp(method, routes[found].method) != 0) {
            serve_err_set(&e, 405, "invalid_request_error", NULL, "method_not_allowed",
                          "%s takes %s, not %s", url, routes[found].method, method);
            return send_err(c, &e, MHD_HTTP_HEADER_ALLOW, routes[found].method);
        }
        if (routes[found].kind == -2)
            return send_json(c, 200, "{\"status\":\"ok\"}", 15, NULL, NULL);
        if (!auth_ok(s, c)) {
            const int given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")
                              != NULL;
            serve_err_set(&e, 401, "invalid_request_error", NULL, "invalid_api_key", given
                          ? "incorrect API key provided"
                          : "missing API key: send the header 'Authorization: Bearer KEY'");
            return send_err(c, &e, "WWW-Authenticate", "Bearer");
        }
        if (routes[found].kind == -1) {
            struct json_buf b = {0};
            serve_out_models(&b, s->model_name, (long long)time(NULL), s->n_ctx);
            enum MHD_Result rc = b.oom ? MHD_NO : send_json(c, 200, b.p, b.len, NULL, NULL);
            free(b.p);
            return rc;
        }
        cs->kind = routes[found].kind;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->p.max_body)
            cs->too_big = 1;
        cs->responded = cs->too_big;
        if (!cs->too_big)
            return MHD_YES;
    }
    if (*upload_size) { /* more of the body */
        if (cs->body.len + *upload_size > s->p.max_body)
            cs->too_big = 1;
        if (!cs->too_big)
            json_put(&cs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cs->too_big) {
        cs->responded = 1;
        serve_err_set(&e, 413, "invalid_request_error", NULL, "request_too_large",
                      "the request body is larger than %zu bytes (natter serve --max-body)",
                      s->p.max_body);
        return send_err(c, &e, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (cs->body.oom) {
        serve_err_set(&e, 500, "server_error", NULL, NULL, "out of memory");
        return send_err(c, &e, NULL, NULL);
    }
    return handle_post(s, c, cs);
}

static void serve_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe) {
    (void)c, (void)toe;
    struct serve *s = cls;
    struct conn *cs = *con_cls;
    if (cs) {
        free(cs->body.p);
        free(cs);
        *con_cls = NULL;
        atomic_fetch_sub(&s->in_flight, 1);
    }
}

/* ---- start and stop ---- */

static void serve_free(struct serve *s) {
    if (s->slots) {
        pthread_mutex_lock(&s->mu);
        s->quit = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->n_slots; i++) {
            struct slot *sl = &s->slots[i];
            if (sl->started)
                pthread_join(sl->th, NULL);
            backend_free(sl->be);
            eng_ctx_free(sl->ctx);
            if (sl->pfd[0] >= 0) {
                close(sl->pfd[0]);
                close(sl->pfd[1]);
            }
        }
    }
    free(s->slots);
    free(s->queue);
    free(s->model_name);
    free(s->api_key);
    pthread_mutex_destroy(&s->render_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static int serve_listen(struct serve *s, char *err, size_t err_len) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", s->p.port);
    int g = getaddrinfo(s->p.host, port, &hints, &ai);
    if (g != 0) {
        snprintf(err, err_len, "--host %s: %s", s->p.host, gai_strerror(g));
        return -1;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    errno = 0;
    s->d = MHD_start_daemon(flags, (uint16_t)s->p.port, NULL, NULL, serve_handle, s,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_NOTIFY_COMPLETED, serve_completed, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)(64 + s->p.queue_max),
                            MHD_OPTION_CONNECTION_TIMEOUT, 60u, /* an idle or stalled client */
                            MHD_OPTION_END);
    const int e = errno;
    freeaddrinfo(ai);
    if (!s->d) {
        snprintf(err, err_len, "cannot listen on %s port %d: %s", s->p.host, s->p.port,
                 e ? strerror(e) : "libmicrohttpd refused to start");
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->p.port;
    return 0;
}

int serve_start(eng_model *m, chat_prompt *cp, const struct serve_params *p, struct serve **out,
                char *err, size_t err_len) {
    *out = NULL;
    struct serve *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->render_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->model = m;
    s->cp = cp;
    s->p = *p;
    if (s->p.parallel < 1)
        s->p.parallel = 1;
    if (s->p.queue_max < 1)
        s->p.queue_max = 1;
    s->p.host = p->host && *p->host ? p->host : "127.0.0.1";
    s->model_name = strdup(p->model_name ? p->model_name : "natter");
    s->api_key = p->api_key && *p->api_key ? strdup(p->api_key) : NULL;
    s->queue = calloc((size_t)s->p.queue_max, sizeof *s->queue);
    s->slots = calloc((size_t)s->p.parallel, sizeof *s->slots);
    if (!s->model_name || (p->api_key && *p->api_key && !s->api_key) || !s->queue ||
        !s->slots) {
        snprintf(err, err_len, "out of memory");
        serve_free(s);
        return -1;
    }
    s->set = p->set;
    s->n_slots = s->p.parallel;
    for (int i = 0; i < s->n_slots; i++)
        s->slots[i].pfd[0] = s->slots[i].pfd[1] = -1;
    for (int i = 0; i < s->n_slots; i++) {
        struct slot *sl = &s->slots[i];
        sl->srv = s;
        struct eng_ctx_params cxp = eng_ctx_default_params();
        opts_to_params(&s->set, NULL, &cxp);
        int rc = eng_ctx_new(m, &cxp, &sl->ctx);
        if (rc != ENG_OK) {
            snprintf(err, err_len, "context %d: %s", i + 1, eng_last_error());
            serve_free(s);
            return -1;
        }
        struct backend_engine_params bp = {m, sl->ctx, NULL, cp, NULL, NULL};
        if (backend_engine_new(&bp, &sl->be, err, err_len) != 0) {
            serve_free(s);
            return -1;
        }
        if (pipe(sl->pfd) != 0) {
            sl->pfd[0] = sl->pfd[1] = -1;
            snprintf(err, err_len, "pipe: %s", strerror(errno));
            serve_free(s);
            return -1;
        }
        if (pthread_create(&sl->th, NULL, slot_main, sl) != 0) {
            snprintf(err, err_len, "cannot start a worker thread");
            serve_free(s);
            return -1;
        }
        sl->started = 1;
    }
    s->n_ctx = eng_ctx_n_ctx(s->slots[0].ctx);
    s->mk = backend_markers(s->slots[0].be);
    if (serve_listen(s, err, err_len) != 0) {
        serve_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int serve_port(const struct serve *s) { return s->port; }

static int slots_busy_locked(const struct serve *s) {
    int n = 0;
    for (int i = 0; i < s->n_slots; i++)
        n += s->slots[i].job != NULL;
    return n;
}

void serve_stop(struct serve *s, int grace_ms) {
    if (!s)
        return;
    MHD_socket ls = MHD_quiesce_daemon(s->d); /* no new connections */
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    while (s->q_len > 0) { /* queued requests: 503 */
        struct job *j = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->p.queue_max;
        s->q_len--;
        struct serve_err e;
        serve_err_set(&e, 503, "server_error", NULL, "server_busy",
                      "the server is shutting down");
        pthread_mutex_lock(&j->mu);
        job_fail_locked(j, &e);
        pthread_mutex_unlock(&j->mu);
        job_unref(j);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += grace_ms / 1000;
    until.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (slots_busy_locked(s) &&
           pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT) {
    }
    for (int i = 0; i < s->n_slots; i++) /* past the grace: cancelled */
        if (s->slots[i].job)
            s->slots[i].job->cancel = 1;
    while (slots_busy_locked(s))
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    /* the generations are over, but their last bytes ([DONE], a whole body) may still be on
     * the way out: stopping the daemon now would cut them off; 2 s at most */
    for (int i = 0; i < 200 && atomic_load(&s->in_flight) > 0; i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    MHD_stop_daemon(s->d); /* joins the connection threads */
    serve_free(s);
}
